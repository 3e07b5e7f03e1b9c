import Testing
@testable import MixingLaws

/// Central-difference check of a law's parameter gradient (what the fitters rely on).
enum GradientCheck {
    /// Expects ∂prediction/∂θ at one raw feature row to match central differences to a relative
    /// 1e-6, measured against `max(|numeric|, floor)`.
    static func expectParameterGradient<Law: ParametricLaw>(
        _ law: Law, theta: [Double], raw: [Double], floor: Double = 1, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let features = law.encode(raw[...])
        var analytic = Array(repeating: 0.0, count: theta.count)
        _ = law.prediction(theta, features: features[...], gradient: &analytic)
        for k in theta.indices {
            var up = theta, down = theta
            let h = 1e-6 * max(1, abs(theta[k]))
            up[k] += h
            down[k] -= h
            let numeric = (law.prediction(up, features: features[...]) - law.prediction(down, features: features[...])) / (2 * h)
            #expect(
                abs(numeric - analytic[k]) <= 1e-6 * max(abs(numeric), floor),
                "\(Law.self) θ[\(k)] at \(raw): \(analytic[k]) vs \(numeric)", sourceLocation: sourceLocation)
        }
    }
}
