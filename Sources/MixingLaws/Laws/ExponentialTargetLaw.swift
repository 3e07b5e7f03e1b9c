import Foundation

/// The Data Mixing Laws per-target law `L(r) = c + k·exp(t·r)` (Ye et al. 2024; laws.md §2.1),
/// as a ``ParametricLaw`` over the mixture shares `r` of `M` domains.
///
/// Internally `θ = (log c, log k, t_1 … t_M)`, the released code's parameterisation, which keeps
/// `c` and `k` positive without bounds; residuals are on the raw loss (Huber δ 0.02 by default).
///
/// **Gauge.** On the simplex `Σ r_j = 1`, so `(log k, t) → (log k − d, t + d·1)` leaves every
/// prediction unchanged. The optimiser is left free along that direction (the objective is flat
/// there and L-BFGS does not move along it); the *reported* parameters are put in the gauge
/// `Σ_j t_j = 0`, where `k = L(uniform mixture) − c`, so that two fits can be compared.
///
/// **Starts** (deterministic, best guesses first):
/// 1. variable projection: for `c` at fractions of the smallest loss, `ln(y − c)` is linear in
///    `r`; least squares gives `(log k, t)`;
/// 2. a subsample of the released notebook's grid, `log c ∈ [−2, 1.5] × log k ∈ [−10, 1]`, each
///    with seeded random `t` (own domain `−U(0,1)`, others `U(0, 0.1)`, as in the notebook).
public struct ExponentialTargetLaw: ParametricLaw {
    /// How the deterministic start set is built.
    public struct StartOptions: Sendable, Equatable {
        /// Fractions `f` of the smallest observed loss tried as `c` for the projection starts.
        public var projectionFractions: [Double] = [0, 0.3, 0.5, 0.65, 0.75, 0.82, 0.88, 0.92, 0.95, 0.97, 0.985, 0.995]
        /// Points per axis of the `(log c, log k)` grid.
        public var gridSize = 4
        /// Random `t` vectors drawn for each grid point.
        public var randomDirectionsPerGridPoint = 2
        public var seed: UInt64 = 20_240_325

        public init() {}
    }

    public let targetName: String
    public let domains: [String]
    /// The domain whose share is the target's "own" share, if the target is one of the training
    /// domains; random starts give it the strongly negative coefficient.
    public let ownDomain: Int?
    public var startOptions: StartOptions
    public let defaultHuberDelta: Double

    public init(targetName: String, domains: [String], ownDomain: Int? = nil, huberDelta: Double = 0.02, startOptions: StartOptions = StartOptions()) {
        self.targetName = targetName
        self.domains = domains
        self.ownDomain = ownDomain
        self.defaultHuberDelta = huberDelta
        self.startOptions = startOptions
    }

    public var parameterNames: [String] {
        ["\(targetName).c", "\(targetName).k"] + domains.map { "\(targetName).t.\($0)" }
    }

    public var residualScale: ResidualScale { .loss }
    public var featureCount: Int { domains.count }

    public var bounds: Box {
        Box(lower: [-20, -60] + Array(repeating: -300, count: domains.count),
            upper: [10, 20] + Array(repeating: 300, count: domains.count))
    }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double {
        var exponent = theta[1]
        var j = 2
        for share in features {
            exponent += theta[j] * share
            j += 1
        }
        let c = Foundation.exp(theta[0]), term = Foundation.exp(exponent)
        gradient[0] = c
        gradient[1] = term
        j = 2
        for share in features {
            gradient[j] = term * share
            j += 1
        }
        return c + term
    }

    /// `(c, k, t…)` in the gauge `Σ t = 0`.
    public func reportedParameters(_ theta: [Double]) -> [Double] {
        let fixed = Self.gaugeFixed(theta)
        return [Foundation.exp(fixed[0]), Foundation.exp(fixed[1])] + fixed[2...]
    }

    /// The same function on the simplex with `Σ_j t_j = 0`.
    public static func gaugeFixed(_ theta: [Double]) -> [Double] {
        let t = theta[2...]
        let shift = t.reduce(0, +) / Double(max(t.count, 1))
        return [theta[0], theta[1] + shift] + t.map { $0 - shift }
    }

    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let m = domains.count
        let rows = losses.count
        let smallest = losses.min() ?? 1
        var starts: [[Double]] = []
        for fraction in startOptions.projectionFractions {
            let c = max(fraction, 1e-3) * smallest
            var design = Matrix(rows: rows, columns: m + 1)
            var logExcess = Array(repeating: 0.0, count: rows)
            for n in 0..<rows {
                design[n, 0] = 1
                for j in 0..<m { design[n, j + 1] = encodedFeatures[n * m + j] }
                logExcess[n] = Foundation.log(max(losses[n] - c, 1e-6 * smallest))
            }
            let (solution, _) = LinearSolve.leastSquares(design, logExcess)
            if solution.allSatisfy(\.isFinite) { starts.append([Foundation.log(c)] + solution) }
        }
        var random = SeededRandom(seed: startOptions.seed)
        let size = max(startOptions.gridSize, 1)
        let axis = { (low: Double, high: Double, i: Int) in size == 1 ? (low + high) / 2 : low + (high - low) * Double(i) / Double(size - 1) }
        for a in 0..<size {
            for b in 0..<size {
                for _ in 0..<startOptions.randomDirectionsPerGridPoint {
                    let own = ownDomain ?? Int(random.next() % UInt64(max(m, 1)))
                    let t = (0..<m).map { j in j == own ? -random.nextUniform() : 0.1 * random.nextUniform() }
                    starts.append([axis(-2, 1.5, a), axis(-10, 1, b)] + t)
                }
            }
        }
        return starts
    }
}
