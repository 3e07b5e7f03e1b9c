import Foundation
@testable import MixingLaws

/// Readers for the published mixing-law run tables (shared/data/mixinglaws and regmix), shaped
/// as the fitters take them.
enum MixtureLawFixtures {
    /// `raw/valid_weight.json`: each Pile subset's share of the Pile validation set.
    static func validWeights() throws -> [String: Double] {
        let data = Data(try SharedData.text("mixinglaws/raw/valid_weight.json").utf8)
        return try JSONDecoder().decode([String: Double].self, from: data)
    }

    /// The 5Mix Pile groups (mixinglaws README), in training-column order.
    static let fiveMixGroups: [(name: String, subsets: [String])] = [
        ("academic", ["ArXiv", "PubMed_Abstracts", "PhilPapers", "NIH_ExPorter", "FreeLaw", "USPTO_Backgrounds", "PubMed_Central"]),
        ("prose", ["PG19", "Books3", "BookCorpus2"]),
        ("dialogue", ["Ubuntu_IRC", "OpenSubtitles", "EuroParl", "Enron_Emails", "HackerNews", "YoutubeSubtitles"]),
        ("symbolic", ["DM_Mathematics", "Github"]),
        ("internet", ["Pile-CC", "OpenWebText2", "StackExchange", "Wikipedia_en"]),
    ]

    /// 5Mix runs of one model at one step: group losses are valid_weight-weighted means of their
    /// subsets; target weights are the groups' shares of the validation set.
    static func fiveMix(model: String, step: Int) throws -> MixtureRuns {
        let table = try SharedData.csv("mixinglaws/5Mix.csv")
        let column = { (name: String) in table.header.firstIndex(of: name)! }
        let shareColumns = fiveMixGroups.map { column("p_\($0.name)") }
        let weights = try validWeights()
        var byRun: [Int: (shares: [Double], losses: [String: Double])] = [:]
        for row in table.rows where row[column("model")] == model && Int(row[column("step")]) == step {
            let run = Int(row[column("run_id")])!
            var entry = byRun[run] ?? (shareColumns.map { Double(row[$0])! }, [:])
            entry.losses[row[column("valid_domain")]] = Double(row[column("loss")])!
            byRun[run] = entry
        }
        let runs = byRun.keys.sorted().filter { $0 < 900 }
        let groupWeights = fiveMixGroups.map { group in group.subsets.reduce(0) { $0 + weights[$1]! } }
        let losses = runs.map { run in
            fiveMixGroups.map { group in
                let total = group.subsets.reduce(0) { $0 + weights[$1]! }
                return group.subsets.reduce(0) { $0 + weights[$1]! * byRun[run]!.losses[$1]! } / total
            }
        }
        return MixtureRuns(
            domains: fiveMixGroups.map(\.name), mixtures: runs.map { byRun[$0]!.shares }, targetNames: fiveMixGroups.map(\.name),
            targetLosses: losses, targetWeights: groupWeights)
    }

    /// 2Mix (Github/Pile-CC) points of one model, step and validation domain: `(Github share,
    /// Pile-CC share, loss)` per run.
    static func twoMix(model: String, step: Int, validation: String) throws -> [(github: Double, pileCC: Double, loss: Double)] {
        let table = try SharedData.csv("mixinglaws/2Mix.csv")
        let column = { (name: String) in table.header.firstIndex(of: name)! }
        return table.rows
            .filter { $0[column("model")] == model && Int($0[column("step")]) == step && $0[column("valid_domain")] == validation }
            .map { (Double($0[column("p_Github")])!, Double($0[column("p_PileCC")])!, Double($0[column("loss")])!) }
    }

    /// Continual pre-training: valid_weight-weighted Pile loss at `step` for every run, keyed by
    /// the Pile share, and the same loss of the starting checkpoint.
    static func continualTraining(step: Int) throws -> (runs: [(pileShare: Double, loss: Double)], base: Double) {
        let weights = try validWeights()
        let table = try SharedData.csv("mixinglaws/ct.csv")
        let column = { (name: String) in table.header.firstIndex(of: name)! }
        var byShare: [Double: Double] = [:]
        for row in table.rows where Int(row[column("step")]) == step {
            guard let weight = weights[row[column("valid_domain")]] else { continue }
            byShare[Double(row[column("p_Pile")])!, default: 0] += weight * Double(row[column("loss")])!
        }
        let base = try SharedData.csv("mixinglaws/ct_base_checkpoint.csv")
        let baseLoss = base.rows.reduce(0.0) { sum, row in sum + (weights[row[1]] ?? 0) * Double(row[2])! }
        return (byShare.keys.sorted().map { ($0, byShare[$0]!) }, baseLoss)
    }

