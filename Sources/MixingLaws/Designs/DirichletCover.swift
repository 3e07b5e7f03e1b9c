/// The Aioli "Dirichlet cover" design (aioli.md §1.5): sample `oversampling · count` mixtures
/// from Dirichlet(α), then repeatedly replace the closest pair (Euclidean) by its midpoint until
/// `count` remain. The result spreads over the simplex more evenly than `count` raw draws.
public struct DirichletCover: Sendable, Equatable, Codable {
    /// How many mixtures to return.
    public var count: Int
    /// Dirichlet concentration per domain; nil means all ones (uniform on the simplex).
    public var concentration: [Double]?
    /// Draws per returned mixture before merging (Aioli used 16).
    public var oversampling = 16

    public init(count: Int, concentration: [Double]? = nil) {
        self.count = count
        self.concentration = concentration
    }

    /// The merged mixtures, in the order of the draws they descend from.
    ///
    /// - Throws: ``DesignError`` for a non-positive count or oversampling, or a concentration
    ///   that does not give one positive value per domain.
    public func sample(domains: [String], seed: UInt64) throws -> [[Double]] {
        guard count >= 1 else { throw DesignError("Dirichlet cover: count is \(count); request at least one mixture") }
        guard oversampling >= 1 else { throw DesignError("Dirichlet cover: oversampling is \(oversampling); use at least 1 (Aioli used 16)") }
        let alpha = concentration ?? Array(repeating: 1, count: domains.count)
        guard alpha.count == domains.count else {
            throw DesignError("Dirichlet cover: concentration has \(alpha.count) values for \(domains.count) domains; give one per domain")
        }
        for (domain, value) in zip(domains, alpha) where !(value.isFinite && value > 0) {
            throw DesignError("Dirichlet cover: concentration of domain \(domain) is \(value); use a positive number")
        }
        var rng = SeededRandom(seed: seed)
        var points = (0..<(oversampling * count)).map { _ in rng.nextDirichlet(alpha) }
        var active = Array(repeating: true, count: points.count)
        var nearest = Array(repeating: -1, count: points.count)
        var nearestDistance = Array(repeating: Double.infinity, count: points.count)

        func distance(_ i: Int, _ j: Int) -> Double {
            var sum = 0.0
            for k in points[i].indices { sum += (points[i][k] - points[j][k]) * (points[i][k] - points[j][k]) }
            return sum
        }
        func refreshNearest(_ i: Int) {
            nearest[i] = -1
            nearestDistance[i] = .infinity
            for j in points.indices where j != i && active[j] {
                let d = distance(i, j)
                if d < nearestDistance[i] { (nearest[i], nearestDistance[i]) = (j, d) }
            }
        }

        for i in points.indices { refreshNearest(i) }
        var remaining = points.count
        while remaining > count {
            var first = -1
            for i in points.indices where active[i] && (first < 0 || nearestDistance[i] < nearestDistance[first]) { first = i }
            let second = nearest[first]
            let (kept, dropped) = (min(first, second), max(first, second))
            points[kept] = zip(points[kept], points[dropped]).map { ($0 + $1) / 2 }
            active[dropped] = false
            remaining -= 1
            refreshNearest(kept)
            for i in points.indices where active[i] && i != kept {
                if nearest[i] == kept || nearest[i] == dropped {
                    refreshNearest(i)
                } else {
                    let d = distance(i, kept)
                    if d < nearestDistance[i] { (nearest[i], nearestDistance[i]) = (kept, d) }
                }
            }
        }
        return points.indices.filter { active[$0] }.map { points[$0] }
    }
}
