import Foundation

/// The Cross-Domain D-CPT law (laws.md §1.7): one L3 law shared by several domains plus a
/// domain term, `L = E + A·N^−α + B·r^η·D^−β + C·(r + ε)^−γ + F·K^−μ` with the domain-specific
/// learnable coefficient `K = w1/k1 + w2·k2`.
///
/// Features per row: `N, D, r, k1, k2`, where `k1 > 0` is the domain's validation loss before CPT
/// and `k2 ≥ 0` the relative loss drop of a short probe run (MixLab's documented choice, laws.md
/// §1.7). Internal `θ = (e, a, α, b, η, β, c, γ, s, f, μ, w1)` with `F = e^f`, `μ ∈ [0, 5]`.
///
/// `F·K^−μ` is unchanged by `(F, w1, w2) → (F·λ^μ, λ·w1, λ·w2)`, so the weights are fixed to
/// `w1 + w2 = 1` with `w1 ∈ [1e-6, 1]`; then `K ≥ 1e-6/k1 > 0` for every admissible row.
/// Reported: `E, A, alpha, B, eta, beta, C, gamma, epsilon, F, mu, w1, w2`. The domain term is a
/// per-domain offset, so `E, F, μ, w1` are identifiable only from ≥ 4 training domains with
/// distinct `(k1, k2)`; with fewer, trust predictions on the training domains, not the constants.
public struct CrossDomainDCPTLaw: ParametricLaw {
    /// Exponent grid of the L3 part of the variable-projection starts.
    public var startGrid: DCPTStartGrid
    /// Grids of `μ` and `w1` crossed with ``startGrid``.
    public var muGrid: [Double]
    public var weightGrid: [Double]
    public var startCount: Int

    public init(
        startGrid: DCPTStartGrid = .coarse, muGrid: [Double] = [0.25, 0.5, 1, 2], weightGrid: [Double] = [0.1, 0.5, 0.9],
        startCount: Int = 100
    ) {
        self.startGrid = startGrid
        self.muGrid = muGrid
        self.weightGrid = weightGrid
        self.startCount = startCount
    }

    public static let featureNames = DCPTLaw.featureNames + ["k1", "k2"]
    public let parameterNames = [
        "E", "A", "alpha", "B", "eta", "beta", "C", "gamma", "epsilon", "F", "mu", "w1", "w2",
    ]
    public let residualScale = ResidualScale.logLoss
    public let defaultHuberDelta = 1e-3
    public let featureCount = 5
    public let bounds = Box(
        lower: DCPTLaw().bounds.lower + [-20, 0, 1e-6],
        upper: DCPTLaw().bounds.upper + [10, 5, 1])

    /// `[ln N, ln D, r, ln r, 1/k1, k2]`.
    public func encode(_ raw: ArraySlice<Double>) -> [Double] {
        let base = raw.startIndex
        return DCPTTerms.encode(raw) + [1 / raw[base + 3], raw[base + 4]]
    }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double {
        let terms = DCPTTerms(theta, features)
        let inverseK1 = features[features.startIndex + 4], k2 = features[features.startIndex + 5]
        let w1 = theta[11], mu = theta[10]
        let k = w1 * inverseK1 + (1 - w1) * k2
        let lnK = Foundation.log(k)
        let combined = terms.combine(extraTerm: theta[9] - mu * lnK)
        terms.writeGradient(weights: combined.weights, theta: theta, into: &gradient)
        let w4 = combined.extraWeight
        gradient[9] = w4
        gradient[10] = -w4 * lnK
        gradient[11] = -w4 * mu * (inverseK1 - k2) / k
        return combined.value
    }

    public func reportedParameters(_ theta: [Double]) -> [Double] {
        DCPTParameters(theta: theta).values + [Foundation.exp(theta[9]), theta[10], theta[11], 1 - theta[11]]
    }

    /// Internal θ from the shared L3 constants and the domain term (`w2 = 1 − w1`).
    public func theta(_ shared: DCPTParameters, F: Double, mu: Double, w1: Double) -> [Double] {
        shared.theta + [Foundation.log(F), mu, w1]
    }

    /// The L3 law of one domain: the domain term `F·K^−μ` folded into `E`.
    public func domainLaw(_ theta: [Double], k1: Double, k2: Double) -> DCPTParameters {
        var law = DCPTParameters(theta: theta)
        let k = theta[11] / k1 + (1 - theta[11]) * k2
        law.E += Foundation.exp(theta[9]) * Foundation.pow(k, -theta[10])
        return law
    }

    /// Variable-projection starts: the L3 columns plus `K(w1)^−μ / L` over ``muGrid`` × ``weightGrid``.
    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let columns = DCPTTerms.Columns(encodedFeatures: encodedFeatures, width: 6, losses: losses)
        let domainPairs = DCPTTerms.pairs(muGrid, weightGrid)
        let domainColumns = domainPairs.map { pair in
            losses.indices.map { n -> Double in
                let k = pair.1 * encodedFeatures[n * 6 + 4] + (1 - pair.1) * encodedFeatures[n * 6 + 5]
                return Foundation.pow(k, -pair.0) / losses[n]
            }
        }
        let families = [
            [columns.constant], columns.modelTerm(startGrid.alpha),
            columns.dataTerm(eta: startGrid.eta, beta: startGrid.beta),
            columns.mixtureTerm(gamma: startGrid.gamma, epsilon: startGrid.epsilon), domainColumns,
        ]
        let dataPairs = DCPTTerms.pairs(startGrid.eta, startGrid.beta)
        let mixturePairs = DCPTTerms.pairs(startGrid.gamma, startGrid.epsilon)
        return ScaleProjectionSearch(families: families).best(startCount).map { candidate in
            let s = candidate.scales.map(DCPTTerms.logScale)
            let data = dataPairs[candidate.choice[2]], mixture = mixturePairs[candidate.choice[3]]
            let domain = domainPairs[candidate.choice[4]]
            return bounds.projected([
                s[0], s[1], startGrid.alpha[candidate.choice[1]], s[2], data.0, data.1, s[3], mixture.0,
                Foundation.log(mixture.1), s[4], domain.0, domain.1,
            ])
        }
    }

    /// Checks the data (`N, D > 0`, `0 ≤ r ≤ 1`, `k1 > 0`, `k2 ≥ 0`) and fits with `fitter`.
    public func fit(_ data: LawDataset, using fitter: LawFitter = LawFitter()) throws -> FittedLaw<CrossDomainDCPTLaw> {
        try DCPTTerms.validate(data, law: "cross-domain D-CPT", extraFeatures: ["k1", "k2"])
        for i in 0..<data.count {
            let row = Array(data.row(i))
            guard row[3] > 0 else {
                throw LawFitError("row \(i + 1): k1 = \(row[3]); k1 is the base model's domain loss and must be positive")
            }
            guard row[4] >= 0 else {
                throw LawFitError("row \(i + 1): k2 = \(row[4]); k2 is the probe run's relative loss drop and must be ≥ 0 (use 0 if the loss did not fall)")
            }
        }
        return try fitter.fit(self, to: data)
    }
}