    static let regmixTarget = "metric/the_pile_pile_cc_val_loss"

    /// A RegMix mixture file joined with its loss file on `index`; rows renormalised to sum 1.
    static func regmix(mixtures: String, losses: String, target: String = regmixTarget) throws -> MixtureRuns {
        let shares = try SharedData.csv("regmix/\(mixtures)")
        let metrics = try SharedData.csv("regmix/\(losses)")
        let targetColumn = metrics.header.firstIndex(of: target)!
        var lossByIndex: [String: Double] = [:]
        for row in metrics.rows { lossByIndex[row[0]] = Double(row[targetColumn])! }
        let rows = shares.rows.map { row -> [Double] in
            let values = row.dropFirst().map { Double($0)! }
            let sum = values.reduce(0, +)
            return values.map { $0 / sum }
        }
        return MixtureRuns(
            domains: shares.header.dropFirst().map { String($0.dropFirst("train_the_pile_".count)) }, mixtures: rows,
            targetNames: ["pile_cc"], targetLosses: shares.rows.map { [lossByIndex[$0[0]]!] })
    }

    static func regmixTrain() throws -> MixtureRuns { try regmix(mixtures: "train_mixture_1m.csv", losses: "train_pile_loss_1m.csv") }

    /// The three RegMix test sets: 1M, 60M (same mixtures) and 1B models.
    static func regmixTests() throws -> [(name: String, runs: MixtureRuns)] {
        [("1M", try regmix(mixtures: "test_mixture_1m.csv", losses: "test_pile_loss_1m.csv")),
         ("60M", try regmix(mixtures: "test_mixture_60m.csv", losses: "test_pile_loss_60m.csv")),
         ("1B", try regmix(mixtures: "test_mixture_1B.csv", losses: "test_pile_loss_1B.csv"))]
    }

    /// The `dml` fit on the RegMix training runs, computed once for every suite that needs it.
    static let regmixDML = Result { try ExponentialLawFitter().fit(try regmixTrain()) }

    /// Spearman ρ × 100 of a fitted law's predictions against the measured aggregated loss.
    static func spearman100(_ law: FittedMixtureLaw, on runs: MixtureRuns) -> Double {
        100 * Correlation.spearman(runs.mixtures.map { law.predict($0) }, runs.aggregatedLosses)
    }
}

/// Noiseless runs from known laws, for recovery tests.
enum SyntheticMixtures {
    static let domains = ["web", "code", "math"]

    /// `count` Dirichlet(1,1,1) mixtures plus the three vertices.
    static func shares(count: Int, seed: UInt64 = 7) -> [[Double]] {
        var random = SeededRandom(seed: seed)
        return [[1, 0, 0], [0, 1, 0], [0, 0, 1]] + (0..<count).map { _ in random.nextDirichlet([1, 1, 1]) }
    }

    /// Two targets from `c + k·exp(t·r)` laws (t in the gauge Σ t = 0), weights 0.7 / 0.3.
    static let truth = [
        ExponentialMixtureModel.Term(c: 2.1, logK: Foundation.log(0.6), t: [-1.5, 0.5, 1.0], weight: 0.7),
        ExponentialMixtureModel.Term(c: 1.2, logK: Foundation.log(0.9), t: [0.4, -2.2, 1.8], weight: 0.3),
    ]

    static func exponentialRuns(count: Int = 30) -> MixtureRuns {
        let rows = shares(count: count)
        return MixtureRuns(
            domains: domains, mixtures: rows, targetNames: ["web_val", "code_val"],
            targetLosses: rows.map { r in truth.map { $0.loss(r) } }, targetWeights: truth.map(\.weight))
    }
}
