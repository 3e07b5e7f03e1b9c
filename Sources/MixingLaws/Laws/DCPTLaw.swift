import Foundation

/// The D-CPT law "L3" of Que et al. (2024) for continual pre-training on two corpora (laws.md §1.2):
/// `L(N, D, r) = E + A·N^−α + B·r^η·D^−β + C·(r + ε)^−γ`, where `r` is the share of the corpus
/// whose validation loss is modelled.
///
/// Fitted in log space, `ln L = LSE(e, a − α ln N, b + η ln r − β ln D, c − γ ln(r + e^s))`, with
/// internal `θ = (e, a, α, b, η, β, c, γ, s)`, `E = e^e, A = e^a, B = e^b, C = e^c, ε = e^s`;
/// residuals on `ln L`, Huber δ = 1e-3. At `r = 0` the data term is absent (its value and all its
/// derivatives are 0). Features per row: `N` (parameters), `D` (tokens), `r` ∈ [0, 1].
/// Starts come from variable projection over ``startGrid`` (exponents fixed, scales by NNLS).
public struct DCPTLaw: ParametricLaw {
    /// Exponent grid of the variable-projection starts.
    public var startGrid: DCPTStartGrid
    /// How many ranked starts ``startingPoints(encodedFeatures:losses:)`` returns.
    public var startCount: Int

    public init(startGrid: DCPTStartGrid = .standard, startCount: Int = 100) {
        self.startGrid = startGrid
        self.startCount = startCount
    }

    public static let featureNames = ["N", "D", "r"]
    public let parameterNames = ["E", "A", "alpha", "B", "eta", "beta", "C", "gamma", "epsilon"]
    public let residualScale = ResidualScale.logLoss
    public let defaultHuberDelta = 1e-3
    public let featureCount = 3
    /// α, β ∈ [0, 3]; η, γ ∈ [0, 5]; ε ∈ [1e-4, 1]; log-scales wide (laws.md §1.5).
    public let bounds = Box(
        lower: [-20, -20, 0, -20, 0, 0, -20, 0, Foundation.log(1e-4)],
        upper: [10, 80, 3, 80, 5, 3, 10, 5, 0])

    /// `[ln N, ln D, r, ln r]`, with `ln r = −∞` at `r = 0`.
    public func encode(_ raw: ArraySlice<Double>) -> [Double] {
        DCPTTerms.encode(raw)
    }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double {
        let terms = DCPTTerms(theta, features)
        let combined = terms.combine(extraTerm: -.infinity)
        terms.writeGradient(weights: combined.weights, theta: theta, into: &gradient)
        return combined.value
    }

    public func reportedParameters(_ theta: [Double]) -> [Double] {
        DCPTParameters(theta: theta).values
    }

    /// The internal θ for reported parameter values.
    public func theta(_ parameters: DCPTParameters) -> [Double] {
        parameters.theta
    }

    /// The fitted constants as a value type for the usages of laws.md §1.6.
    public func parameters(_ theta: [Double]) -> DCPTParameters {
        DCPTParameters(theta: theta)
    }

    /// Variable-projection starts: columns `[1, N^−α, r^η D^−β, (r+ε)^−γ] / L`, NNLS scales,
    /// ranked by relative residual; zero scales become 1e-8 (laws.md §1.5).
    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let columns = DCPTTerms.Columns(encodedFeatures: encodedFeatures, width: 4, losses: losses)
        let families = [
            [columns.constant], columns.modelTerm(startGrid.alpha),
            columns.dataTerm(eta: startGrid.eta, beta: startGrid.beta),
            columns.mixtureTerm(gamma: startGrid.gamma, epsilon: startGrid.epsilon),
        ]
        let dataPairs = DCPTTerms.pairs(startGrid.eta, startGrid.beta)
        let mixturePairs = DCPTTerms.pairs(startGrid.gamma, startGrid.epsilon)
        return ScaleProjectionSearch(families: families).best(startCount).map { candidate in
            let s = candidate.scales.map(DCPTTerms.logScale)
            let data = dataPairs[candidate.choice[2]], mixture = mixturePairs[candidate.choice[3]]
            return bounds.projected([
                s[0], s[1], startGrid.alpha[candidate.choice[1]], s[2], data.0, data.1, s[3], mixture.0,
                Foundation.log(mixture.1),
            ])
        }
    }

    /// Checks the data (`N > 0`, `D > 0`, `0 ≤ r ≤ 1`, positive losses) and fits with `fitter`.
    public func fit(_ data: LawDataset, using fitter: LawFitter = LawFitter()) throws -> FittedLaw<DCPTLaw> {
        try DCPTTerms.validate(data, law: "D-CPT", extraFeatures: [])
        return try fitter.fit(self, to: data)
    }
}
