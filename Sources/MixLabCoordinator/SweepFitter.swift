import Foundation
import Logging
import MixLabAnalysis
import MixLabCore
import MixLabStore

/// Fits a completed sweep's laws to its final per-domain losses and stores each fit and the
/// recommended mixture, so `mixlab sweep show`/`mixture` can answer without refitting.
struct SweepFitter: Sendable {
    let store: any MixLabStore
    let logger: Logger

    /// Fits every law the sweep names (again after runs were added: fits are kept as a history and
    /// the newest one answers); a law that cannot be fitted (too few runs, a scaling law
    /// on a mixture-only sweep) is recorded as an event with the reason, never as a crash.
    func fitCompletedSweep(_ sweep: SweepID, runtime: SweepRuntime?) async {
        guard let runtime, !runtime.laws.isEmpty else { return }
        do {
            let export = try await SweepExport.make(sweep: sweep, from: store)
            let targets = runtime.objective.sorted { $0.key < $1.key }.map { TargetSelection(column: "eval_\($0.key)", weight: $0.value) }
            let scalingNames = Set(LawCatalog.scalingLaws.map(\.name))
            for name in runtime.laws where scalingNames.contains(name) {
                await fitScalingLaw(name, sweep: sweep, runtime: runtime)
            }
            for name in runtime.laws where !scalingNames.contains(name) {
                do {
                    guard let law = LawCatalog.mixtureLaw(named: name) else {
                        throw MixLabInputError(field: "laws", problem: "\(name) is not a mixture law that can be fitted from a sweep's final losses", fix: "use one of \(LawCatalog.mixtureLaws.map(\.name).joined(separator: ", "))")
                    }
                    let loaded = try RunTableReader.mixtureRuns(ratios: export.ratios, metrics: export.metrics, targets: targets)
                    let fitted = try FitAnalysis.fitMixtureLaw(law, train: loaded, test: nil, folds: min(5, loaded.runs.count), seed: 0)
                    try await store.recordFit(FitRecord(sweep: sweep, law: name, reportJSON: fitted.report.json()))
                    var request = MixtureRequest()
                    request.bootstrapResamples = 50
                    let recommendation = try MixtureRecommendation.recommend(law: law, runs: loaded, request: request)
                    var shares: [Double] = []
                    if case .object(let mixture)? = recommendation["mixture"] {
                        shares = mixture.map { if case .number(let value) = $0.1 { value } else { 0 } }
                    }
                    var predicted = Double.nan
                    if case .number(let value)? = recommendation["predicted_loss"] { predicted = value }
                    try await store.recordRecommendation(
                        RecommendationRecord(
                            sweep: sweep, law: name, shares: shares, predictedLoss: predicted, reportJSON: recommendation.json()))
                    logger.info("sweep fitted", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.law": "\(name)"])
                } catch {
                    logger.warning("fit failed", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.law": "\(name)", "mixlab.error": "\(error)"])
                    try await store.recordEvent(sweep: sweep, run: nil, kind: "fit_failed", detail: "\(name): \(error)")
                }
            }
        } catch {
            logger.error("fitting the completed sweep failed", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.error": "\(error)"])
        }
    }

    /// Fits a D-CPT-shaped law twice, to the general and to the domain eval loss at every stored
    /// checkpoint of the succeeded runs (N from the budget's `model_size`, D the tokens of the
    /// eval, r the share of that eval's corpus), and stores both fits.
    private func fitScalingLaw(_ name: String, sweep: SweepID, runtime: SweepRuntime) async {
        do {
            guard let targets = runtime.dcpt else {
                throw MixLabInputError(
                    field: "laws", problem: "\(name) needs runs at several model sizes, token counts and ratios",
                    fix: "use `design: {kind: dcpt, …}` for a scaling law, or a mixture law such as dml")
            }
            guard let domainIndex = runtime.domains.firstIndex(of: targets.domain) else {
                throw MixLabInputError(field: "design.domain", problem: "\(targets.domain) is not a domain of the sweep", fix: "name one of \(runtime.domains)")
            }
            let runs = try await store.runs(in: sweep)
            let evals = Dictionary(grouping: try await store.evals(in: sweep), by: \.run)
            var points: [DCPTSweepAnalysis.RunPoints] = []
            for run in runs where run.state == .succeeded {
                guard let budget = try? JSONSerialization.jsonObject(with: Data(run.budgetJSON.utf8)) as? [String: Any],
                    let size = (budget["model_size"] as? NSNumber)?.doubleValue
                else { continue }
                let current = (evals[run.id] ?? []).filter { $0.attempt == run.attempt }.sorted { $0.step < $1.step }
                points.append(
                    DCPTSweepAnalysis.RunPoints(
                        modelSize: size, domainShare: run.shares[domainIndex],
                        evals: current.map { (tokens: Double($0.tokens), domain: $0.domain, loss: $0.loss) }))
            }
            let data = DCPTSweepAnalysis.datasets(points, general: targets.general, domain: targets.domain)
            for (role, evalDomain, dataset) in [("general", targets.general, data.general), ("domain", targets.domain, data.domain)] {
                // Cross-validation folds hold out whole runs: rows with the same N and r.
                let runCount = Set((0..<dataset.count).map { index -> [Double] in
                    let row = Array(dataset.row(index))
                    return [row[0], row[2]]
                }).count
                let report = try ScalingLawDispatch.fit(name, data: dataset, folds: runCount >= 4 ? min(5, runCount) : nil, seed: 0)
                guard case .object(var pairs) = report else { continue }
                pairs.insert(("role", .string(role)), at: 1)
                pairs.insert(("eval_domain", .string(evalDomain)), at: 2)
                pairs.append(("fitted_range", DCPTSweepAnalysis.rangeReport(dataset)))
                try await store.recordFit(FitRecord(sweep: sweep, law: name, reportJSON: ReportValue.object(pairs).json()))
                logger.info("sweep fitted", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.law": "\(name)", "mixlab.role": "\(role)"])
            }
        } catch {
            logger.warning("fit failed", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.law": "\(name)", "mixlab.error": "\(error)"])
            try? await store.recordEvent(sweep: sweep, run: nil, kind: "fit_failed", detail: "\(name): \(error)")
        }
    }
}
