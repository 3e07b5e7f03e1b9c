import Foundation

/// The Chinchilla scaling law `L(N, D) = E + A/N^α + B/D^β`, fitted in log space.
///
/// Internally `θ = (e, a, b, α, β)` with `E = e^e, A = e^a, B = e^b`, and
/// `ln L = LSE(e, a − α ln N, b − β ln D)`, which keeps every term positive and cannot overflow.
/// Residuals are on `ln L` with Huber δ = 1e-3 (Hoffmann et al. as replicated by Besiroglu et al.).
/// Features are `N` (parameters) and `D` (tokens).
public struct ChinchillaLaw: ParametricLaw {
    public init() {}

    public let parameterNames = ["E", "A", "B", "alpha", "beta"]
    public let residualScale = ResidualScale.logLoss
    public let defaultHuberDelta = 1e-3
    public let featureCount = 2
    public let bounds = Box(lower: [-10, -20, -20, 0, 0], upper: [10, 80, 80, 5, 5])

    public func encode(_ raw: ArraySlice<Double>) -> [Double] {
        [Foundation.log(raw[raw.startIndex]), Foundation.log(raw[raw.startIndex + 1])]
    }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double {
        let lnN = features[features.startIndex], lnD = features[features.startIndex + 1]
        let t0 = theta[0], t1 = theta[1] - theta[3] * lnN, t2 = theta[2] - theta[4] * lnD
        let m = max(t0, t1, t2)
        let e0 = Foundation.exp(t0 - m), e1 = Foundation.exp(t1 - m), e2 = Foundation.exp(t2 - m)
        let s = e0 + e1 + e2
        let w0 = e0 / s, w1 = e1 / s, w2 = e2 / s
        gradient[0] = w0
        gradient[1] = w1
        gradient[2] = w2
        gradient[3] = -w1 * lnN
        gradient[4] = -w2 * lnD
        return m + Foundation.log(s)
    }

    public func reportedParameters(_ theta: [Double]) -> [Double] {
        [Foundation.exp(theta[0]), Foundation.exp(theta[1]), Foundation.exp(theta[2]), theta[3], theta[4]]
    }

    /// Internal parameters from reported ones.
    public func theta(E: Double, A: Double, B: Double, alpha: Double, beta: Double) -> [Double] {
        [Foundation.log(E), Foundation.log(A), Foundation.log(B), alpha, beta]
    }

    /// Variable-projection starts: for each `(α, β)` on a grid, the scales `(E, A, B)` solve a
    /// non-negative least-squares problem in relative residuals; candidates come back ranked.
    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let exponents = stride(from: 0.05, through: 1.2, by: 0.05).map { $0 }
        var candidates: [(residual: Double, theta: [Double])] = []
        for alpha in exponents {
            for beta in exponents {
                var x = Matrix(rows: losses.count, columns: 3)
                for n in losses.indices {
                    let lnN = encodedFeatures[2 * n], lnD = encodedFeatures[2 * n + 1]
                    x[n, 0] = 1 / losses[n]
                    x[n, 1] = Foundation.exp(-alpha * lnN) / losses[n]
                    x[n, 2] = Foundation.exp(-beta * lnD) / losses[n]
                }
                let ones = Array(repeating: 1.0, count: losses.count)
                let scales = NonNegativeLeastSquares.solve(x, ones)
                let fitted = x.times(scales)
                let residual = zip(fitted, ones).reduce(0.0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
                let floor = { (v: Double) in Foundation.log(max(v, 1e-8)) }
                candidates.append((residual, [floor(scales[0]), floor(scales[1]), floor(scales[2]), alpha, beta]))
            }
        }
        return candidates.sorted { $0.residual < $1.residual }.map(\.theta)
    }

    /// The 4,500-point start grid of Hoffmann et al. (as replicated by Epoch AI), in θ order.
    public static func hoffmannGrid() -> [[Double]] {
        var starts: [[Double]] = []
        for alpha in stride(from: 0.0, through: 2.0, by: 0.5) {
            for beta in stride(from: 0.0, through: 2.0, by: 0.5) {
                for e in stride(from: -1.0, through: 1.0, by: 0.5) {
                    for a in stride(from: 0.0, through: 25.0, by: 5.0) {
                        for b in stride(from: 0.0, through: 25.0, by: 5.0) {
                            starts.append([e, a, b, alpha, beta])
                        }
                    }
                }
            }
        }
        return starts
    }

    /// Compute-optimal split of `flops ≈ 6·N·D` for fitted parameters (Chinchilla Approach 3).
    public static func computeOptimal(A: Double, B: Double, alpha: Double, beta: Double, flops: Double) -> (N: Double, D: Double) {
        let g = Foundation.pow(alpha * A / (beta * B), 1 / (alpha + beta))
        let c = flops / 6
        return (g * Foundation.pow(c, beta / (alpha + beta)), Foundation.pow(c, alpha / (alpha + beta)) / g)
    }
}
