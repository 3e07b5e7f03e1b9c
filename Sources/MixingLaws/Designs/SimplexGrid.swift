/// Every mixture of the domains on the lattice with step `1 / divisions`, optionally restricted
/// to per-domain share bounds; a full-factorial sweep (e.g. the Aioli m=2 sweep
/// `(a/10, 1 − a/10)`, `a = 1…9`, is `divisions = 10` with the first domain in `0.1…0.9`).
public struct SimplexGrid: Sendable, Equatable, Codable {
    /// Lattice resolution `k`: shares are multiples of `1/k`.
    public var divisions: Int
    /// Allowed share range per domain name; domains not listed may take any share.
    public var bounds: [String: ClosedRange<Double>]
    /// Largest number of points a grid may expand to.
    public var maximumPointCount = 1_000_000

    public init(divisions: Int, bounds: [String: ClosedRange<Double>] = [:]) {
        self.divisions = divisions
        self.bounds = bounds
    }

    /// The number of lattice points within the bounds.
    public func pointCount(domains: [String]) throws -> Int {
        let limits = try unitLimits(domains: domains)
        return Self.completions(limits: limits, total: divisions)[0][divisions]
    }

    /// The lattice points, in lexicographic order of the shares (first domain slowest).
    ///
    /// - Throws: ``DesignError`` for invalid bounds, an empty grid, or one larger than
    ///   ``maximumPointCount``.
    public func points(domains: [String]) throws -> [[Double]] {
        let limits = try unitLimits(domains: domains)
        let ways = Self.completions(limits: limits, total: divisions)
        let total = ways[0][divisions]
        guard total > 0 else {
            throw DesignError(
                "grid design: no mixture on the 1/\(divisions) lattice satisfies the bounds; widen them or refine the lattice (raise divisions)")
        }
        guard total <= maximumPointCount else {
            throw DesignError(
                "grid design: \(domains.count) domains at step 1/\(divisions) give \(total) mixtures (limit \(maximumPointCount)); use fewer divisions, tighter bounds, or a sampled design"
            )
        }
        var result: [[Double]] = []
        result.reserveCapacity(total)
        var current = Array(repeating: 0, count: limits.count)
        func fill(_ domain: Int, remaining: Int) {
            if domain == limits.count {
                result.append(current.map { Double($0) / Double(divisions) })
                return
            }
            let upper = min(limits[domain].upper, remaining)
            guard limits[domain].lower <= upper else { return }
            for units in limits[domain].lower...upper where ways[domain + 1][remaining - units] > 0 {
                current[domain] = units
                fill(domain + 1, remaining: remaining - units)
            }
        }
        fill(0, remaining: divisions)
        return result
    }

    /// Per-domain share limits in lattice units, after validating the bounds.
    private func unitLimits(domains: [String]) throws -> [(lower: Int, upper: Int)] {
        guard divisions >= 1 else {
            throw DesignError("grid design: divisions is \(divisions); use a whole number ≥ 1 (10 gives steps of 0.1)")
        }
        for name in bounds.keys.sorted() where !domains.contains(name) {
            throw DesignError("grid design: bounds name domain \(name), which is not one of the design's domains \(domains)")
        }
        let slack = 1e-9
        return try domains.map { domain in
            guard let range = bounds[domain] else { return (0, divisions) }
            guard range.lowerBound >= 0, range.upperBound <= 1, range.lowerBound.isFinite else {
                throw DesignError("grid design: bounds of domain \(domain) are \(range); use a range inside 0…1")
            }
            let lower = Int((range.lowerBound * Double(divisions) - slack).rounded(.up))
            let upper = Int((range.upperBound * Double(divisions) + slack).rounded(.down))
            guard lower <= upper else {
                throw DesignError(
                    "grid design: no multiple of 1/\(divisions) lies in the bounds \(range) of domain \(domain); widen them or raise divisions")
            }
            return (lower, upper)
        }
    }

    /// `ways[j][s]`: how many ways domains `j…` can take exactly `s` units within their limits
    /// (saturating, so huge grids are detected without overflow).
    static func completions(limits: [(lower: Int, upper: Int)], total: Int) -> [[Int]] {
        let cap = Int.max / 4
        var ways = Array(repeating: Array(repeating: 0, count: total + 1), count: limits.count + 1)
        ways[limits.count][0] = 1
        for j in stride(from: limits.count - 1, through: 0, by: -1) {
            for s in 0...total {
                var count = 0
                let upper = min(limits[j].upper, s)
                if limits[j].lower <= upper {
                    for units in limits[j].lower...upper {
                        count = min(count + ways[j + 1][s - units], cap)
                    }
                }
                ways[j][s] = count
            }
        }
        return ways
    }
}
