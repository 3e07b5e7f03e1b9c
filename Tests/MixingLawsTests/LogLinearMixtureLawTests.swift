import Foundation
import Testing
@testable import MixingLaws

@Suite struct LogLinearMixtureLawTests {
    /// Same function family as `dml`: on noiseless data it recovers the law with `A = −t`
    /// shifted so that the last column is 0.
    @Test func recoversKnownLawsInReducedParameterisation() throws {
        let runs = SyntheticMixtures.exponentialRuns()
        let law = try LogLinearLawFitter().fit(runs)
        #expect(law.law == "loglinear")
        let value = { (name: String) in law.parameters.first { $0.name == name }!.value }
        for (name, truth) in zip(runs.targetNames, SyntheticMixtures.truth) {
            let shift = truth.t.last!
            #expect(abs(value("\(name).c") - truth.c) < 1e-5)
            #expect(abs(value("\(name).b") - Foundation.exp(truth.logK + shift)) < 1e-5)
            for (domain, t) in zip(runs.domains, truth.t) { #expect(abs(value("\(name).A.\(domain)") + (t - shift)) < 1e-4) }
        }
        let truth = ExponentialMixtureModel(terms: SyntheticMixtures.truth, domainCount: 3)
        for r in SyntheticMixtures.shares(count: 20, seed: 5) { #expect(abs(law.predict(r) - truth.loss(r)) < 1e-7) }
    }

    /// laws.md A6 for the static log-linear law, and agreement with `dml` (same family, same δ).
    @Test func regmixRankCorrelationAgreesWithDML() throws {
        let train = try MixtureLawFixtures.regmixTrain()
        let logLinear = try LogLinearLawFitter().fit(train)
        let dml = try MixtureLawFixtures.regmixDML.get()
        #expect(abs(logLinear.objective! - dml.objective!) <= 1e-6 * dml.objective!)
        for (name, runs) in try MixtureLawFixtures.regmixTests() {
            let rho = MixtureLawFixtures.spearman100(logLinear, on: runs)
            print("A6 loglinear Spearman×100 \(name): \(rho)")
            #expect(abs(rho - MixtureLawFixtures.spearman100(dml, on: runs)) < 0.05)
            let largest = runs.mixtures.map { abs(logLinear.predict($0) - dml.predict($0)) }.max()!
            #expect(largest < 1e-3, "largest prediction difference \(largest)")
        }
    }
}
