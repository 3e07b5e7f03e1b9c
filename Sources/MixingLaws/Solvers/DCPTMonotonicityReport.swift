import Foundation

/// Where a fitted D-CPT law is *not* decreasing in its own share `r` (laws.md §1.2): the regions of
/// `[0, 1]` with `∂L/∂r ≥ 0` at a token count `D` (the sign does not depend on `N`), and the share
/// range solvers should use.
///
/// With `η < 1` the data term's slope is `+∞` at `r → 0+`, so every such law rises on some
/// interval `(0, r_i)`; it can be negligible or cover most of `[0, 1]`. Below the smallest non-zero
/// share the law was fitted on it is an extrapolation either way, hence the recommendation to clamp
/// `r` to `[r_min_fitted, 1]` (or use `r = 0` exactly).
public struct DCPTMonotonicityReport: Sendable, Equatable {
    public let D: Double
    /// Disjoint closed intervals of `[0, 1]` where `∂L/∂r ≥ 0`, in increasing order.
    public let risingRegions: [ClosedRange<Double>]
    /// `[r_min_fitted, 1]`.
    public let recommendedShareRange: ClosedRange<Double>

    /// Scans `∂L/∂r` on a log-spaced grid (down to 1e-15) merged with a uniform grid, and locates
    /// each sign change by bisection.
    public init(law: DCPTParameters, D: Double, smallestFittedShare: Double) throws {
        guard D > 0, D.isFinite else { throw LawFitError("D = \(D); the token count must be positive") }
        guard smallestFittedShare > 0, smallestFittedShare <= 1 else {
            throw LawFitError("smallestFittedShare = \(smallestFittedShare); give the smallest non-zero share in the fitting data")
        }
        self.D = D
        recommendedShareRange = smallestFittedShare...1
        let rising = { (r: Double) in law.derivativeR(N: 1, D: D, r: r) >= 0 }
        let logPoints = (0...1500).map { Foundation.pow(10, -15 + 15 * Double($0) / 1500) }
        let uniform = (0...2000).map { Double($0) / 2000 }
        let points = Array(Set(logPoints + uniform)).sorted()
        var regions: [ClosedRange<Double>] = []
        var start: Double? = rising(points[0]) ? points[0] : nil
        for i in 1..<points.count {
            let before = rising(points[i - 1]), now = rising(points[i])
            guard before != now else { continue }
            let edge = Self.signChange(points[i - 1], points[i], risingAtLower: before, rising: rising)
            if now { start = edge } else if let s = start {
                regions.append(s...edge)
                start = nil
            }
        }
        if let s = start { regions.append(s...points[points.count - 1]) }
        risingRegions = regions
    }

    /// True when the law rises somewhere inside ``recommendedShareRange`` (the solvers' answer may
    /// then be an artefact of the fit).
    public var risesInRecommendedRange: Bool {
        risingRegions.contains { $0.overlaps(recommendedShareRange) }
    }

    /// The largest `r` up to which the law rises from 0, or nil when it decreases at 0.
    public var risingFromZeroUntil: Double? {
        risingRegions.first.flatMap { $0.lowerBound == 0 ? $0.upperBound : nil }
    }

    private static func signChange(
        _ a0: Double, _ b0: Double, risingAtLower: Bool, rising: (Double) -> Bool
    ) -> Double {
        var a = a0, b = b0
        for _ in 0..<200 {
            let m = 0.5 * (a + b)
            if m == a || m == b { break }
            if rising(m) == risingAtLower { a = m } else { b = m }
        }
        return 0.5 * (a + b)
    }
}
