import Foundation

/// What a final mixture must satisfy (laws.md §6.1): per-domain minimum and maximum shares, pinned
/// shares, token availability with an epoch cap, optional bounds on disjoint groups of domains, and
/// the semi-continuous "zero or at least m" rule applied when finishing.
///
/// Domains are addressed by index; ``domainNames`` are used only in messages. Call
/// ``feasibleRegion()`` to validate everything and get the resolved bounds the solvers work with.
public struct MixtureConstraints: Sendable, Equatable {
    /// Names of the domains, in the order of the shares.
    public var domainNames: [String]
    /// Hard lower bound `l_j` of each share (default 0).
    public var minimumShares: [Double]
    /// Hard upper bound `u_j` of each share (default 1), before token caps.
    public var maximumShares: [Double]
    /// Domains whose share is fixed: domain index → share.
    public var pinnedShares: [Int: Double]
    /// Tokens available per domain and the run size; tightens each upper bound to
    /// `maximumEpochs_j · availableTokens_j / targetTokens`.
    public var tokenBudget: TokenBudget?
    /// Bounds on the total share of disjoint groups of domains.
    public var groups: [GroupBound]
    /// A share is either 0 or at least this much (applied by ``MixtureFinishing``, not by the
    /// solvers, since the rule makes the feasible set non-convex).
    public var minimumNonZeroShare: Double

    /// Token availability: `r_j · targetTokens ≤ maximumEpochs_j · availableTokens_j`; an infinite
    /// count means the domain is not limited by tokens.
    public struct TokenBudget: Sendable, Equatable {
        /// Tokens available in each domain, `T_j`.
        public var availableTokens: [Double]
        /// How many times each domain may be repeated, `e_max,j`.
        public var maximumEpochs: [Double]
        /// Tokens of the run the mixture is for, `D_target`.
        public var targetTokens: Double

        public init(availableTokens: [Double], maximumEpochs: [Double], targetTokens: Double) {
            self.availableTokens = availableTokens
            self.maximumEpochs = maximumEpochs
            self.targetTokens = targetTokens
        }

        /// The same epoch cap for every domain.
        public init(availableTokens: [Double], maximumEpochs: Double, targetTokens: Double) {
            self.init(
                availableTokens: availableTokens, maximumEpochs: Array(repeating: maximumEpochs, count: availableTokens.count),
                targetTokens: targetTokens)
        }
    }

    /// `minimum ≤ Σ_{j ∈ members} r_j ≤ maximum` for one named group of domains.
    public struct GroupBound: Sendable, Equatable {
        public var name: String
        public var members: [Int]
        public var minimum: Double
        public var maximum: Double

        public init(name: String, members: [Int], minimum: Double = 0, maximum: Double = 1) {
            self.name = name
            self.members = members
            self.minimum = minimum
            self.maximum = maximum
        }
    }

    public init(
        domainNames: [String], minimumShares: [Double]? = nil, maximumShares: [Double]? = nil, pinnedShares: [Int: Double] = [:],
        tokenBudget: TokenBudget? = nil, groups: [GroupBound] = [], minimumNonZeroShare: Double = 0
    ) {
        self.domainNames = domainNames
        self.minimumShares = minimumShares ?? Array(repeating: 0, count: domainNames.count)
        self.maximumShares = maximumShares ?? Array(repeating: 1, count: domainNames.count)
        self.pinnedShares = pinnedShares
        self.tokenBudget = tokenBudget
        self.groups = groups
        self.minimumNonZeroShare = minimumNonZeroShare
    }

    /// The whole simplex over `domainNames`.
    public static func simplex(domainNames: [String]) -> MixtureConstraints { MixtureConstraints(domainNames: domainNames) }

    public var domainCount: Int { domainNames.count }

