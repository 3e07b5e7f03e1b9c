import Foundation

/// The three ways of turning fitted D-CPT laws into a corpus share (laws.md §1.6), as pure
/// functions of fitted constants. `r_d` is the domain share of the CPT tokens; the general law is
/// evaluated at `r_g = 1 − r_d`.
public enum DCPTUsage {
    /// Result of ``tradeOff(domain:general:N:D:tolerance:referenceGeneralLoss:shareRange:gridPoints:)``.
    public struct TradeOff: Sendable, Equatable {
        public var domainShare: Double
        public var domainLoss: Double
        public var generalLoss: Double
        /// `(L_g − L_g0) / L_g0` at the chosen share.
        public var generalLossIncrease: Double
        /// True when the general-loss constraint is active (the answer sits on its boundary).
        public var constraintActive: Bool
    }

    /// Usage 1: the share minimising `L_d(N, D, r_d)` subject to
    /// `(L_g(N, D, 1 − r_d) − L_g0) / L_g0 ≤ tolerance`, searched on `shareRange` with a grid of
    /// `gridPoints` points, then refined by bisection on the constraint boundary (or golden section
    /// at an interior optimum). Throws when no share on the grid is feasible.
    public static func tradeOff(
        domain: DCPTParameters, general: DCPTParameters, N: Double, D: Double, tolerance: Double,
        referenceGeneralLoss: Double, shareRange: ClosedRange<Double> = 0...1, gridPoints: Int = 10_001
    ) throws -> TradeOff {
        try check(N: N, D: D, shareRange: shareRange)
        guard referenceGeneralLoss > 0, referenceGeneralLoss.isFinite else {
            throw LawFitError("referenceGeneralLoss = \(referenceGeneralLoss); give the general loss to compare against (> 0)")
        }
        guard tolerance.isFinite else { throw LawFitError("tolerance must be a finite relative increase (e.g. 0.03)") }
        guard gridPoints >= 2 else { throw LawFitError("gridPoints = \(gridPoints); use at least 2") }
        let generalCap = (1 + tolerance) * referenceGeneralLoss
        let domainLoss = { (r: Double) in domain.loss(N: N, D: D, r: r) }
        let generalLoss = { (r: Double) in general.loss(N: N, D: D, r: max(0, 1 - r)) }
        let feasible = { (r: Double) in generalLoss(r) <= generalCap }
        let h = (shareRange.upperBound - shareRange.lowerBound) / Double(gridPoints - 1)
        let grid = (0..<gridPoints).map { i in i == gridPoints - 1 ? shareRange.upperBound : shareRange.lowerBound + Double(i) * h }

        var best: Int?
        for i in grid.indices where feasible(grid[i]) {
            if best == nil || domainLoss(grid[i]) < domainLoss(grid[best!]) { best = i }
        }
        guard let bestIndex = best else {
            let closest = grid.min { generalLoss($0) < generalLoss($1) }!
            let increase = generalLoss(closest) / referenceGeneralLoss - 1
            throw LawFitError(
                "no domain share in [\(shareRange.lowerBound), \(shareRange.upperBound)] keeps the general loss within tolerance \(tolerance) of \(referenceGeneralLoss) (smallest increase \(increase) at r_d = \(closest)); raise the tolerance or check the reference general loss")
        }
        var answer = grid[bestIndex]
        var active = false
        for j in [bestIndex - 1, bestIndex + 1] where grid.indices.contains(j) {
            guard !feasible(grid[j]), domainLoss(grid[j]) < domainLoss(grid[bestIndex]) else { continue }
            let edge = boundary(feasible: grid[bestIndex], infeasible: grid[j], isFeasible: feasible)
            if domainLoss(edge) < domainLoss(answer) {
                answer = edge
                active = true
            }
        }
        if !active {
            let lower = grid[max(bestIndex - 1, 0)], upper = grid[min(bestIndex + 1, grid.count - 1)]
            let refined = LineMinimizer.minimize(on: lower, upper, gridPoints: 3, domainLoss)
            if feasible(refined.x), refined.value < domainLoss(answer) { answer = refined.x }
        }
        return TradeOff(
            domainShare: answer, domainLoss: domainLoss(answer), generalLoss: generalLoss(answer),
            generalLossIncrease: generalLoss(answer) / referenceGeneralLoss - 1, constraintActive: active)
    }

    /// Result of ``limitedDomainData(domain:N:domainTokens:epochs:shareRange:)``.
    public struct LimitedData: Sendable, Equatable {
        public var domainShare: Double
        public var domainLoss: Double
        /// `D = epochs · D_dom / r_d` (infinite at `r_d = 0`).
        public var totalTokens: Double
        /// True when the optimum is an end of the searched range.
        public var atBoundary: Bool
    }

