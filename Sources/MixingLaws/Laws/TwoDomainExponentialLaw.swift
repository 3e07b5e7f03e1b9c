import Foundation

/// The two-domain Data Mixing Law `L(r) = c + exp(κ·r + b)` (laws.md §2.1, §2.3), where `r` is
/// the share of one domain (usually the one whose validation loss `L` is).
///
/// `θ = (c, κ, b)`; residuals on the raw loss. The bounds on `c` are chosen by the fitting
/// method (fixed for the correlation scan, `[0, min y)` for the joint fit).
public struct TwoDomainExponentialLaw: ParametricLaw {
    public let cRange: ClosedRange<Double>
    public let defaultHuberDelta: Double

    public init(cRange: ClosedRange<Double>, huberDelta: Double = 0.02) {
        self.cRange = cRange
        self.defaultHuberDelta = huberDelta
    }

    public var parameterNames: [String] { ["c", "kappa", "b"] }
    public var residualScale: ResidualScale { .loss }
    public var featureCount: Int { 1 }
    public var bounds: Box { Box(lower: [cRange.lowerBound, -200, -200], upper: [cRange.upperBound, 200, 200]) }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double {
        let r = features[features.startIndex]
        let term = Foundation.exp(theta[1] * r + theta[2])
        gradient[0] = 1
        gradient[1] = term * r
        gradient[2] = term
        return theta[0] + term
    }

    public func reportedParameters(_ theta: [Double]) -> [Double] { theta }

    /// The released notebook's `(κ, b)` grid at the lower end of `cRange`, after the log-linear
    /// least-squares guess.
    public func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]] {
        let c = cRange.lowerBound
        var starts: [[Double]] = []
        if let guess = Self.logLinearGuess(shares: encodedFeatures, losses: losses, c: c) { starts.append([c, guess.kappa, guess.b]) }
        for i in 0...10 {
            for j in 0...10 { starts.append([c, -2.4 + 0.08 * Double(i), -1 + 0.09 * Double(j)]) }
        }
        return starts
    }

    /// Least squares of `ln(y − c)` on `r`; nil when some `y ≤ c` or all shares are equal.
    static func logLinearGuess(shares: [Double], losses: [Double], c: Double) -> (kappa: Double, b: Double)? {
        guard losses.allSatisfy({ $0 > c }) else { return nil }
        let logs = losses.map { Foundation.log($0 - c) }
        let meanR = shares.reduce(0, +) / Double(shares.count), meanL = logs.reduce(0, +) / Double(logs.count)
        var sxy = 0.0, sxx = 0.0
        for (r, l) in zip(shares, logs) {
            sxy += (r - meanR) * (l - meanL)
            sxx += (r - meanR) * (r - meanR)
        }
        guard sxx > 0 else { return nil }
        let kappa = sxy / sxx
        return (kappa, meanL - kappa * meanR)
    }
}

/// A fitted two-domain law: predictions, the critical proportion, and use as a
/// ``MixtureLossModel`` over two domains.
public struct TwoDomainExponentialFit: MixtureLossModel, Equatable {
    public var c: Double
    public var kappa: Double
    public var b: Double
    /// Which of the two shares is `r` when used as a ``MixtureLossModel``.
    public var shareIndex: Int
    /// Σ Huber(residual) of the fit.
    public var objective: Double

    public init(c: Double, kappa: Double, b: Double, shareIndex: Int = 0, objective: Double = 0) {
        self.c = c
        self.kappa = kappa
        self.b = b
        self.shareIndex = shareIndex
        self.objective = objective
    }

    /// The predicted loss at share `r`.
    public func loss(atShare r: Double) -> Double { c + Foundation.exp(kappa * r + b) }

    public var domainCount: Int { 2 }
    public func loss(_ shares: [Double]) -> Double { loss(atShare: shares[shareIndex]) }

    /// Depends on `shares[shareIndex]` only.
    public func gradient(_ shares: [Double]) -> [Double]? {
        var gradient = [0.0, 0.0]
        gradient[shareIndex] = kappa * Foundation.exp(kappa * shares[shareIndex] + b)
        return gradient
    }

    /// The share at which the law's loss equals `baseline` (laws.md §2.5: the proportion of the
    /// original domain needed in continual pre-training to return to its loss before),
    /// `r* = (ln(L0 − c) − b)/κ`. The value can fall outside `[0, 1]` (extrapolation); check it.
    ///
    /// - Throws: ``LawFitError`` when `baseline ≤ c` (the fitted law never reaches it) or `κ = 0`.
    public func criticalProportion(baseline: Double) throws -> Double {
        guard baseline.isFinite, baseline > c else {
            throw LawFitError(
                "the baseline loss \(baseline) is not above the fitted loss floor c = \(c): no share reaches it; "
                    + "check that the baseline is the same validation loss as the fitted one, or fit on runs closer to it")
        }
        guard kappa != 0 else { throw LawFitError("the fitted law is flat (κ = 0): the loss does not depend on the share") }
        return (Foundation.log(baseline - c) - b) / kappa
    }
}

