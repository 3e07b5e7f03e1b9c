import Foundation

/// The RegMix proxy-mixture sampler (laws.md §3.2): Dirichlet draws centred on a tempered token
/// prior, with concentrations spread from near-one-hot to near-prior, per-domain usage caps,
/// small shares zeroed, rounding, and de-duplication.
///
/// One deliberate deviation from the released code: rows are rounded to multiples of
/// ``precision`` with the largest-remainder rule, so every row sums to 1 exactly in units of
/// `precision` (RegMix rounds each share independently and its stored rows sum to 0.996–1.003).
/// Caps and the minimum share are also re-checked on the rounded row, so the returned design
/// never exceeds a cap even after renormalisation. The strength is picked before the draw rather
/// than drawing one sample per strength and picking one, which has the same distribution.
public struct RegMixSampler: Sendable, Equatable, Codable {
    /// How many distinct mixtures to return (RegMix used 512).
    public var count: Int
    /// Natural token share of each domain (any non-negative scale; normalised before use).
    public var prior: [Double]
    /// Exponent applied to the prior before centring the Dirichlet on it (RegMix `TEMP`).
    public var temperature: Double = 0.5
    /// Dirichlet concentrations; each draw picks one uniformly.
    public var strengths: [Double] = RegMixSampler.logSpaced(from: 0.1, to: 5.0, count: 15)
    /// Cap multiplier: domain j may get at most `min(maximumUsage · p_j, 1)` of the tokens, with
    /// `p` the untempered prior (RegMix `MAXIMUM_USAGE`).
    public var maximumUsage: Double = 15
    /// Shares below this are set to zero before renormalising.
    public var minimumShare: Double = 2e-4
    /// Rounding step of the returned shares; `1 / precision` must be a whole number.
    public var precision: Double = 2e-4
    /// Draws per requested mixture; the whole budget is `attemptsPerPoint · count` draws.
    public var attemptsPerPoint: Int = 100
    /// Rows within this L1 distance of the previous kept row (in lexicographic order) are dropped.
    public var duplicateTolerance: Double = 1e-5

    public init(count: Int, prior: [Double]) {
        self.count = count
        self.prior = prior
    }

    /// `count` values from `from` to `to`, evenly spaced in log scale (numpy `logspace`).
    public static func logSpaced(from: Double, to: Double, count: Int) -> [Double] {
        guard count > 1 else { return count == 1 ? [from] : [] }
        let a = Foundation.log(from), b = Foundation.log(to)
        return (0..<count).map { i in
            i == 0 ? from : i == count - 1 ? to : Foundation.exp(a + (b - a) * Double(i) / Double(count - 1))
        }
    }

    /// The cap of each domain, `min(maximumUsage · p_j, 1)` with `p` the normalised prior.
    public var caps: [Double] {
        let total = prior.reduce(0, +)
        return prior.map { min(maximumUsage * $0 / total, 1) }
    }

    /// The Dirichlet centre: the prior raised to ``temperature`` and normalised.
    public var temperedPrior: [Double] {
        let total = prior.reduce(0, +)
        let powered = prior.map { $0 > 0 ? Foundation.pow($0 / total, temperature) : 0 }
        let sum = powered.reduce(0, +)
        return powered.map { $0 / sum }
    }

    /// Draws the design: `count` distinct feasible mixtures over `domains`, in random order.
    ///
    /// - Throws: ``DesignError`` for invalid settings, or when the attempt budget yields fewer
    ///   than `count` distinct mixtures within the caps.
    public func sample(domains: [String], seed: UInt64) throws -> [[Double]] {
        try validate(domains: domains)
        let units = Int((1 / precision).rounded())
        let centre = temperedPrior
        let caps = self.caps
        var rng = SeededRandom(seed: seed)
        var accepted: [[Double]] = []
        var rejectedByCaps = 0
        for _ in 0..<(attemptsPerPoint * count) {
            let strength = strengths[min(Int(rng.nextUniform() * Double(strengths.count)), strengths.count - 1)]
            let draw = rng.nextDirichlet(centre.map { $0 * strength })
            guard let row = finish(draw, caps: caps, units: units) else {
                rejectedByCaps += 1
                continue
            }
            accepted.append(row)
        }
        let distinct = Self.deduplicated(accepted, tolerance: duplicateTolerance)
        guard distinct.count >= count else {
            throw DesignError(
                "RegMix sampler: \(attemptsPerPoint * count) draws gave \(distinct.count) distinct mixtures within the caps "
                    + "(\(rejectedByCaps) rejected by caps), \(count) requested; lower count, raise attemptsPerPoint "
                    + "or maximumUsage, or raise the concentrations (strengths)")
        }
        var pool = distinct
        for i in 0..<count {
            let j = i + min(Int(rng.nextUniform() * Double(pool.count - i)), pool.count - i - 1)
            pool.swapAt(i, j)
        }
        return Array(pool.prefix(count))
    }

