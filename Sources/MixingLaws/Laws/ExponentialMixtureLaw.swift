import Foundation

/// A sum of weighted exponential per-target laws, `L(r) = Σ_i s_i (c_i + k_i·exp(t_i·r))`
/// (explicit aggregation, laws.md §2.2); the model the `dml` and `loglinear` fitters return.
///
/// Convex in `r` (each term is a positive multiple of the exponential of an affine function).
public struct ExponentialMixtureModel: MixtureLossModel {
    /// One target's law and its weight in the aggregate.
    public struct Term: Sendable, Equatable {
        public var c: Double
        public var logK: Double
        public var t: [Double]
        public var weight: Double

        public init(c: Double, logK: Double, t: [Double], weight: Double) {
            self.c = c
            self.logK = logK
            self.t = t
            self.weight = weight
        }

        /// `c + k·exp(t·r)`.
        public func loss(_ shares: [Double]) -> Double { c + excess(shares) }

        func excess(_ shares: [Double]) -> Double {
            var exponent = logK
            for j in t.indices { exponent += t[j] * shares[j] }
            return Foundation.exp(exponent)
        }
    }

    public let terms: [Term]
    public let domainCount: Int

    public init(terms: [Term], domainCount: Int) {
        precondition(terms.allSatisfy { $0.t.count == domainCount }, "one coefficient per domain in every term")
        self.terms = terms
        self.domainCount = domainCount
    }

    public func loss(_ shares: [Double]) -> Double {
        terms.reduce(0) { $0 + $1.weight * $1.loss(shares) }
    }

    /// `Σ_i s_i k_i exp(t_i·r) t_i`.
    public func gradient(_ shares: [Double]) -> [Double]? {
        var gradient = Array(repeating: 0.0, count: domainCount)
        for term in terms {
            let scale = term.weight * term.excess(shares)
            for j in 0..<domainCount { gradient[j] += scale * term.t[j] }
        }
        return gradient
    }
}

/// Fits the Data Mixing Laws explicit law (`dml`): one ``ExponentialTargetLaw`` per target,
/// Huber on the raw loss (δ 0.02 by default), multi-start L-BFGS, then `Σ s_i L_i`.
///
/// Differences from the released code (laws.md §2.3), on purpose: every start is run to
/// convergence with relative stopping rules instead of 50–100 outer calls of 20 iterations, the
/// start set is ~50 deterministic points instead of 6,000, and the winner is the lowest training
/// objective (the released code selects on a held-out split only when one is configured).
public struct ExponentialLawFitter: MixtureLawFitter {
    /// Fit settings.
    public struct Options: Sendable {
        public var huberDelta = 0.02
        public var starts = ExponentialTargetLaw.StartOptions()
        public var optimizer = BoundedLBFGS.Options()
        public var parallel = true

        public init() {}
    }

    public var options: Options
    public let name = "dml"

    public init(options: Options = Options()) {
        self.options = options
    }

    /// `M + 1` per target: `c`, `k` and `M` coefficients, less one for the gauge.
    public func minimumRuns(domains: Int, targets: Int) -> Int { domains + 1 }

    public func fit(_ runs: MixtureRuns) throws -> FittedMixtureLaw {
        let fits = try fitTargets(runs)
        let terms = zip(fits, runs.targetWeights).map { fit, weight in
            let theta = ExponentialTargetLaw.gaugeFixed(fit.theta)
            return ExponentialMixtureModel.Term(c: Foundation.exp(theta[0]), logK: theta[1], t: Array(theta[2...]), weight: weight)
        }
        return FittedMixtureLaw(
            law: name, parameters: fits.flatMap(\.parameters),
            model: ExponentialMixtureModel(terms: terms, domainCount: runs.domains.count),
            objective: fits.reduce(0) { $0 + $1.objective })
    }

    /// The per-target fits, in target order (for diagnostics: objective, stop reason, metrics).
    public func fitTargets(_ runs: MixtureRuns) throws -> [FittedLaw<ExponentialTargetLaw>] {
        let shares = try runs.validatedShares(
            law: name, minimumRuns: minimumRuns(domains: runs.domains.count, targets: runs.targetNames.count), positiveLosses: true)
        var fitter = LawFitter()
        fitter.options.huberDelta = options.huberDelta
        fitter.options.optimizer = options.optimizer
        fitter.options.parallel = options.parallel
        let starts = options.starts
        fitter.options.polishCount = starts.projectionFractions.count + starts.gridSize * starts.gridSize * starts.randomDirectionsPerGridPoint
        return try runs.targetNames.indices.map { target in
            let law = ExponentialTargetLaw(
                targetName: runs.targetNames[target], domains: runs.domains, ownDomain: runs.domains.firstIndex(of: runs.targetNames[target]),
                huberDelta: options.huberDelta, startOptions: starts)
            let data = LawDataset(featureNames: runs.domains, rows: shares, losses: runs.losses(ofTarget: target))
            return try fitter.fit(law, to: data)
        }
    }
}
