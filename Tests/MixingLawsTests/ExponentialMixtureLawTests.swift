import Foundation
import Testing
@testable import MixingLaws

@Suite struct ExponentialMixtureLawTests {
    /// laws.md A5: 5Mix, 70M, step 30k, one exponential law per group on all 26 mixtures,
    /// Huber δ 0.05; in-sample MAE per group as reproduced with scipy.
    @Test func fiveMixGroupMAEMatchesReference() throws {
        let runs = try MixtureLawFixtures.fiveMix(model: "70M", step: 30000)
        #expect(runs.count == 26)
        var options = ExponentialLawFitter.Options()
        options.huberDelta = 0.05
        let fits = try ExponentialLawFitter(options: options).fitTargets(runs)
        let expected = ["academic": 0.0282, "prose": 0.0119, "dialogue": 0.0261, "symbolic": 0.0150, "internet": 0.0097]
        let expectedC = ["academic": 2.6513, "prose": 3.5343, "dialogue": 3.1191, "symbolic": 1.6080, "internet": 3.4563]
        for (target, fit) in fits.enumerated() {
            let name = runs.targetNames[target]
            let data = LawDataset(featureNames: runs.domains, rows: runs.mixtures, losses: runs.losses(ofTarget: target))
            let mae = fit.metrics(on: data).mae
            let c = try #require(fit.parameter("\(name).c"))
            print("A5 \(name): MAE \(mae) c \(c) objective \(fit.objective) starts near best \(fit.startsNearBest)/\(fit.startsPolished)")
            #expect(abs(mae - expected[name]!) <= 0.002, "\(name): MAE \(mae), expected \(expected[name]!) ± 0.002")
            #expect(abs(c - expectedC[name]!) <= 0.01, "\(name): c \(c), expected \(expectedC[name]!)")
            // the own-domain coefficient is by far the most negative (mixinglaws README)
            let t = runs.domains.map { fit.parameter("\(name).t.\($0)")! }
            #expect(t.firstIndex(of: t.min()!) == target)
        }
    }

    /// laws.md A6: fitted on the 512 RegMix training mixtures, the law ranks the held-out
    /// mixtures' Pile-CC losses (anchors: ≥ 96 on the 1M set, ≥ 98 on the 1B set).
    @Test func regmixRankCorrelation() throws {
        let law = try MixtureLawFixtures.regmixDML.get()
        var rho: [String: Double] = [:]
        for (name, runs) in try MixtureLawFixtures.regmixTests() {
            rho[name] = MixtureLawFixtures.spearman100(law, on: runs)
            print("A6 dml Spearman×100 \(name): \(rho[name]!)")
        }
        #expect(rho["1M"]! >= 96)
        #expect(rho["60M"]! >= 95)
        #expect(rho["1B"]! >= 98)
    }

    /// Noiseless data from two known laws: predictions and gauge-fixed parameters come back.
    @Test func recoversKnownLaws() throws {
        let runs = SyntheticMixtures.exponentialRuns()
        let law = try ExponentialLawFitter().fit(runs)
        #expect(law.law == "dml")
        #expect(try #require(law.objective) < 1e-16)
        let value = { (name: String) in law.parameters.first { $0.name == name }!.value }
        for (name, truth) in zip(runs.targetNames, SyntheticMixtures.truth) {
            #expect(abs(value("\(name).c") - truth.c) < 1e-5)
            #expect(abs(value("\(name).k") - Foundation.exp(truth.logK)) < 1e-5)
            for (domain, t) in zip(runs.domains, truth.t) { #expect(abs(value("\(name).t.\(domain)") - t) < 1e-4) }
        }
        let truth = ExponentialMixtureModel(terms: SyntheticMixtures.truth, domainCount: 3)
        for r in SyntheticMixtures.shares(count: 20, seed: 99) { #expect(abs(law.predict(r) - truth.loss(r)) < 1e-7) }
        #expect(law.parameters.map(\.name).prefix(3) == ["web_val.c", "web_val.k", "web_val.t.web"])
    }

    @Test func gaugeFixingKeepsPredictionsOnTheSimplex() {
        let theta = [0.3, -1.2, 2.0, -0.5, 4.1]
        let fixed = ExponentialTargetLaw.gaugeFixed(theta)
        #expect(abs(fixed[2...].reduce(0, +)) < 1e-12)
        let law = ExponentialTargetLaw(targetName: "x", domains: ["a", "b", "c"])
        for r in SyntheticMixtures.shares(count: 10) {
            #expect(abs(law.prediction(theta, features: r[...]) - law.prediction(fixed, features: r[...])) < 1e-12)
        }
    }

    @Test func rejectsTooFewRunsAndBadShares() {
        let runs = SyntheticMixtures.exponentialRuns()
        let fitter = ExponentialLawFitter()
        #expect(fitter.minimumRuns(domains: 3, targets: 2) == 4)
        #expect(throws: LawFitError.self) { try fitter.fit(runs.subset([0, 1, 2])) }
        var negative = runs
        negative.mixtures[4][1] = -0.1
        #expect(throws: LawFitError.self) { try fitter.fit(negative) }
        var badLoss = runs
        badLoss.targetLosses[5][0] = .nan
        #expect(throws: LawFitError.self) { try fitter.fit(badLoss) }
    }
}
