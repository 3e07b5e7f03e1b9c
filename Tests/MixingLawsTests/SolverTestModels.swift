import Foundation
@testable import MixingLaws

/// `Σ_i w_i (c_i + k_i exp(Σ_j t_ij r_j))` with `k_i > 0`: convex, like the Data Mixing Laws objective.
struct ExponentialSumModel: MixtureLossModel {
    var weights: [Double]
    var constants: [Double]
    var scales: [Double]
    var exponents: [[Double]]

    var domainCount: Int { exponents[0].count }

    func loss(_ r: [Double]) -> Double {
        weights.indices.reduce(0) { sum, i in sum + weights[i] * (constants[i] + scales[i] * exp(dot(exponents[i], r))) }
    }

    func gradient(_ r: [Double]) -> [Double]? {
        var g = Array(repeating: 0.0, count: domainCount)
        for i in weights.indices {
            let e = weights[i] * scales[i] * exp(dot(exponents[i], r))
            for j in g.indices { g[j] += e * exponents[i][j] }
        }
        return g
    }

    private func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// Separable: `Σ_j k_j exp(t_j r_j)` (each domain's loss falls with its own share only).
    static func separable(scales: [Double], rates: [Double]) -> ExponentialSumModel {
        let m = scales.count
        return ExponentialSumModel(
            weights: Array(repeating: 1, count: m), constants: Array(repeating: 0, count: m), scales: scales,
            exponents: (0..<m).map { i in (0..<m).map { $0 == i ? rates[i] : 0 } })
    }

    /// A three-domain model with cross-domain transfer (non-separable).
    static let coupled = ExponentialSumModel(
        weights: [0.5, 0.3, 0.2], constants: [2.0, 2.5, 1.5], scales: [1.2, 0.9, 1.5],
        exponents: [[-2.0, -0.5, 0.3], [-0.4, -3.0, -0.2], [0.1, -0.6, -4.0]])
}

/// `b + a·r`: the LP case, optimum at a vertex.
struct LinearLossModel: MixtureLossModel {
    var intercept: Double
    var coefficients: [Double]
    var domainCount: Int { coefficients.count }
    func loss(_ r: [Double]) -> Double { intercept + zip(coefficients, r).reduce(0) { $0 + $1.0 * $1.1 } }
    func gradient(_ r: [Double]) -> [Double]? { coefficients }
}

/// Hides the gradient of another model, like a tree ensemble.
struct GradientFreeModel: MixtureLossModel {
    var base: ExponentialSumModel
    var domainCount: Int { base.domainCount }
    func loss(_ r: [Double]) -> Double { base.loss(r) }
    func gradient(_ r: [Double]) -> [Double]? { nil }
}

/// The KKT solution of the separable model `Σ k_j exp(t_j r_j)` (t_j < 0) on `l ≤ r ≤ u, Σ r = 1`:
/// `r_j = clip(ln(k_j |t_j| / λ) / |t_j|, l_j, u_j)` with `λ` found by bisection.
func separableOptimum(scales: [Double], rates: [Double], lower: [Double], upper: [Double]) -> [Double] {
    func shares(_ logLambda: Double) -> [Double] {
        scales.indices.map { j in min(max((log(scales[j] * -rates[j]) - logLambda) / -rates[j], lower[j]), upper[j]) }
    }
    var lo = -200.0, hi = 200.0
    for _ in 0..<300 {
        let mid = 0.5 * (lo + hi)
        if shares(mid).reduce(0, +) > 1 { lo = mid } else { hi = mid }
    }
    return shares(0.5 * (lo + hi))
}

/// Two Gaussian wells on the simplex: a shallow one near the centre, a deeper one near a corner
/// (non-convex; a single start from the centre stays in the shallow well).
struct TwoWellModel: MixtureLossModel {
    let shallow = [0.2, 0.4, 0.4], deep = [0.8, 0.1, 0.1]
    let width = 0.02
    var domainCount: Int { 3 }

    func loss(_ r: [Double]) -> Double { 3 - well(r, shallow, 1) - well(r, deep, 1.5) }

    func gradient(_ r: [Double]) -> [Double]? {
        (0..<3).map { j in
            2 * (r[j] - shallow[j]) / width * well(r, shallow, 1) + 2 * (r[j] - deep[j]) / width * well(r, deep, 1.5)
        }
    }

    private func well(_ r: [Double], _ centre: [Double], _ depth: Double) -> Double {
        depth * exp(-zip(r, centre).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / width)
    }
}
