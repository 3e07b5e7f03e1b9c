import Foundation
import Testing
@testable import MixingLaws

@Suite struct ImplicitMixtureLawTests {
    /// laws.md A6 for the implicit law (K = 5): no published anchor; measured 98.32 / 97.67 /
    /// 96.33 on the 1M / 60M / 1B sets. It ranks the 1M-scale mixtures better than `dml` and the
    /// 1B ones worse (more flexible, fitted at 1M scale).
    @Test func regmixRankCorrelation() throws {
        let law = try ImplicitLawFitter().fit(try MixtureLawFixtures.regmixTrain())
        #expect(law.law == "dml-implicit")
        var rho: [String: Double] = [:]
        for (name, runs) in try MixtureLawFixtures.regmixTests() {
            rho[name] = MixtureLawFixtures.spearman100(law, on: runs)
            print("A6 dml-implicit Spearman×100 \(name): \(rho[name]!)")
        }
        #expect(rho["1M"]! >= 97.5)
        #expect(rho["60M"]! >= 97)
        #expect(rho["1B"]! >= 95)
    }

    /// With one component the implicit law is the explicit law of the aggregated loss.
    @Test func oneComponentEqualsExplicitLawOfTheAggregate() throws {
        let runs = SyntheticMixtures.exponentialRuns()
        var options = ImplicitLawFitter.Options()
        options.components = 1
        let implicit = try ImplicitLawFitter(options: options).fit(runs)
        let aggregate = MixtureRuns(domains: runs.domains, mixtures: runs.mixtures, targetNames: ["all"], targetLosses: runs.aggregatedLosses.map { [$0] })
        let explicit = try ExponentialLawFitter().fit(aggregate)
        #expect(abs(implicit.objective! - explicit.objective!) <= 1e-9 + 1e-6 * explicit.objective!)
        for r in SyntheticMixtures.shares(count: 10, seed: 3) { #expect(abs(implicit.predict(r) - explicit.predict(r)) < 1e-4) }
    }

    /// A sum of two exponential laws is an implicit law with K = 2 (c0 = c1 + c2): noiseless
    /// data from it are fitted to within 1e-6.
    @Test func fitsASumOfTwoExponentialLaws() throws {
        let runs = SyntheticMixtures.exponentialRuns(count: 40)
        var options = ImplicitLawFitter.Options()
        options.components = 2
        options.optimizer.maxIterations = 15_000
        let law = try ImplicitLawFitter(options: options).fit(runs)
        let truth = ExponentialMixtureModel(terms: SyntheticMixtures.truth, domainCount: 3)
        let error = SyntheticMixtures.shares(count: 20, seed: 11).map { abs(law.predict($0) - truth.loss($0)) }.max()!
        #expect(error < 1e-6, "largest error \(error)")
        #expect(law.parameters.map(\.name).prefix(3) == ["c0", "latent1.k", "latent1.t.web"])
    }

    @Test func minimumRunsCountsEveryComponent() {
        var options = ImplicitLawFitter.Options()
        options.components = 3
        let fitter = ImplicitLawFitter(options: options)
        #expect(fitter.minimumRuns(domains: 3, targets: 2) == 10)
        #expect(throws: LawFitError.self) { try fitter.fit(SyntheticMixtures.exponentialRuns().subset(Array(0..<9))) }
        options.components = 0
        #expect(throws: LawFitError.self) { try ImplicitLawFitter(options: options).fit(SyntheticMixtures.exponentialRuns()) }
    }
}