/// Fits ``TwoDomainExponentialLaw`` two ways (laws.md §2.3): the released notebooks' correlation
/// scan for `c`, and the more robust joint fit of `(c, κ, b)` with `c ∈ [0, min y)`.
public struct TwoDomainExponentialFitter: Sendable {
    public var huberDelta: Double
    /// Number of `c` values scanned on `[0, min y]`.
    public var scanPoints: Int
    public var optimizer: BoundedLBFGS.Options

    public init(huberDelta: Double = 0.02, scanPoints: Int = 1000, optimizer: BoundedLBFGS.Options = BoundedLBFGS.Options()) {
        self.huberDelta = huberDelta
        self.scanPoints = scanPoints
        self.optimizer = optimizer
    }

    /// Released recipe: `c` maximises `|corr(r, ln(y − c))|` over the scan, then `(κ, b)` are
    /// fitted with `c` fixed (Huber on the raw loss).
    public func fitByCorrelationScan(shares: [Double], losses: [Double], shareIndex: Int = 0) throws -> TwoDomainExponentialFit {
        try validate(shares: shares, losses: losses)
        let smallest = losses.min()!
        var bestC = 0.0, bestCorrelation = -1.0
        for i in 0..<max(scanPoints, 2) {
            let c = smallest * Double(i) / Double(max(scanPoints, 2) - 1)
            guard losses.allSatisfy({ $0 - c > 0 }) else { continue }
            let correlation = abs(Correlation.pearson(shares, losses.map { Foundation.log($0 - c) }))
            if correlation.isFinite, correlation > bestCorrelation {
                bestCorrelation = correlation
                bestC = c
            }
        }
        return try polish(TwoDomainExponentialLaw(cRange: bestC...bestC, huberDelta: huberDelta), shares: shares, losses: losses, starts: nil, shareIndex: shareIndex)
    }

    /// `(c, κ, b)` jointly with `c ∈ [0, min y)`, started from the correlation-scan fit and from
    /// log-linear guesses at fractions of `min y`.
    public func fitJointly(shares: [Double], losses: [Double], shareIndex: Int = 0) throws -> TwoDomainExponentialFit {
        let scan = try fitByCorrelationScan(shares: shares, losses: losses, shareIndex: shareIndex)
        let smallest = losses.min()!
        let law = TwoDomainExponentialLaw(cRange: 0...(smallest * (1 - 1e-9)), huberDelta: huberDelta)
        var starts = [[scan.c, scan.kappa, scan.b]]
        for fraction in [0.0, 0.25, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.995] {
            let c = fraction * smallest
            if let guess = TwoDomainExponentialLaw.logLinearGuess(shares: shares, losses: losses, c: c) { starts.append([c, guess.kappa, guess.b]) }
        }
        let joint = try polish(law, shares: shares, losses: losses, starts: starts, shareIndex: shareIndex)
        return joint.objective <= scan.objective ? joint : scan
    }

    private func polish(_ law: TwoDomainExponentialLaw, shares: [Double], losses: [Double], starts: [[Double]]?, shareIndex: Int) throws -> TwoDomainExponentialFit {
        var fitter = LawFitter()
        fitter.options.huberDelta = huberDelta
        fitter.options.optimizer = optimizer
        fitter.options.polishCount = 200
        fitter.options.parallel = false
        let fit = try fitter.fit(law, to: LawDataset(featureNames: ["r"], rows: shares.map { [$0] }, losses: losses), starts: starts)
        return TwoDomainExponentialFit(c: fit.theta[0], kappa: fit.theta[1], b: fit.theta[2], shareIndex: shareIndex, objective: fit.objective)
    }

    private func validate(shares: [Double], losses: [Double]) throws {
        guard shares.count == losses.count else {
            throw LawFitError("two-domain law: \(shares.count) shares but \(losses.count) losses; give one loss per run")
        }
        guard shares.count >= 3 else {
            throw LawFitError("two-domain law: \(shares.count) run(s), but (c, κ, b) need at least 3; add runs with other shares")
        }
        guard shares.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
            throw LawFitError("two-domain law: every share must be in [0, 1]")
        }
        guard losses.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw LawFitError("two-domain law: every loss must be finite and positive")
        }
        guard Set(shares).count >= 2 else {
            throw LawFitError("two-domain law: all runs have the same share; the law needs at least two different shares")
        }
    }
}
