import Foundation
import Logging
import MixLabAnalysis
import MixLabCore
import MixingLaws
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
        guard let runtime else { return }
        if runtime.online?.method == "aioli" { await recordLearnedProportions(sweep, runtime: runtime) }
        guard !runtime.laws.isEmpty else { return }
        do {
            var export = try await SweepExport.make(sweep: sweep, from: store)
            if runtime.online != nil {
                // An online run's stored shares are only where it started: laws see the static
                // (`online.compare`) runs alone.
                let online = Set(try await store.runs(in: sweep).filter { runtime.isOnline(budgetJSON: $0.budgetJSON) }.map(\.id.rawValue))
                func staticRows(_ table: CSVTable) -> CSVTable {
                    CSVTable(source: table.source, header: table.header, rows: table.rows.filter { !online.contains($0.first ?? "") })
                }
                export.ratios = staticRows(export.ratios)
                export.metrics = staticRows(export.metrics)
            }
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
                    // Folds hold out whole mixtures: runs repeating a mixture (seeds, baselines) stay together.
                    let mixtures = Set(loaded.runs.mixtures).count
                    let fitted = try FitAnalysis.fitMixtureLaw(law, train: loaded, test: nil, folds: mixtures >= 2 ? min(5, mixtures) : nil, seed: 0)
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
            // Online runs change their ratio as they train: only static runs have the `r` they store.
            for run in runs where run.state == .succeeded && !runtime.isOnline(budgetJSON: run.budgetJSON) {
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

    /// Aioli's transfer setting: the proportions each run ended with (its last main segment),
    /// averaged over the succeeded runs, stored as the sweep's `aioli` recommendation, so
    /// `mixlab sweep mixture ID` gives the mixture to train a full run with. Aioli fits no law:
    /// the loss stored with it is the runs' measured mean final objective, and the report says so.
    private func recordLearnedProportions(_ sweep: SweepID, runtime: SweepRuntime) async {
        do {
            let runs = try await store.runs(in: sweep).filter { $0.state == .succeeded }
            let finalLosses = SweepExport.finalLosses(runs: runs, evals: try await store.evals(in: sweep))
            let decoder = JSONDecoder()
            var finals: [[Double]] = []
            var objectives: [Double] = []
            var perRun: [(String, ReportValue)] = []
            for run in runs {
                let decisions = try await store.onlineDecisions(run: run.id, attempt: run.attempt)
                let mains = decisions.compactMap { try? decoder.decode(AioliDecision.self, from: Data($0.decisionJSON.utf8)).segment }
                    .filter { $0.kind == .main }
                guard let last = mains.last, last.mixture.count == runtime.domains.count else { continue }
                finals.append(last.mixture)
                perRun.append((run.id.rawValue, .object(zip(runtime.domains, last.mixture).map { ($0, .number($1)) })))
                let losses = finalLosses[run.id] ?? [:]
                if runtime.objective.keys.allSatisfy({ losses[$0] != nil }) {
                    let weight = runtime.objective.values.reduce(0, +)
                    objectives.append(runtime.objective.reduce(0) { $0 + $1.value * losses[$1.key]! } / weight)
                }
            }
            guard !finals.isEmpty, !objectives.isEmpty else {
                throw MixLabInputError(field: "online", problem: "no run of the sweep finished an Aioli round", fix: "check the runs' logs")
            }
            let mean = runtime.domains.indices.map { j in finals.map { $0[j] }.reduce(0, +) / Double(finals.count) }
            let measured = objectives.reduce(0, +) / Double(objectives.count)
            let report = ReportValue.object([
                ("law", .string("aioli")),
                ("mixture", .object(zip(runtime.domains, mean).map { ($0, .number($1)) })),
                ("predicted_loss", .number(measured)),
                ("predicted_loss_is", .string("the mean final objective the Aioli runs measured; Aioli fits no law")),
                ("runs", .integer(finals.count)),
                ("per_run", .object(perRun)),
                ("use", .string("the mean of each run's last main-segment proportions: train a full run with it (Aioli's transfer setting)")),
            ])
            try await store.recordRecommendation(
                RecommendationRecord(sweep: sweep, law: "aioli", shares: mean, predictedLoss: measured, reportJSON: report.json()))
            logger.info("aioli proportions recorded", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.runs": "\(finals.count)"])
        } catch {
            logger.warning("recording the Aioli proportions failed", metadata: ["mixlab.sweep": "\(sweep)", "mixlab.error": "\(error)"])
            try? await store.recordEvent(sweep: sweep, run: nil, kind: "fit_failed", detail: "aioli: \(error)")
        }
    }
}