    /// Checks the caps on the raw draw, zeroes small shares, renormalises, rounds with the
    /// largest-remainder rule and re-checks the caps; nil means the draw is rejected.
    func finish(_ draw: [Double], caps: [Double], units: Int) -> [Double]? {
        for j in draw.indices where draw[j] > caps[j] { return nil }
        var shares = draw.map { $0 < minimumShare ? 0 : $0 }
        let total = shares.reduce(0, +)
        guard total > 0 else { return nil }
        shares = shares.map { $0 / total }
        let scaled = shares.map { $0 * Double(units) }
        var counts = scaled.map { Int($0.rounded(.down)) }
        let deficit = units - counts.reduce(0, +)
        if deficit > 0 {
            let order = scaled.indices.filter { scaled[$0] > 0 }.sorted {
                let a = scaled[$0] - Double(counts[$0]), b = scaled[$1] - Double(counts[$1])
                return a != b ? a > b : $0 < $1
            }
            for k in 0..<min(deficit, order.count) { counts[order[k]] += 1 }
        }
        let rounded = counts.map { Double($0) / Double(units) }
        for j in rounded.indices where rounded[j] > caps[j] || (rounded[j] > 0 && rounded[j] < minimumShare) {
            return nil
        }
        return rounded
    }

    /// Sorts rows lexicographically and drops each row within `tolerance` (L1) of the previous
    /// kept row.
    static func deduplicated(_ rows: [[Double]], tolerance: Double) -> [[Double]] {
        let sorted = rows.sorted { a, b in
            for (x, y) in zip(a, b) where x != y { return x < y }
            return false
        }
        var kept: [[Double]] = []
        for row in sorted {
            if let last = kept.last, zip(row, last).reduce(0, { $0 + abs($1.0 - $1.1) }) <= tolerance { continue }
            kept.append(row)
        }
        return kept
    }

    private func validate(domains: [String]) throws {
        guard count >= 1 else { throw DesignError("RegMix sampler: count is \(count); request at least one mixture") }
        guard prior.count == domains.count else {
            throw DesignError("RegMix sampler: the prior has \(prior.count) values for \(domains.count) domains; give one token share per domain")
        }
        for (domain, value) in zip(domains, prior) where !(value.isFinite && value >= 0) {
            throw DesignError("RegMix sampler: the prior share of domain \(domain) is \(value); use a finite non-negative token share")
        }
        guard prior.contains(where: { $0 > 0 }) else {
            throw DesignError("RegMix sampler: every prior share is zero; give the domains' token shares")
        }
        guard temperature > 0, temperature.isFinite else {
            throw DesignError("RegMix sampler: temperature is \(temperature); use a positive value (RegMix used 0.5)")
        }
        guard !strengths.isEmpty, strengths.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw DesignError("RegMix sampler: strengths must be a non-empty list of positive concentrations (RegMix: 0.1 … 5.0)")
        }
        guard maximumUsage > 0 else {
            throw DesignError("RegMix sampler: maximumUsage is \(maximumUsage); use a positive cap multiplier (RegMix used 15)")
        }
        let capTotal = caps.reduce(0, +)
        guard capTotal >= 1 else {
            throw DesignError("RegMix sampler: the domain caps sum to \(capTotal) < 1, so no mixture fits them; raise maximumUsage")
        }
        let units = (1 / precision).rounded()
        guard precision > 0, precision <= 1, abs(units * precision - 1) < 1e-9 else {
            throw DesignError("RegMix sampler: precision \(precision) must divide 1 into a whole number of steps (for example 2e-4 or 1e-3)")
        }
        guard minimumShare >= 0, minimumShare < 1 else {
            throw DesignError("RegMix sampler: minimumShare is \(minimumShare); use a value in [0, 1)")
        }
        guard attemptsPerPoint >= 1 else {
            throw DesignError("RegMix sampler: attemptsPerPoint is \(attemptsPerPoint); use at least 1 (RegMix used 100)")
        }
    }
}
