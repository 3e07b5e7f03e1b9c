import Foundation

/// The purely additive D-CPT baseline `L = E + A/N^α + B/D^β + C/(r + ε)^γ` (8 constants; laws.md
/// §1.3's reading of the paper's "L1": the data term does not depend on `r`, so `∂²L/∂D∂r = 0`).
///
/// Fitted like ``DCPTLaw``: `ln L = LSE(e, a − α ln N, b − β ln D, c − γ ln(r + e^s))`, internal
/// `θ = (e, a, α, b, β, c, γ, s)`, Huber δ = 1e-3 on `ln L`; features `N, D, r`.
public struct DCPTAdditiveLaw: ParametricLaw {
    /// Exponent grid of the variable-projection starts (``DCPTStartGrid/eta`` is not used).
    public var startGrid: DCPTStartGrid
    public var startCount: Int

    public init(startGrid: DCPTStartGrid = .standard, startCount: Int = 100) {
        self.startGrid = startGrid
        self.startCount = startCount
    }

    public let parameterNames = ["E", "A", "alpha", "B", "beta", "C", "gamma", "epsilon"]
    public let residualScale = ResidualScale.logLoss
    public let defaultHuberDelta = 1e-3
    public let featureCount = 3
    public let bounds = Box(
        lower: [-20, -20, 0, -20, 0, -20, 0, Foundation.log(1e-4)],
        upper: [10, 80, 3, 80, 3, 10, 5, 0])

    /// `[ln N, ln D, r, ln r]`.
    public func encode(_ raw: ArraySlice<Double>) -> [Double] {
        DCPTTerms.encode(raw)
    }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient g: inout [Double]) -> Double {
        let base = features.startIndex
        let lnN = features[base], lnD = features[base + 1], r = features[base + 2]
        let epsilon = Foundation.exp(theta[7])
        let lnShifted = Foundation.log(r + epsilon)
        let t0 = theta[0], t1 = theta[1] - theta[2] * lnN, t2 = theta[3] - theta[4] * lnD
        let t3 = theta[5] - theta[6] * lnShifted
        let m = max(t0, t1, t2, t3)
        let e0 = Foundation.exp(t0 - m), e1 = Foundation.exp(t1 - m)
        let e2 = Foundation.exp(t2 - m), e3 = Foundation.exp(t3 - m)
        let sum = e0 + e1 + e2 + e3
        let w0 = e0 / sum, w1 = e1 / sum, w2 = e2 / sum, w3 = e3 / sum
        g[0] = w0
        g[1] = w1
        g[2] = -w1 * lnN
        g[3] = w2
        g[4] = -w2 * lnD
        g[5] = w3
        g[6] = -w3 * lnShifted
        g[7] = -w3 * theta[6] * epsilon / (r + epsilon)
        return m + Foundation.log(sum)
    }

    public func reportedParameters(_ theta: [Double]) -> [Double] {
        [Foundation.exp(theta[0]), Foundation.exp(theta[1]), theta[2], Foundation.exp(theta[3]), theta[4],
         Foundation.exp(theta[5]), theta[6], Foundation.exp(theta[7])]
    }

    /// Internal θ from reported constants.
    public func theta(E: Double, A: Double, alpha: Double, B: Double, beta: Double, C: Double, gamma: Double, epsilon: Double)
        -> [Double]
    {
        [Foundation.log(E), Foundation.log(A), alpha, Foundation.log(B), beta, Foundation.log(C), gamma,
         Foundation.log(epsilon)]
    }

    /// Variable-projection starts over (α, β, γ, ε) with columns `[1, N^−α, D^−β, (r+ε)^−γ] / L`.
    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let columns = DCPTTerms.Columns(encodedFeatures: encodedFeatures, width: 4, losses: losses)
        let families = [
            [columns.constant], columns.modelTerm(startGrid.alpha), columns.plainDataTerm(startGrid.beta),
            columns.mixtureTerm(gamma: startGrid.gamma, epsilon: startGrid.epsilon),
        ]
        let mixturePairs = DCPTTerms.pairs(startGrid.gamma, startGrid.epsilon)
        return ScaleProjectionSearch(families: families).best(startCount).map { candidate in
            let s = candidate.scales.map(DCPTTerms.logScale)
            let mixture = mixturePairs[candidate.choice[3]]
            return bounds.projected([
                s[0], s[1], startGrid.alpha[candidate.choice[1]], s[2], startGrid.beta[candidate.choice[2]], s[3],
                mixture.0, Foundation.log(mixture.1),
            ])
        }
    }

    /// Checks the data (`N > 0`, `D > 0`, `0 ≤ r ≤ 1`) and fits with `fitter`.
    public func fit(_ data: LawDataset, using fitter: LawFitter = LawFitter()) throws -> FittedLaw<DCPTAdditiveLaw> {
        try DCPTTerms.validate(data, law: "additive D-CPT", extraFeatures: [])
        return try fitter.fit(self, to: data)
    }
}