    /// Usage 2: with `D_dom` domain tokens used `epochs` times, `D = epochs·D_dom / r_d`; minimises
    /// `L_d = E + A N^−α + B (epochs·D_dom)^−β r_d^(η+β) + C (r_d + ε)^−γ` over `shareRange` (grid
    /// of 10,001 points + golden section; the optimum may be an end point).
    public static func limitedDomainData(
        domain: DCPTParameters, N: Double, domainTokens: Double, epochs: Double = 1,
        shareRange: ClosedRange<Double> = 0...1
    ) throws -> LimitedData {
        try check(N: N, D: domainTokens, shareRange: shareRange)
        guard epochs > 0, epochs.isFinite else { throw LawFitError("epochs = \(epochs); use a positive number of passes") }
        let budget = epochs * domainTokens
        let base = domain.E + domain.A * Foundation.pow(N, -domain.alpha)
        let dataScale = domain.B * Foundation.pow(budget, -domain.beta)
        let loss = { (r: Double) -> Double in
            let data = r > 0 ? dataScale * Foundation.pow(r, domain.eta + domain.beta) : 0
            return base + data + domain.C * Foundation.pow(r + domain.epsilon, -domain.gamma)
        }
        let best = LineMinimizer.minimize(on: shareRange.lowerBound, shareRange.upperBound, loss)
        let atEnd = [shareRange.lowerBound, shareRange.upperBound].first { loss($0) <= best.value }
        let share = atEnd ?? best.x
        return LimitedData(
            domainShare: share, domainLoss: loss(share), totalTokens: share > 0 ? budget / share : .infinity,
            atBoundary: atEnd != nil)
    }

    /// Result of the compute-allocation usage.
    public struct Allocation: Sendable, Equatable {
        public var N: Double
        public var D: Double
        public var share: Double
        public var loss: Double
    }

    /// Usage 3: the compute-optimal `(N, D)` for `flops ≈ 6·N·D` at a fixed share `r > 0`
    /// (the law is Chinchilla-shaped in `(N, D)` with `B' = B r^η`):
    /// `G = (αA / (βB r^η))^(1/(α+β))`, `N = G·(C/6)^(β/(α+β))`, `D = (C/6)^(α/(α+β)) / G`.
    public static func computeAllocation(law: DCPTParameters, share r: Double, flops: Double) throws -> Allocation {
        guard r > 0, r <= 1 else { throw LawFitError("share = \(r); the compute split needs 0 < r ≤ 1 (at r = 0 no data term exists)") }
        guard flops > 0, flops.isFinite else { throw LawFitError("flops = \(flops); give a positive compute budget") }
        guard law.alpha > 0, law.beta > 0, law.A > 0, law.B > 0 else {
            throw LawFitError("the law has α = \(law.alpha), β = \(law.beta), A = \(law.A), B = \(law.B); the closed-form split needs all four positive")
        }
        let total = law.alpha + law.beta
        let g = Foundation.pow(law.alpha * law.A / (law.beta * law.B * Foundation.pow(r, law.eta)), 1 / total)
        let c = flops / 6
        let n = g * Foundation.pow(c, law.beta / total), d = Foundation.pow(c, law.alpha / total) / g
        return Allocation(N: n, D: d, share: r, loss: law.loss(N: n, D: d, r: r))
    }

    /// Usage 3 with the share optimised too: a 1-D search over `shareRange` (lower end > 0) around
    /// the closed form.
    public static func computeAllocation(law: DCPTParameters, flops: Double, shareRange: ClosedRange<Double>) throws -> Allocation {
        guard shareRange.lowerBound > 0, shareRange.upperBound <= 1 else {
            throw LawFitError("shareRange \(shareRange) must lie in (0, 1]; start it at the smallest share the law was fitted on")
        }
        let first = try computeAllocation(law: law, share: shareRange.lowerBound, flops: flops)
        let best = LineMinimizer.minimize(on: shareRange.lowerBound, shareRange.upperBound) { r in
            (try? computeAllocation(law: law, share: r, flops: flops).loss) ?? .infinity
        }
        return best.value < first.loss ? try computeAllocation(law: law, share: best.x, flops: flops) : first
    }

    private static func check(N: Double, D: Double, shareRange: ClosedRange<Double>) throws {
        guard N > 0, N.isFinite else { throw LawFitError("N = \(N); the model size must be positive") }
        guard D > 0, D.isFinite else { throw LawFitError("token count \(D) must be positive") }
        guard shareRange.lowerBound >= 0, shareRange.upperBound <= 1 else {
            throw LawFitError("shareRange \(shareRange) must lie inside [0, 1]")
        }
    }

    /// The feasible point closest to the constraint boundary between a feasible and an infeasible share.
    private static func boundary(feasible a0: Double, infeasible b0: Double, isFeasible: (Double) -> Bool) -> Double {
        var a = a0, b = b0
        for _ in 0..<200 where abs(b - a) > 1e-15 {
            let m = 0.5 * (a + b)
            if m == a || m == b { break }
            if isFeasible(m) { a = m } else { b = m }
        }
        return a
    }
}
