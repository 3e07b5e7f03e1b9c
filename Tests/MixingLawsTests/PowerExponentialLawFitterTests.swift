import Foundation
import Testing

@testable import MixingLaws

/// `dml-power` on data drawn from the law itself, and its input errors.
@Suite struct PowerExponentialLawFitterTests {
    static let truth = PowerExponentialMixtureModel(
        domainCount: 3, exponent: 0.5, offset: 1e-3,
        targets: [
            .init(
                floor: 2.0,
                components: [.init(linear: [0.4, 0.9, 1.1], power: [-1.2, 0.3, -0.5])], weight: 1)
        ])

    static func runs(count: Int, seed: UInt64) -> MixtureRuns {
        var random = SeededRandom(seed: seed)
        let mixtures = (0..<count).map { _ in random.nextDirichlet([0.7, 0.7, 0.7]) }
        return MixtureRuns(
            domains: ["a", "b", "c"], mixtures: mixtures, targetNames: ["val"],
            targetLosses: mixtures.map { [truth.loss($0)] })
    }

    @Test func recoversTheLossSurfaceOfAnExactOneComponentLaw() throws {
        var options = PowerExponentialLawFitter.Options()
        options.components = 1
        options.exponent = 0.5
        let fitted = try PowerExponentialLawFitter(options: options).fit(Self.runs(count: 60, seed: 1))
        let held = Self.runs(count: 40, seed: 2)
        let worst = held.mixtures.map { abs(fitted.predict($0) - Self.truth.loss($0)) }.max() ?? .infinity
        #expect(worst < 1e-3)
    }

    @Test func aggregatesTargetsWithTheirWeights() throws {
        let model = PowerExponentialMixtureModel(
            domainCount: 3, exponent: 0.5, offset: 1e-3,
            targets: [Self.truth.targets[0], .init(floor: 1, components: [], weight: 0.5)])
        let shares = [0.2, 0.3, 0.5]
        #expect(abs(model.loss(shares) - (Self.truth.loss(shares) + 0.5)) < 1e-12)
        #expect(model.loss(ofTarget: 1, at: shares) == 1)
    }

    @Test func tooFewRunsAndNonPositiveLossesAreNamedErrors() throws {
        let fitter = PowerExponentialLawFitter()
        #expect(throws: LawFitError.self) { try fitter.fit(Self.runs(count: 10, seed: 1)) }
        var runs = Self.runs(count: 30, seed: 1)
        runs.targetLosses[4] = [-1]
        let error = #expect(throws: LawFitError.self) { try fitter.fit(runs) }
        #expect(error?.message.contains("run 5") == true)
    }
}
