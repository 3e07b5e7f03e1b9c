import Foundation
import Testing
@testable import MixingLaws

@Suite struct LinearMixtureLawTests {
    /// laws.md A6: OLS with intercept on the 512 RegMix training rows. Anchors (sklearn on the
    /// raw, unnormalised rows) 90.21 / 89.33 / 87.66; this fitter renormalises rows, which moves
    /// them to 90.18 / 89.29 / 87.89 (checked with numpy on renormalised rows).
    @Test func regmixRankCorrelation() throws {
        let law = try LinearLawFitter().fit(try MixtureLawFixtures.regmixTrain())
        #expect(law.law == "linear")
        let expected = ["1M": 90.21, "60M": 89.33, "1B": 87.66]
        for (name, runs) in try MixtureLawFixtures.regmixTests() {
            let rho = MixtureLawFixtures.spearman100(law, on: runs)
            print("A6 linear Spearman×100 \(name): \(rho)")
            #expect(abs(rho - expected[name]!) <= 0.5, "\(name): \(rho)")
        }
    }

    /// Exact on linear data despite the intercept/shares collinearity; coefficients are the
    /// pure-domain losses.
    @Test func recoversLinearTruth() throws {
        let rows = SyntheticMixtures.shares(count: 12)
        let vertex = [3.0, 2.5, 4.0], other = [1.0, 2.0, 0.5]
        let runs = MixtureRuns(
            domains: SyntheticMixtures.domains, mixtures: rows, targetNames: ["a", "b"],
            targetLosses: rows.map { r in [zip(vertex, r).reduce(0) { $0 + $1.0 * $1.1 }, zip(other, r).reduce(0) { $0 + $1.0 * $1.1 }] },
            targetWeights: [0.5, 2])
        let law = try LinearLawFitter().fit(runs)
        let model = try #require(law.model as? LinearMixtureModel)
        for j in 0..<3 { #expect(abs(model.coefficients[j] - (0.5 * vertex[j] + 2 * other[j])) < 1e-10) }
        #expect(abs(law.parameters.first { $0.name == "a.code" }!.value - 2.5) < 1e-10)
        #expect(try #require(law.objective) < 1e-20)
        #expect(LinearLawFitter().minimumRuns(domains: 17, targets: 1) == 17)
    }
}
