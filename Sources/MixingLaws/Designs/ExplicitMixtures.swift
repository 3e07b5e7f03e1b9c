/// A sweep design given as a list of mixtures (for example a proportions file), validated so
/// that every row is a point of the simplex over the design's domains and no mixture repeats.
public struct ExplicitMixtures: Sendable, Equatable, Codable {
    /// One row per mixture, one share per domain in the design's domain order.
    public var rows: [[Double]]
    /// How far a row's sum may be from 1; rows within it are renormalised.
    public var sumTolerance = 1e-6
    /// Rows closer than this in L1 distance count as the same mixture.
    public var duplicateTolerance = 1e-9

    public init(rows: [[Double]]) {
        self.rows = rows
    }

    /// The validated rows, each renormalised to sum to 1.
    ///
    /// - Throws: ``DesignError`` naming the row (1-based) and domain of a wrong width, a
    ///   negative or non-finite share, a sum away from 1, or a repeated mixture.
    public func validated(domains: [String]) throws -> [[Double]] {
        guard !rows.isEmpty else { throw DesignError("explicit design: the list of mixtures is empty; give at least one row") }
        var result: [[Double]] = []
        result.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            let label = "explicit design, row \(index + 1)"
            guard row.count == domains.count else {
                throw DesignError("\(label): has \(row.count) shares for \(domains.count) domains \(domains); give one share per domain")
            }
            for (domain, share) in zip(domains, row) where !(share.isFinite && share >= 0) {
                throw DesignError("\(label), domain \(domain): share \(share) is not a finite non-negative number")
            }
            let sum = row.reduce(0, +)
            guard abs(sum - 1) <= sumTolerance else {
                throw DesignError("\(label): shares sum to \(sum), not 1 (tolerance \(sumTolerance)); fix the row or normalise it")
            }
            result.append(row.map { $0 / sum })
        }
        for i in result.indices {
            for j in (i + 1)..<result.count {
                var distance = 0.0
                for k in result[i].indices {
                    distance += abs(result[i][k] - result[j][k])
                    if distance > duplicateTolerance { break }
                }
                if distance <= duplicateTolerance {
                    throw DesignError(
                        "explicit design: rows \(i + 1) and \(j + 1) are the same mixture; remove one (replicate seeds are a sweep setting, not repeated rows)"
                    )
                }
            }
        }
        return result
    }
}
