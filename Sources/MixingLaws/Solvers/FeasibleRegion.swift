/// The validated feasible set of mixtures, `{r : Σ r = 1, l ≤ r ≤ u, group bounds}`, with token
/// caps and pins already folded into `l` and `u`. Built by ``MixtureConstraints/feasibleRegion()``;
/// provides the projections and the linear oracle the solvers need.
public struct FeasibleRegion: Sendable, Equatable {
    /// Absolute slack for feasibility tests on sums of shares.
    public static let slack = 1e-12

    public let domainNames: [String]
    /// Resolved lower bounds (pins included).
    public let lower: [Double]
    /// Resolved upper bounds (pins and token caps included).
    public let upper: [Double]
    /// Whether the upper bound of each domain comes from its token budget.
    public let tokenCapped: [Bool]
    /// Disjoint groups of domains with bounds on their total share.
    public let groups: [Group]

    /// A group bound with the range of total share its members can actually take.
    public struct Group: Sendable, Equatable {
        public let name: String
        public let members: [Int]
        public let minimum: Double
        public let maximum: Double
        /// `[max(minimum, Σ l_j), min(maximum, Σ u_j)]` over the members.
        public let massRange: ClosedRange<Double>
    }

    /// A constraint that holds with equality at a solution.
    public struct ActiveConstraint: Sendable, Equatable, CustomStringConvertible {
        /// Which kind of bound is active.
        public enum Kind: String, Sendable, Equatable {
            case pinned, minimum, maximum, tokenCap, groupMinimum, groupMaximum
        }
        public let kind: Kind
        /// The domain or group name.
        public let name: String
        /// The bound's value.
        public let bound: Double

        public var description: String { "\(name) at \(kind.rawValue) \(bound)" }
    }

    init(domainNames: [String], lower: [Double], upper: [Double], tokenCapped: [Bool], groups: [Group]) {
        self.domainNames = domainNames
        self.lower = lower
        self.upper = upper
        self.tokenCapped = tokenCapped
        self.groups = groups
    }

    public var dimension: Int { lower.count }

    /// Indices of the domains that belong to no group.
    var ungrouped: [Int] {
        var grouped = Array(repeating: false, count: dimension)
        for group in groups { for j in group.members { grouped[j] = true } }
        return (0..<dimension).filter { !grouped[$0] }
    }

    /// The least and the most total share the bounds allow.
    var totalMassRange: (least: Double, most: Double) {
        let free = ungrouped
        let least = free.reduce(0) { $0 + lower[$1] } + groups.reduce(0) { $0 + $1.massRange.lowerBound }
        let most = free.reduce(0) { $0 + upper[$1] } + groups.reduce(0) { $0 + $1.massRange.upperBound }
        return (least, most)
    }

    /// Whether `shares` satisfies every constraint within `tolerance` (absolute, on shares and sums).
    public func contains(_ shares: [Double], tolerance: Double = 1e-9) -> Bool {
        guard shares.count == dimension, abs(shares.reduce(0, +) - 1) <= tolerance else { return false }
        for j in 0..<dimension where shares[j] < lower[j] - tolerance || shares[j] > upper[j] + tolerance { return false }
        for group in groups {
            let mass = group.members.reduce(0) { $0 + shares[$1] }
            if mass < group.minimum - tolerance || mass > group.maximum + tolerance { return false }
        }
        return true
    }

    /// The constraints that hold with equality (within `tolerance`) at `shares`.
    public func activeConstraints(at shares: [Double], tolerance: Double = 1e-9) -> [ActiveConstraint] {
        var active = [ActiveConstraint]()
        for j in 0..<dimension {
            if lower[j] == upper[j] {
                active.append(ActiveConstraint(kind: .pinned, name: domainNames[j], bound: lower[j]))
            } else if shares[j] <= lower[j] + tolerance {
                active.append(ActiveConstraint(kind: .minimum, name: domainNames[j], bound: lower[j]))
            } else if shares[j] >= upper[j] - tolerance {
                active.append(ActiveConstraint(kind: tokenCapped[j] ? .tokenCap : .maximum, name: domainNames[j], bound: upper[j]))
            }
        }
        for group in groups {
            let mass = group.members.reduce(0) { $0 + shares[$1] }
            if mass <= group.minimum + tolerance, group.minimum > 0 {
                active.append(ActiveConstraint(kind: .groupMinimum, name: group.name, bound: group.minimum))
            } else if mass >= group.maximum - tolerance, group.maximum < 1 {
                active.append(ActiveConstraint(kind: .groupMaximum, name: group.name, bound: group.maximum))
            }
        }
        return active
    }

    /// A central feasible point: the Euclidean projection of the uniform mixture.
    public var centre: [Double] { project(Array(repeating: 1 / Double(dimension), count: dimension)) }

    /// The linear oracle of Frank–Wolfe: a vertex `s` of the region minimising `gradient · s`.
    ///
    /// Starts from the lower bounds, raises each group to its minimum with its cheapest domains,
    /// then hands the remaining mass to the domains in increasing order of gradient up to their
    /// caps and their group's cap (greedy is exact for disjoint groups: each group's cost is convex
    /// and piecewise linear in its mass).
    public func linearMinimizer(_ gradient: [Double]) -> [Double] {
        var s = lower
        let order = (0..<dimension).sorted { gradient[$0] < gradient[$1] || (gradient[$0] == gradient[$1] && $0 < $1) }
        var groupOf = Array(repeating: -1, count: dimension)
        var groupMass = [Double](repeating: 0, count: groups.count)
        for (g, group) in groups.enumerated() {
            for j in group.members { groupOf[j] = g }
            groupMass[g] = group.members.reduce(0) { $0 + lower[$1] }
        }
        for (g, group) in groups.enumerated() {
            for j in order where groupOf[j] == g && groupMass[g] < group.minimum {
                let add = min(upper[j] - s[j], group.minimum - groupMass[g])
                s[j] += add
                groupMass[g] += add
            }
        }
        var remaining = 1 - s.reduce(0, +)
        for j in order where remaining > 0 {
            var add = min(upper[j] - s[j], remaining)
            if groupOf[j] >= 0 { add = min(add, max(0, groups[groupOf[j]].maximum - groupMass[groupOf[j]])) }
            guard add > 0 else { continue }
            s[j] += add
            remaining -= add
            if groupOf[j] >= 0 { groupMass[groupOf[j]] += add }
        }
        return s
    }
}
