import Foundation
import MixLabAnalysis
import MixingLaws

/// The demo's human-readable output: tables for the terminal, `mixture.yaml` and the SVG chart.
enum DemoReport {
    static func fitTable(_ laws: [DemoSummary.LawResult], runs: Int) -> String {
        var lines = [
            "",
            "Fits of the mean held-out loss (nats/byte), 5-fold cross-validation over the \(runs) runs:",
            "  law      train R²   held-out R²   held-out MAE",
        ]
        for law in laws {
            if let error = law.error {
                lines.append("  \(pad(law.law, 8)) no fit: \(error)")
                continue
            }
            lines.append("  \(pad(law.law, 8)) \(pad(number(law.trainR2, 3), 10)) \(pad(number(law.cvR2, 3), 13)) \(number(law.cvMAE, 4))")
        }
        return lines.joined(separator: "\n")
    }

    static func mixtureTable(_ law: DemoSummary.LawResult, domains: [String], bestRun: (id: String, loss: Double)?) -> String {
        let stratified = 1 / Double(domains.count)
        var lines = [
            "",
            "Recommended mixture (law \(law.law), lowest held-out error) vs stratified (equal shares):",
            "  domain   recommended   stratified",
        ]
        for domain in domains {
            lines.append("  \(pad(domain, 8)) \(pad(number(law.mixture?[domain], 4), 13)) \(number(stratified, 4))")
        }
        var predicted = "  predicted mean loss: \(number(law.predictedLoss, 4))"
        if let interval = law.predictedLossInterval, interval.count == 2 {
            predicted += " (90% bootstrap interval \(number(interval[0], 4))–\(number(interval[1], 4)))"
        }
        predicted += " vs stratified \(number(law.predictedStratifiedLoss, 4))"
        lines.append(predicted)
        if let bestRun { lines.append("  best proxy run measured: \(number(bestRun.loss, 4)) (\(bestRun.id))") }
        return lines.joined(separator: "\n")
    }

    static func verificationTable(_ verification: DemoSummary.Verification) -> String {
        var lines = ["", "Verification (measured mean held-out loss, same seeds and budget):", "  seed     recommended   stratified"]
        for (index, seed) in verification.seeds.enumerated() {
            lines.append("  \(pad("\(seed)", 8)) \(pad(number(verification.recommended[index], 4), 13)) \(number(verification.stratified[index], 4))")
        }
        lines.append("  mean     \(pad(number(verification.recommendedMean, 4), 13)) \(number(verification.stratifiedMean, 4))")
        lines.append("  the recommended mixture was better on \(verification.recommendedWins) of \(verification.seeds.count) seeds")
        return lines.joined(separator: "\n")
    }

    static func mixtureYAML(_ summary: DemoSummary, chosen: DemoSummary.LawResult) -> String {
        var lines = [
            "# The mixture `mixlab demo` recommends for the full run: law \(chosen.law), fitted by the coordinator",
            "# to sweep \(summary.sweepID) (\(summary.succeeded) ProxyLM runs on \(summary.corpus)).",
            "sweep: \(summary.sweepID)",
            "law: \(chosen.law)",
            "objective: mean held-out loss (nats/byte) over \(summary.domains.joined(separator: ", "))",
            "mixture:",
        ]
        for domain in summary.domains { lines.append("  \(domain): \(number(chosen.mixture?[domain], 4))") }
        lines.append("predicted_loss: \(number(chosen.predictedLoss, 5))")
        if let interval = chosen.predictedLossInterval, interval.count == 2 {
            lines.append("predicted_loss_interval_90: [\(number(interval[0], 5)), \(number(interval[1], 5))]")
        }
        lines.append("held_out_mae: \(number(chosen.cvMAE, 5))")
        lines.append("stratified:")
        lines.append("  mixture: {\(summary.domains.map { "\($0): \(number(1 / Double(summary.domains.count), 4))" }.joined(separator: ", "))}")
        lines.append("  predicted_loss: \(number(chosen.predictedStratifiedLoss, 5))")
        if let verification = summary.verification {
            lines.append("verification:")
            lines.append("  sweep: \(verification.sweepID)")
            lines.append("  seeds: [\(verification.seeds.map(String.init).joined(separator: ", "))]")
            lines.append("  recommended_mean_loss: \(number(verification.recommendedMean, 5))")
            lines.append("  stratified_mean_loss: \(number(verification.stratifiedMean, 5))")
            lines.append("  recommended_wins: \(verification.recommendedWins)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Held-out (leave-one-run-out) predictions of every fitted law against the measured loss, and
    /// the measured loss against each domain's share with the recommendation marked.
    static func chart(_ loaded: LoadedMixtureRuns, laws: [DemoSummary.LawResult], chosen: DemoSummary.LawResult) throws -> String {
        let runs = loaded.runs
        let measured = runs.aggregatedLosses
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]
        var predictionSeries: [ScatterPanel.Series] = []
        for (index, law) in laws.enumerated() where law.mixture != nil {
            guard let fitter = LawCatalog.mixtureLaw(named: law.law) else { continue }
            let predicted = leaveOneOutPredictions(fitter, runs: runs)
            predictionSeries.append(
                .init(name: law.law, colour: colours[index % colours.count], points: zip(measured, predicted).map { (x: $0, y: $1) }))
        }
        var panels = [
            ScatterPanel(
                title: "Held-out prediction (leave one run out)", xLabel: "measured mean loss (nats/byte)",
                yLabel: "predicted mean loss", series: predictionSeries, diagonal: true)
        ]
        for (j, domain) in runs.domains.enumerated() {
            var series = [
                ScatterPanel.Series(name: "proxy runs", colour: "#555555", points: zip(runs.mixtures, measured).map { (x: $0[j], y: $1) })
            ]
            if let share = chosen.mixture?[domain], let loss = chosen.predictedLoss {
                series.append(.init(name: "recommended (\(chosen.law), predicted)", colour: "#d62728", points: [(x: share, y: loss)], radius: 6))
            }
            panels.append(ScatterPanel(title: "Loss vs share of \(domain)", xLabel: "share of \(domain)", yLabel: "measured mean loss", series: series))
        }
        return SVGChart.render(title: "MixLab demo: \(runs.count) proxy runs", panels: panels, columns: 3)
    }

    /// Each run's loss predicted by the law fitted to all other runs (NaN where that fit fails).
    static func leaveOneOutPredictions(_ fitter: any MixtureLawFitter, runs: MixtureRuns) -> [Double] {
        runs.mixtures.indices.map { held in
            let keep = runs.mixtures.indices.filter { $0 != held }
            let training = MixtureRuns(
                domains: runs.domains, mixtures: keep.map { runs.mixtures[$0] }, targetNames: runs.targetNames,
                targetLosses: keep.map { runs.targetLosses[$0] }, targetWeights: runs.targetWeights)
            guard let fit = try? fitter.fit(training) else { return .nan }
            return fit.model.loss(runs.mixtures[held])
        }
    }

    static func number(_ value: Double?, _ decimals: Int) -> String {
        guard let value, value.isFinite else { return "–" }
        return String(format: "%.\(decimals)f", value)
    }

    static func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
}