    /// Validates every constraint and resolves token caps and pins into plain bounds.
    ///
    /// - Throws: `LawFitError` naming the offending domain, group or field and the fix, including
    ///   by how much the constraints are infeasible.
    public func feasibleRegion() throws -> FeasibleRegion {
        let m = domainCount
        guard m > 0 else { throw LawFitError("constraints: no domains given") }
        try checkCount(minimumShares, "minimumShares")
        try checkCount(maximumShares, "maximumShares")
        var lower = minimumShares, upper = maximumShares
        for j in 0..<m {
            let name = domainNames[j]
            guard lower[j].isFinite, upper[j].isFinite else {
                throw LawFitError("domain \(name): bounds must be finite (minimum \(lower[j]), maximum \(upper[j]))")
            }
            guard lower[j] >= 0 else { throw LawFitError("domain \(name): minimum share \(lower[j]) is negative; use 0 or more") }
            guard upper[j] <= 1 else { throw LawFitError("domain \(name): maximum share \(upper[j]) exceeds 1; use at most 1") }
            guard lower[j] <= upper[j] else {
                throw LawFitError("domain \(name): minimum share \(lower[j]) exceeds maximum share \(upper[j]); lower the minimum or raise the maximum")
            }
        }
        var tokenCapped = Array(repeating: false, count: m)
        if let budget = tokenBudget {
            try checkCount(budget.availableTokens, "tokenBudget.availableTokens")
            try checkCount(budget.maximumEpochs, "tokenBudget.maximumEpochs")
            guard budget.targetTokens.isFinite, budget.targetTokens > 0 else {
                throw LawFitError("tokenBudget.targetTokens is \(budget.targetTokens); give the run size in tokens (> 0)")
            }
            for j in 0..<m {
                let name = domainNames[j], tokens = budget.availableTokens[j], epochs = budget.maximumEpochs[j]
                guard !tokens.isNaN, tokens > 0 else {
                    throw LawFitError("domain \(name): available tokens is \(tokens); give a positive count, or infinity for an unlimited domain (to exclude the domain, set its maximum share to 0)")
                }
                guard epochs.isFinite, epochs > 0 else {
                    throw LawFitError("domain \(name): maximum epochs is \(epochs); give a positive finite number")
                }
                let cap = epochs * tokens / budget.targetTokens
                if cap < upper[j] {
                    upper[j] = cap
                    tokenCapped[j] = true
                }
                guard lower[j] <= upper[j] else {
                    throw LawFitError(
                        "domain \(name): minimum share \(lower[j]) needs \(shareText(lower[j] * budget.targetTokens / tokens)) epochs of its \(tokens) tokens, more than the allowed \(epochs); lower the minimum, raise the epoch cap or add tokens"
                    )
                }
            }
        }
        for (j, value) in pinnedShares.sorted(by: { $0.key < $1.key }) {
            guard j >= 0, j < m else { throw LawFitError("pinned share for domain index \(j): there are only \(m) domains (indices 0..<\(m))") }
            let name = domainNames[j]
            guard value.isFinite, value >= lower[j], value <= upper[j] else {
                throw LawFitError(
                    "domain \(name): pinned share \(value) is outside its allowed range [\(lower[j]), \(upper[j])]\(tokenCapped[j] ? " (maximum set by the token cap)" : ""); change the pin or the bounds"
                )
            }
            lower[j] = value
            upper[j] = value
        }
        let minimum = minimumNonZeroShare
        guard minimum.isFinite, minimum >= 0, minimum <= 1 else {
            throw LawFitError("minimumNonZeroShare is \(minimum); use a value in [0, 1]")
        }
        let resolvedGroups = try resolveGroups(lower: lower, upper: upper)
        let region = FeasibleRegion(domainNames: domainNames, lower: lower, upper: upper, tokenCapped: tokenCapped, groups: resolvedGroups)
        try checkTotals(region)
        return region
    }

    private func checkCount(_ values: [Double], _ field: String) throws {
        guard values.count == domainCount else {
            throw LawFitError("\(field) has \(values.count) values for \(domainCount) domains; give one per domain")
        }
    }

    private func resolveGroups(lower: [Double], upper: [Double]) throws -> [FeasibleRegion.Group] {
        var owner = [Int: String]()
        return try groups.map { group in
            guard !group.members.isEmpty else { throw LawFitError("group \(group.name) has no members") }
            for j in group.members {
                guard j >= 0, j < domainCount else { throw LawFitError("group \(group.name): domain index \(j) out of range 0..<\(domainCount)") }
                if let other = owner[j] {
                    throw LawFitError("domain \(domainNames[j]) is in groups \(other) and \(group.name); group bounds must use disjoint groups")
                }
                owner[j] = group.name
            }
            guard group.minimum.isFinite, group.maximum.isFinite, group.minimum >= 0, group.maximum <= 1, group.minimum <= group.maximum else {
                throw LawFitError("group \(group.name): bounds [\(group.minimum), \(group.maximum)] must be finite with 0 ≤ minimum ≤ maximum ≤ 1")
            }
            let memberLower = group.members.reduce(0) { $0 + lower[$1] }
            let memberUpper = group.members.reduce(0) { $0 + upper[$1] }
            guard memberUpper >= group.minimum - FeasibleRegion.slack else {
                throw LawFitError(
                    "group \(group.name): its domains can hold at most \(shareText(memberUpper)) in total, below the group minimum \(group.minimum) by \(shareText(group.minimum - memberUpper)); lower the group minimum or raise the members' maxima"
                )
            }
            guard memberLower <= group.maximum + FeasibleRegion.slack else {
                throw LawFitError(
                    "group \(group.name): its domains need at least \(shareText(memberLower)) in total, above the group maximum \(group.maximum) by \(shareText(memberLower - group.maximum)); raise the group maximum or lower the members' minima"
                )
            }
            return FeasibleRegion.Group(
                name: group.name, members: group.members, minimum: group.minimum, maximum: group.maximum,
                massRange: max(group.minimum, memberLower)...max(min(group.maximum, memberUpper), max(group.minimum, memberLower)))
        }
    }

    private func checkTotals(_ region: FeasibleRegion) throws {
        let (least, most) = region.totalMassRange
        if least > 1 + FeasibleRegion.slack {
            let listed = region.lower.indices.filter { region.lower[$0] > 0 }.map { "\(domainNames[$0]) \(shareText(region.lower[$0]))" }
            throw LawFitError(
                "infeasible constraints: minimum (and pinned) shares need \(shareText(least)) in total, more than 1 by \(shareText(least - 1)) (\(listed.joined(separator: ", "))\(region.groups.isEmpty ? "" : ", group minima included")); lower some minima or pins"
            )
        }
        if most < 1 - FeasibleRegion.slack {
            let listed = region.upper.indices.map { "\(domainNames[$0]) \(shareText(region.upper[$0]))\(region.tokenCapped[$0] ? " (token cap)" : "")" }
            throw LawFitError(
                "infeasible constraints: maximum shares allow only \(shareText(most)) in total, short of 1 by \(shareText(1 - most)) (\(listed.joined(separator: ", "))\(region.groups.isEmpty ? "" : ", group maxima included")); raise some maxima, epoch caps or available tokens"
            )
        }
    }
}

/// Shares and totals in messages, without binary noise such as `0.19999999999999996`.
func shareText(_ value: Double) -> String { String(format: "%.6g", value) }
