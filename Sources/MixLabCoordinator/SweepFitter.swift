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
            for name in runtime.laws {
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
}
