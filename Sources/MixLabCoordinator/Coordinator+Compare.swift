import Foundation
import MixLabAnalysis
import MixLabCore
import MixLabStore
import MixLabSweeps

extension Coordinator {
    /// Aioli against its `online.compare` baselines: every run of the sweep with its method and
    /// budget/seed pair from its stored budget, and its final losses, compared on `domains` (empty:
    /// the objective's targets); grid's best run per pair is picked by the objective.
    func compareMethods(in id: SweepID, domains: [String]) async throws -> MethodComparison {
        guard let record = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
        let runtime = try await runtime(of: id)
        guard runtime.online != nil else {
            throw MixLabInputError(
                field: "sweep \(id)", problem: "has no online method, so there are no methods to compare",
                fix: "submit a spec with `online: {method: aioli, compare: {stratified: true, grid: 10}}`")
        }
        for domain in domains where !record.evalDomains.contains(domain) {
            throw MixLabInputError(
                field: "domains", problem: "`\(domain)` is not an eval domain of sweep \(id)", fix: "use some of \(record.evalDomains.joined(separator: ", "))")
        }
        let runs = try await store.runs(in: id)
        let finals = SweepExport.finalLosses(runs: runs, evals: try await store.evals(in: id))
        let decoder = JSONDecoder()
        let compared = runs.map { run in
            let budget = try? decoder.decode(BudgetSpec.self, from: Data(run.budgetJSON.utf8))
            return ComparedRun(
                method: budget?.mixingMethod ?? .aioli, pair: budget?.comparisonPair ?? run.budgetJSON, steps: budget?.steps,
                finalLosses: run.state == .succeeded ? finals[run.id] : nil)
        }
        return try MethodComparison.compare(
            runs: compared, measuredOn: MethodComparison.measurementWeights(objective: runtime.objective, domains: domains),
            selectedBy: runtime.objective)
    }
}
