import Foundation

/// The static log-linear law of Aioli / Linear Mixing Optimization for one target (aioli.md
/// §1.3), `L(p) = c + b·exp(−Σ_j A_j p_j)`, with the last domain's column pinned to `A_M = 0`.
///
/// This is the same function family as ``ExponentialTargetLaw`` (`c = c`, `b·exp(−A·p) =
/// k·exp(t·p)`, so `t = −A` up to the gauge); what differs is the parameterisation, and with it
/// the optimisation path:
/// * `A_M = 0` removes the gauge freedom (on the simplex one column of `A` is redundant), as the
///   Aioli notebooks do for three groups, so the problem has `M + 1` free parameters;
/// * `c` and `b` are optimised on their own scale inside non-negativity bounds instead of as
///   logarithms;
/// * `A_ij > 0` means "more of domain `j` (instead of the last domain) lowers the loss of `i`",
///   Aioli's sign convention.
public struct LogLinearTargetLaw: ParametricLaw {
    public let targetName: String
    public let domains: [String]
    /// Fractions `f` of the smallest loss used as `c` in the start grid.
    public var startFractions: [Double]
    public let defaultHuberDelta: Double

    public init(targetName: String, domains: [String], huberDelta: Double = 0.02, startFractions: [Double] = LogLinearTargetLaw.defaultStartFractions) {
        self.targetName = targetName
        self.domains = domains
        self.defaultHuberDelta = huberDelta
        self.startFractions = startFractions
    }

    public static let defaultStartFractions = [0.0, 0.2, 0.4, 0.55, 0.7, 0.8, 0.86, 0.9, 0.93, 0.96, 0.98, 0.99, 0.997]

    public var parameterNames: [String] {
        ["\(targetName).c", "\(targetName).b"] + domains.map { "\(targetName).A.\($0)" }
    }

    public var residualScale: ResidualScale { .loss }
    public var featureCount: Int { domains.count }

    /// `θ = (c, b, A_1 … A_{M−1})`.
    public var bounds: Box {
        Box(lower: [0, 0] + Array(repeating: -300, count: domains.count - 1),
            upper: [.infinity, .infinity] + Array(repeating: 300, count: domains.count - 1))
    }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double {
        var exponent = 0.0
        var j = 2
        for share in features.dropLast() {
            exponent -= theta[j] * share
            j += 1
        }
        let decay = Foundation.exp(exponent)
        let term = theta[1] * decay
        gradient[0] = 1
        gradient[1] = decay
        j = 2
        for share in features.dropLast() {
            gradient[j] = -term * share
            j += 1
        }
        return theta[0] + term
    }

    /// `(c, b, A_1 … A_M)` with `A_M = 0`.
    public func reportedParameters(_ theta: [Double]) -> [Double] { theta + [0] }

    /// For each `c` in the grid, `(ln b, −A)` from least squares of `ln(y − c)` on the shares.
    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let m = domains.count
        let smallest = losses.min() ?? 1
        var starts: [[Double]] = []
        for fraction in startFractions {
            let c = fraction * smallest
            var design = Matrix(rows: losses.count, columns: m)
            var logExcess = Array(repeating: 0.0, count: losses.count)
            for n in losses.indices {
                design[n, 0] = 1
                for j in 0..<(m - 1) { design[n, j + 1] = encodedFeatures[n * m + j] }
                logExcess[n] = Foundation.log(max(losses[n] - c, 1e-6 * smallest))
            }
            let (solution, _) = LinearSolve.leastSquares(design, logExcess)
            guard solution.allSatisfy(\.isFinite) else { continue }
            starts.append([c, Foundation.exp(min(solution[0], 50))] + solution.dropFirst().map { -$0 })
        }
        return starts
    }
}

/// Fits the static log-linear law (`loglinear`) per target and aggregates `Σ s_i L_i`.
///
/// Recipe: Huber δ 0.02 on the raw loss (the Aioli analysis notebooks' setting), bounded L-BFGS
/// in the reduced parameterisation of ``LogLinearTargetLaw`` from a grid of `c` values, each with
/// the matching log-linear least-squares `(b, A)`. Compared with `dml`: same function family,
/// no random starts, no gauge direction, linear-scale `c, b`. On well-posed data both reach the
/// same predictions; where they differ, that is a sign the optimum is poorly determined.
public struct LogLinearLawFitter: MixtureLawFitter {
    /// Fit settings.
    public struct Options: Sendable {
        public var huberDelta = 0.02
        public var startFractions = LogLinearTargetLaw.defaultStartFractions
        public var optimizer = BoundedLBFGS.Options()
        public var parallel = true

        public init() {}
    }

    public var options: Options
    public let name = "loglinear"

    public init(options: Options = Options()) {
        self.options = options
    }

    /// `M + 1` per target: `c`, `b` and `M − 1` free columns of `A`.
    public func minimumRuns(domains: Int, targets: Int) -> Int { domains + 1 }

    public func fit(_ runs: MixtureRuns) throws -> FittedMixtureLaw {
        let fits = try fitTargets(runs)
        let terms = zip(fits, runs.targetWeights).map { fit, weight in
            let reported = fit.law.reportedParameters(fit.theta)
            return ExponentialMixtureModel.Term(
                c: reported[0], logK: Foundation.log(reported[1]), t: reported[2...].map { -$0 }, weight: weight)
        }
        return FittedMixtureLaw(
            law: name, parameters: fits.flatMap(\.parameters),
            model: ExponentialMixtureModel(terms: terms, domainCount: runs.domains.count),
            objective: fits.reduce(0) { $0 + $1.objective })
    }

    /// The per-target fits, in target order.
    public func fitTargets(_ runs: MixtureRuns) throws -> [FittedLaw<LogLinearTargetLaw>] {
        let shares = try runs.validatedShares(
            law: name, minimumRuns: minimumRuns(domains: runs.domains.count, targets: runs.targetNames.count), positiveLosses: true)
        var fitter = LawFitter()
        fitter.options.huberDelta = options.huberDelta
        fitter.options.optimizer = options.optimizer
        fitter.options.parallel = options.parallel
        fitter.options.polishCount = options.startFractions.count
        return try runs.targetNames.indices.map { target in
            let law = LogLinearTargetLaw(
                targetName: runs.targetNames[target], domains: runs.domains, huberDelta: options.huberDelta, startFractions: options.startFractions)
            let data = LawDataset(featureNames: runs.domains, rows: shares, losses: runs.losses(ofTarget: target))
            return try fitter.fit(law, to: data)
        }
    }
}
