import Foundation
import Testing
@testable import MixingLaws

/// Central-difference checks of every mixture law's gradient in the shares (what the solvers
/// use) and in its parameters (what the fitters use).
@Suite struct MixtureLawGradientTests {
    static let shares = [0.2, 0.5, 0.3]

    static func expectShareGradient(_ model: any MixtureLossModel, at r: [Double] = shares, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let analytic = try #require(model.gradient(r), sourceLocation: sourceLocation)
        for j in r.indices {
            var up = r, down = r
            let h = 1e-6
            up[j] += h
            down[j] -= h
            let numeric = (model.loss(up) - model.loss(down)) / (2 * h)
            #expect(abs(numeric - analytic[j]) <= 1e-6 * max(1, abs(numeric)), "share \(j): \(analytic[j]) vs \(numeric)", sourceLocation: sourceLocation)
        }
    }

    static func expectParameterGradient<Law: ParametricLaw>(_ law: Law, theta: [Double], features: [Double] = shares, sourceLocation: SourceLocation = #_sourceLocation) {
        GradientCheck.expectParameterGradient(law, theta: theta, raw: features, sourceLocation: sourceLocation)
    }

    @Test func exponentialLaw() throws {
        try Self.expectShareGradient(ExponentialMixtureModel(terms: SyntheticMixtures.truth, domainCount: 3))
        Self.expectParameterGradient(ExponentialTargetLaw(targetName: "x", domains: ["a", "b", "c"]), theta: [0.7, -0.4, -1.5, 0.5, 1.2])
    }

    @Test func logLinearLaw() {
        Self.expectParameterGradient(LogLinearTargetLaw(targetName: "x", domains: ["a", "b", "c"]), theta: [2.0, 0.8, 1.4, -0.6])
    }

    @Test func implicitLaw() throws {
        let law = ImplicitMixtureLaw(domains: ["a", "b", "c"], components: 2)
        let theta = [1.5, -0.3, -1.1, -2.0, 0.4, 1.1, 0.9, -1.7, 0.2]
        Self.expectParameterGradient(law, theta: theta)
        let model = ImplicitMixtureModel(c0: 1.5, logScales: [-0.3, -1.1], coefficients: [[-2.0, 0.4, 1.1], [0.9, -1.7, 0.2]])
        try Self.expectShareGradient(model)
        var scratch = Array(repeating: 0.0, count: theta.count)
        #expect(abs(model.loss(Self.shares) - law.prediction(theta, features: Self.shares[...], gradient: &scratch)) < 1e-12)
    }

    @Test func twoDomainLaw() throws {
        Self.expectParameterGradient(TwoDomainExponentialLaw(cRange: 0...3), theta: [1.3, -2.4, -0.6], features: [0.35])
        try Self.expectShareGradient(TwoDomainExponentialFit(c: 1.3, kappa: -2.4, b: -0.6, shareIndex: 1), at: [0.65, 0.35])
    }

    @Test func linearLaw() throws {
        let model = LinearMixtureModel(intercept: 0.4, coefficients: [3, 2.5, 4])
        try Self.expectShareGradient(model)
        // ∂L/∂β₀ = 1 and ∂L/∂β_j = r_j
        for j in 0..<3 {
            var coefficients = model.coefficients
            coefficients[j] += 1e-3
            let step = LinearMixtureModel(intercept: 0.4, coefficients: coefficients).loss(Self.shares) - model.loss(Self.shares)
            #expect(abs(step / 1e-3 - Self.shares[j]) < 1e-9)
        }
        #expect(abs(LinearMixtureModel(intercept: 0.5, coefficients: model.coefficients).loss(Self.shares) - model.loss(Self.shares) - 0.1) < 1e-12)
    }
}
