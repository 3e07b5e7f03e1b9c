extension FeasibleRegion {
    /// The Euclidean projection `argmin_{r ∈ region} ‖r − y‖²`.
    ///
    /// Without groups it is exact: `r_j = clip(y_j − τ, l_j, u_j)` with `τ` found on the sorted
    /// breakpoints `y_j − l_j`, `y_j − u_j` and solved in closed form on the bracketing segment.
    /// With groups each group gets its own shift, `r_j = clip(y_j − τ − μ_G, l_j, u_j)`; `τ` is found
    /// by bisection to machine precision and each group's mass is then met exactly.
    public func project(_ y: [Double]) -> [Double] {
        precondition(y.count == dimension, "one value per domain")
        return thresholdProjection(offsets: y, slopes: Array(repeating: 1, count: dimension))
            ?? fallbackPoint()
    }

    /// The KL (Bregman) projection used by exponentiated gradient: `r_j = clip(y_j · s_G, l_j, u_j)`
    /// with one scale per group and a common scale `s`; for the plain capped simplex this is the
    /// "fix violators at their bound, rescale the free ones" rule of laws.md §6.3(f).
    /// Non-positive `y_j` stay at their lower bound; falls back to ``project(_:)`` when the positive
    /// coordinates cannot carry the mass.
    public func projectKL(_ y: [Double]) -> [Double] {
        precondition(y.count == dimension, "one value per domain")
        return thresholdProjection(offsets: Array(repeating: 0, count: dimension), slopes: y.map { max($0, 0) }) ?? project(y)
    }

    /// `‖r − Π(r − g)‖∞`, zero exactly at a stationary point.
    public func projectedGradientNorm(at r: [Double], gradient g: [Double]) -> Double {
        let step = project(zip(r, g).map { $0 - $1 })
        return zip(r, step).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// The Frank–Wolfe duality gap `g · (r − s)` with `s` the linear oracle's vertex; an upper bound
    /// on `f(r) − min f` for convex `f`.
    public func frankWolfeGap(at r: [Double], gradient g: [Double]) -> Double {
        let s = linearMinimizer(g)
        return (0..<dimension).reduce(0) { $0 + g[$1] * (r[$1] - s[$1]) }
    }

    /// Solves `Σ clip(a_j + b_j t, l_j, u_j) = 1` (with a separate shift per group).
    private func thresholdProjection(offsets a: [Double], slopes b: [Double]) -> [Double]? {
        var r = lower
        if groups.isEmpty {
            let residual = Self.solveThreshold(offsets: a, slopes: b, lower: lower, upper: upper, indices: Array(0..<dimension), mass: 1, into: &r)
            return abs(residual) <= 1e-9 ? r : nil
        }
        let free = ungrouped
        func groupMass(_ group: Group, _ t: Double) -> Double {
            let raw = group.members.reduce(0) { $0 + min(max(a[$1] + b[$1] * t, lower[$1]), upper[$1]) }
            return min(max(raw, group.massRange.lowerBound), group.massRange.upperBound)
        }
        func total(_ t: Double) -> Double {
            free.reduce(0) { $0 + min(max(a[$1] + b[$1] * t, lower[$1]), upper[$1]) } + groups.reduce(0) { $0 + groupMass($1, t) }
        }
        var breakpoints = [Double]()
        for j in 0..<dimension where b[j] > 0 {
            breakpoints.append((lower[j] - a[j]) / b[j])
            breakpoints.append((upper[j] - a[j]) / b[j])
        }
        guard var lo = breakpoints.min(), var hi = breakpoints.max() else { return nil }
        lo -= 1
        hi += 1
        for _ in 0..<2000 {
            let mid = 0.5 * (lo + hi)
            if mid <= lo || mid >= hi { break }
            if total(mid) < 1 { lo = mid } else { hi = mid }
        }
        let t = 0.5 * (lo + hi)
        var masses = groups.map { groupMass($0, t) }
        var residual = 1 - masses.reduce(0, +)
        if !free.isEmpty {
            residual = Self.solveThreshold(offsets: a, slopes: b, lower: lower, upper: upper, indices: free, mass: residual, into: &r)
        }
        for g in groups.indices where residual != 0 {
            let moved = min(max(masses[g] + residual, groups[g].massRange.lowerBound), groups[g].massRange.upperBound) - masses[g]
            masses[g] += moved
            residual -= moved
        }
        for (g, group) in groups.enumerated() {
            residual += Self.solveThreshold(offsets: a, slopes: b, lower: lower, upper: upper, indices: group.members, mass: masses[g], into: &r)
        }
        return abs(residual) <= 1e-9 ? r : nil
    }

    /// Sets `r_j = clip(a_j + b_j t, l_j, u_j)` for `j ∈ indices` with `t` chosen so that they sum
    /// to `mass`; returns the part of `mass` that could not be placed (0 unless infeasible).
    static func solveThreshold(
        offsets a: [Double], slopes b: [Double], lower: [Double], upper: [Double], indices: [Int], mass: Double, into r: inout [Double]
    ) -> Double {
        func value(_ j: Int, _ t: Double) -> Double { min(max(a[j] + b[j] * t, lower[j]), upper[j]) }
        var constantSum = 0.0
        var moving = [Int]()
        var breakpoints = [Double]()
        for j in indices {
            if b[j] > 0 && lower[j] < upper[j] {
                moving.append(j)
                breakpoints.append((lower[j] - a[j]) / b[j])
                breakpoints.append((upper[j] - a[j]) / b[j])
            } else {
                r[j] = min(max(a[j], lower[j]), upper[j])
                constantSum += r[j]
            }
        }
        guard !moving.isEmpty else { return mass - constantSum }
        breakpoints.sort()
        func phi(_ t: Double) -> Double { moving.reduce(constantSum) { $0 + value($1, t) } }
        let t: Double
        if phi(breakpoints[0]) >= mass {
            t = breakpoints[0]
        } else if phi(breakpoints[breakpoints.count - 1]) <= mass {
            t = breakpoints[breakpoints.count - 1]
        } else {
            var lo = 0, hi = breakpoints.count - 1  // phi(bp[lo]) < mass ≤ phi(bp[hi])
            while hi - lo > 1 {
                let mid = (lo + hi) / 2
                if phi(breakpoints[mid]) < mass { lo = mid } else { hi = mid }
            }
            let centre = 0.5 * (breakpoints[lo] + breakpoints[hi])
            var fixedSum = constantSum, offsetSum = 0.0, slopeSum = 0.0
            for j in moving {
                let v = a[j] + b[j] * centre
                if v <= lower[j] {
                    fixedSum += lower[j]
                } else if v >= upper[j] {
                    fixedSum += upper[j]
                } else {
                    offsetSum += a[j]
                    slopeSum += b[j]
                }
            }
            t = slopeSum > 0 ? min(max((mass - fixedSum - offsetSum) / slopeSum, breakpoints[lo]), breakpoints[hi]) : centre
        }
        var placed = constantSum
        for j in moving {
            r[j] = value(j, t)
            placed += r[j]
        }
        var residual = mass - placed
        for j in moving where residual != 0 {
            let moved = min(max(r[j] + residual, lower[j]), upper[j]) - r[j]
            r[j] += moved
            residual -= moved
        }
        return residual
    }

    /// Only reached if the region was built without validation; keeps the solvers total.
    private func fallbackPoint() -> [Double] { lower }
}
