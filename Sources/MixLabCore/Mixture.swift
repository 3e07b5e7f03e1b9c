/// A named data domain of a mixture (`web`, `code`, `math`, ...).
///
/// Names are non-empty and made of letters, digits, `_`, `-`, `.` and `/`, so they can be used
/// as CSV headers, YAML keys and environment values without quoting.
public struct Domain: Hashable, Sendable, Codable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let name: String

    public init(_ name: String) throws(MixLabInputError) {
        guard !name.isEmpty else {
            throw MixLabInputError(field: "domain", problem: "is empty", fix: "give every domain a name")
        }
        let allowed = name.unicodeScalars.allSatisfy {
            ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-./".unicodeScalars.contains($0))
        }
        guard allowed else {
            throw MixLabInputError(
                field: "domain \"\(name)\"", problem: "contains characters other than letters, digits, _ - . /",
                fix: "rename the domain, for example \"\(name.filter { $0.isLetter || $0.isNumber })\"")
        }
        self.name = name
    }

    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure(error.description) }
    }

    public var description: String { name }
    public static func < (lhs: Domain, rhs: Domain) -> Bool { lhs.name < rhs.name }
}

/// A validated point of the probability simplex over named domains: every share is finite and
/// non-negative, and the shares sum to 1 (within 1e-9 after construction).
///
/// Domains keep the order they were given in, which is the column order of exported tables.
public struct Mixture: Hashable, Sendable, CustomStringConvertible {
    public let domains: [Domain]
    public let shares: [Double]

    /// Tolerance within which shares are accepted as summing to 1 without renormalising.
    public static let sumTolerance = 1e-6

    /// Creates a mixture, renormalising shares whose sum is within `renormaliseWithin` of 1.
    ///
    /// - Throws: ``MixLabInputError`` naming the domain for a negative or non-finite share, a
    ///   duplicated domain, an empty mixture, or a sum further from 1 than `renormaliseWithin`.
    public init(domains: [Domain], shares: [Double], renormaliseWithin: Double = sumTolerance) throws(MixLabInputError) {
        guard !domains.isEmpty else {
            throw MixLabInputError(field: "mixture", problem: "has no domains", fix: "list at least one domain with its share")
        }
        guard domains.count == shares.count else {
            throw MixLabInputError(
                field: "mixture", problem: "has \(domains.count) domains but \(shares.count) shares",
                fix: "give exactly one share per domain")
        }
        guard Set(domains).count == domains.count else {
            let duplicate = domains.first { d in domains.filter { $0 == d }.count > 1 }!
            throw MixLabInputError(field: "mixture", problem: "lists domain \(duplicate) twice", fix: "merge the two entries")
        }
        for (domain, share) in zip(domains, shares) {
            guard share.isFinite, share >= 0 else {
                throw MixLabInputError(
                    field: "share of \(domain)", problem: "is \(share)", fix: "use a finite share between 0 and 1")
            }
        }
        let sum = shares.reduce(0, +)
        guard sum > 0 else {
            throw MixLabInputError(field: "mixture", problem: "has all shares zero", fix: "give at least one domain a positive share")
        }
        guard abs(sum - 1) <= renormaliseWithin else {
            throw MixLabInputError(
                field: "mixture", problem: "shares sum to \(sum), not 1",
                fix: "make the shares sum to 1 (or pass them as weights to be normalised)")
        }
        self.domains = domains
        self.shares = shares.map { $0 / sum }
    }

    /// Normalises non-negative weights to a mixture.
    public init(weights: [Domain: Double]) throws(MixLabInputError) {
        let ordered = weights.keys.sorted()
        try self.init(domains: ordered, shares: ordered.map { weights[$0]! }, renormaliseWithin: .infinity)
    }

    public subscript(domain: Domain) -> Double? {
        domains.firstIndex(of: domain).map { shares[$0] }
    }

    /// The equal-share mixture.
    public static func uniform(_ domains: [Domain]) throws(MixLabInputError) -> Mixture {
        try Mixture(domains: domains, shares: Array(repeating: 1 / Double(domains.count), count: domains.count))
    }

    public var description: String {
        zip(domains, shares).map { "\($0.name)=\($1)" }.joined(separator: ", ")
    }
}
