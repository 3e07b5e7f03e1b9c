import Foundation
public import MixLabAnalysis
public import MixLabCore
public import MixLabStore
import MixLabSweeps

/// Reads an online sweep from a store and compares its methods: what `mixlab sweep compare` shows,
/// answered by the coordinator or, with `--database`, read from the store directly.
public enum SweepComparison {
    /// Every run of the sweep with its method and budget/seed pair from its stored budget, and its
    /// final losses, compared on `domains` (empty: the objective's targets); grid's best run per
    /// pair is picked by the objective.
    ///
    /// - Throws: `StoreError` for an unknown sweep, ``MixLabInputError`` for a sweep without an
    ///   online method, a domain that is not one of its eval domains, or a run budget that does
    ///   not decode.
    public static func compare(sweep id: SweepID, in store: any MixLabStore, domains: [String]) async throws -> MethodComparison {
        guard let record = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
        let runtime = try SweepRuntime(specJSON: record.specJSON, record: record)
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
        let compared = try runs.map { run in
            let budget: BudgetSpec
            do {
                budget = try decoder.decode(BudgetSpec.self, from: Data(run.budgetJSON.utf8))
            } catch {
                throw MixLabInputError(
                    field: "run \(run.id) budget", problem: "cannot be read (\(error))",
                    fix: "compare with the MixLab version that submitted the sweep, or cancel the run")
            }
            // A run stored before runs named their method is an Aioli run (see SweepSpec.isOnlineRun).
            return ComparedRun(
                method: budget.mixingMethod ?? .aioli, pair: budget.comparisonPair, steps: budget.steps, tokens: budget.tokens,
                finalLosses: run.state == .succeeded ? finals[run.id] : nil)
        }
        return try MethodComparison.compare(
            runs: compared, measuredOn: MethodComparison.measurementWeights(objective: runtime.objective, domains: domains),
            selectedBy: runtime.objective)
    }
}

extension Coordinator {
    func compareMethods(in id: SweepID, domains: [String]) async throws -> MethodComparison {
        try await SweepComparison.compare(sweep: id, in: store, domains: domains)
    }
}
