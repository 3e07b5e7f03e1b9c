import Foundation
import Testing

@testable import MixingLaws

/// The RegMix tables (laws.md §3) as mixture runs: mixture and loss files joined on `index`,
/// mixture rows renormalised to sum to 1, one named loss column as the target.
enum RegMixTables {
    static let pileCC = "metric/the_pile_pile_cc_val_loss"

    static func runs(mixtures mixtureFile: String, losses lossFile: String, target: String) throws -> MixtureRuns {
        let mixtures = try SharedData.csv("regmix/\(mixtureFile)")
        let losses = try SharedData.csv("regmix/\(lossFile)")
        let column = try #require(losses.header.firstIndex(of: target), "no column \(target) in \(lossFile)")
        let lossByIndex = Dictionary(uniqueKeysWithValues: losses.rows.map { ($0[0], Double($0[column])!) })
        var shares: [[Double]] = []
        var values: [[Double]] = []
        for row in mixtures.rows {
            let weights = row.dropFirst().map { Double($0)! }
            let total = weights.reduce(0, +)
            shares.append(weights.map { $0 / total })
            values.append([try #require(lossByIndex[row[0]], "run \(row[0]) of \(mixtureFile) has no loss")])
        }
        let domains = mixtures.header.dropFirst().map { $0.replacingOccurrences(of: "train_the_pile_", with: "") }
        return MixtureRuns(domains: Array(domains), mixtures: shares, targetNames: [target], targetLosses: values)
    }

    /// Spearman ρ × 100 between the model's predictions and the measured losses of `runs`.
    static func spearman(_ model: any MixtureLossModel, on runs: MixtureRuns) -> Double {
        100 * Correlation.spearman(runs.mixtures.map(model.loss), runs.losses(ofTarget: 0))
    }
}

/// `dml-power` on the RegMix runs: fitted on the 512 training runs only, judged by Spearman ρ × 100 on
/// the held-out 1M, 60M and 1B sets. LightGBM (laws.md §3.3) scores Pile-CC 98.92 / 98.49 / 96.51;
/// the bars below are the values this implementation measures minus a small margin.
@Suite struct RegMixPowerExponentialLawTests {
    static func fit(target: String, options: PowerExponentialLawFitter.Options = .init()) throws -> (FittedMixtureLaw, [String: Double]) {
        let train = try RegMixTables.runs(mixtures: "train_mixture_1m.csv", losses: "train_pile_loss_1m.csv", target: target)
        let fitted = try PowerExponentialLawFitter(options: options).fit(train)
        var scores: [String: Double] = [:]
        for (label, mixtures, losses) in [
            ("1M", "test_mixture_1m.csv", "test_pile_loss_1m.csv"), ("60M", "test_mixture_60m.csv", "test_pile_loss_60m.csv"),
            ("1B", "test_mixture_1B.csv", "test_pile_loss_1B.csv"),
        ] {
            let test = try RegMixTables.runs(mixtures: mixtures, losses: losses, target: target)
            scores[label] = RegMixTables.spearman(fitted.model, on: test)
        }
        return (fitted, scores)
    }

    @Test func pileCCRanksHeldOutMixturesBetterThanLightGBM() throws {
        let (fitted, scores) = try Self.fit(target: RegMixTables.pileCC)
        let oneM = try #require(scores["1M"]), sixtyM = try #require(scores["60M"]), oneB = try #require(scores["1B"])
        #expect(oneM >= 99.24)  // measured 99.54; LightGBM 98.92
        #expect(sixtyM >= 98.70)  // measured 99.00; LightGBM 98.49
        #expect(oneB >= 97.06)  // measured 97.36; LightGBM 96.51
        #expect(fitted.law == "dml-power")
        #expect(fitted.parameters.count == 1 + 2 * 2 * 17)
        #expect(fitted.parameters[0].name == "\(RegMixTables.pileCC).c")
        #expect(fitted.parameters[1].name == "\(RegMixTables.pileCC).k1.t.arxiv")
    }

    @Test(arguments: [
        ("arxiv", 99.75, 99.12, 98.89),  // LightGBM 99.60 / 98.88 / 98.55
        ("github", 99.77, 99.04, 98.83),  // LightGBM 99.77 / 99.05 / 97.75
        ("hackernews", 98.93, 98.10, 80.26),  // LightGBM 98.51 / 97.77 / 85.79: worse at 1B
    ])
    func otherTargetsKeepTheirMeasuredRanking(domain: String, oneM: Double, sixtyM: Double, oneB: Double) throws {
        let (_, scores) = try Self.fit(target: "metric/the_pile_\(domain)_val_loss")
        #expect(try #require(scores["1M"]) >= oneM - 0.3)
        #expect(try #require(scores["60M"]) >= sixtyM - 0.3)
        #expect(try #require(scores["1B"]) >= oneB - 0.3)
    }

    @Test func aFitIsAFunctionOfTheSeedAlone() throws {
        let train = try RegMixTables.runs(mixtures: "train_mixture_1m.csv", losses: "train_pile_loss_1m.csv", target: RegMixTables.pileCC)
        var options = PowerExponentialLawFitter.Options()
        options.starts = 2
        options.seed = 7
        let parallel = try PowerExponentialLawFitter(options: options).fit(train)
        options.parallel = false
        let serial = try PowerExponentialLawFitter(options: options).fit(train)
        #expect(parallel.parameters.map(\.value) == serial.parameters.map(\.value))
        #expect(parallel.objective == serial.objective)
        options.seed = 8
        let other = try PowerExponentialLawFitter(options: options).fit(train)
        #expect(other.parameters.map(\.value) != serial.parameters.map(\.value))
    }

    @Test func gradientMatchesCentralDifferencesOfTheFittedLaw() throws {
        let (fitted, _) = try Self.fit(target: RegMixTables.pileCC, options: { var o = PowerExponentialLawFitter.Options(); o.starts = 2; return o }())
        var random = SeededRandom(seed: 3)
        for _ in 0..<5 {
            let shares = random.nextDirichlet(Array(repeating: 1, count: 17))
            let gradient = try #require(fitted.model.gradient(shares))
            for j in 0..<17 {
                let h = 1e-6 * max(shares[j], 1e-3)
                var up = shares, down = shares
                up[j] += h
                down[j] -= h
                let numeric = (fitted.model.loss(up) - fitted.model.loss(down)) / (2 * h)
                #expect(abs(gradient[j] - numeric) <= 1e-5 * max(1, abs(numeric)), "domain \(j)")
            }
        }
        let corner = [1.0] + Array(repeating: 0.0, count: 16)
        #expect(try #require(fitted.model.gradient(corner)).allSatisfy(\.isFinite))
    }
}
