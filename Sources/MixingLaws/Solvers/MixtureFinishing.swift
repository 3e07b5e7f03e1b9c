import Foundation

/// The last step from a solver's shares to the mixture that is printed and trained on (laws.md
/// §6.4): the "zero or at least m" rule, renormalisation and re-projection, largest-remainder
/// rounding so the printed shares sum to exactly 1, and warnings about extrapolation.
public struct MixtureFinishing: Sendable {
    /// Printed decimals; shares become multiples of `10^(−decimals)` (0…9).
    public var decimals: Int
    /// The mixtures the law was fitted on; the finished shares are compared with their range.
    public var fittingMixtures: [[Double]]?
    /// Mixtures to predict alongside (natural token shares, uniform, the user's default).
    public var references: [Reference]

    /// A named mixture whose prediction is reported next to the optimum.
    public struct Reference: Sendable, Equatable {
        public var name: String
        public var shares: [Double]
        public init(name: String, shares: [Double]) {
            self.name = name
            self.shares = shares
        }
    }

    public init(decimals: Int = 4, fittingMixtures: [[Double]]? = nil, references: [Reference] = []) {
        self.decimals = decimals
        self.fittingMixtures = fittingMixtures
        self.references = references
    }

    /// Applies the rules to `solution.shares` and reports the result.
    ///
    /// - Throws: `LawFitError` when the constraints are invalid, when zeroing the small shares
    ///   leaves an infeasible problem, or when the decimals, references or fitting mixtures do not
    ///   match the domains.
    public func finish(_ solution: MixtureSolution, model: any MixtureLossModel, constraints: MixtureConstraints) throws -> FinishedMixture {
        let region = try constraints.feasibleRegion()
        let n = region.dimension
        guard solution.shares.count == n else { throw LawFitError("the solution has \(solution.shares.count) shares for \(n) domains") }
        guard (0...9).contains(decimals) else { throw LawFitError("decimals is \(decimals); use 0 to 9") }
        var warnings = [String]()
        let (kept, finalRegion) = try applyMinimumShare(solution.shares, constraints: constraints, region: region, warnings: &warnings)
        let units = roundedUnits(kept, region: finalRegion, warnings: &warnings)
        let scale = pow(10, Double(decimals))
        let shares = units.map { Double($0) / scale }
        if !finalRegion.contains(shares, tolerance: 1e-12) {
            warnings.append("rounding to \(decimals) decimals moves a share outside its bounds; print more decimals")
        }
        try warnings.append(contentsOf: extrapolationWarnings(shares, names: constraints.domainNames))
        let epochs = constraints.tokenBudget.map { budget in
            (0..<n).map { shares[$0] * budget.targetTokens / budget.availableTokens[$0] }
        }
        let referenceLosses = try references.map { reference in
            guard reference.shares.count == n else {
                throw LawFitError("reference mixture \(reference.name) has \(reference.shares.count) shares for \(n) domains")
            }
            return (name: reference.name, loss: model.loss(reference.shares))
        }
        return FinishedMixture(
            shares: shares, units: units, decimals: decimals, formattedShares: units.map(format), unroundedShares: kept,
            predictedLoss: model.loss(shares), activeConstraints: region.activeConstraints(at: shares, tolerance: 1e-12),
            impliedEpochs: epochs, referenceLosses: referenceLosses, warnings: warnings, solution: solution)
    }

    /// Zeroes the shares below `minimumNonZeroShare` (where the hard minimum is 0), renormalises
    /// and re-projects onto the region with those domains closed, until no small share is left.
    private func applyMinimumShare(
        _ start: [Double], constraints: MixtureConstraints, region: FeasibleRegion, warnings: inout [String]
    ) throws -> ([Double], FeasibleRegion) {
        let minimum = constraints.minimumNonZeroShare
        var r = region.project(start)
        guard minimum > 0 else { return (r, region) }
        var closed = Set<Int>()
        var current = region
        for _ in 0...region.dimension {
            let small = (0..<region.dimension).filter { !closed.contains($0) && r[$0] > 0 && r[$0] < minimum && region.lower[$0] == 0 }
            if small.isEmpty { break }
            closed.formUnion(small)
            var narrowed = constraints
            for j in closed { narrowed.maximumShares[j] = 0 }
            do {
                current = try narrowed.feasibleRegion()
            } catch let error as LawFitError {
                let names = closed.sorted().map { constraints.domainNames[$0] }.joined(separator: ", ")
                throw LawFitError("zeroing the shares below minimumNonZeroShare \(minimum) (\(names)) makes the constraints infeasible: \(error.message); lower minimumNonZeroShare or relax the caps")
            }
            for j in closed { r[j] = 0 }
            let total = r.reduce(0, +)
            r = current.project(total > 0 ? r.map { $0 / total } : current.centre)
        }
        for j in 0..<region.dimension where r[j] > 0 && r[j] < minimum - 1e-12 {
            warnings.append("domain \(constraints.domainNames[j]): share \(r[j]) is below minimumNonZeroShare \(minimum) but kept, as its hard minimum is \(region.lower[j])")
        }
        return (r, current)
    }

    /// Largest-remainder rounding to `10^(−decimals)` units summing to exactly `10^decimals`; shares
    /// below their minimum get units first, zero shares stay zero and no share is raised above its cap
    /// unless nothing else can take the unit.
    private func roundedUnits(_ r: [Double], region: FeasibleRegion, warnings: inout [String]) -> [Int] {
        let scale = pow(10, Double(decimals))
        let total = Int(scale)
        var units = r.map { Int(($0 * scale + 1e-9).rounded(.down)) }
        var remainders = r.indices.map { r[$0] * scale - Double(units[$0]) }
        var missing = total - units.reduce(0, +)
        func belowMinimum(_ j: Int) -> Bool { Double(units[j]) < region.lower[j] * scale - 1e-9 }
        func roomUnderCap(_ j: Int) -> Bool { Double(units[j] + 1) <= region.upper[j] * scale + 1e-9 }
        while missing > 0 {
            let eligible = r.indices.filter { r[$0] > 0 && roomUnderCap($0) }
            let pool = eligible.isEmpty ? r.indices.filter { r[$0] > 0 } : eligible
            guard let j = pool.max(by: { a, b in
                (belowMinimum(a) ? 1 : 0, remainders[a], -a) < (belowMinimum(b) ? 1 : 0, remainders[b], -b)
            }) else { break }
            units[j] += 1
            remainders[j] -= 1
            missing -= 1
        }
        while missing < 0 {
            guard let j = r.indices.filter({ units[$0] > 0 }).min(by: { remainders[$0] < remainders[$1] }) else { break }
            units[j] -= 1
            remainders[j] += 1
            missing += 1
        }
        for j in r.indices where r[j] >= 1e-9 && units[j] == 0 {
            warnings.append("domain \(region.domainNames[j]): share \(r[j]) rounds to 0 at \(decimals) decimals")
        }
        return units
    }

    private func extrapolationWarnings(_ shares: [Double], names: [String]) throws -> [String] {
        guard let fitting = fittingMixtures, !fitting.isEmpty else { return [] }
        guard fitting.allSatisfy({ $0.count == shares.count }) else {
            throw LawFitError("every fitting mixture needs \(shares.count) shares, one per domain")
        }
        var warnings = [String]()
        for j in shares.indices {
            let seen = fitting.map { $0[j] }
            let largest = seen.max()!
            let nonZero = seen.filter { $0 > 0 }
            let share = shares[j]
            if share > largest + 1e-9 {
                warnings.append("domain \(names[j]): share \(share) is above the largest share seen in the fitting mixtures (\(largest)); the prediction is extrapolated")
            } else if share > 0, nonZero.isEmpty {
                warnings.append("domain \(names[j]): share \(share) but the domain is absent from every fitting mixture; the prediction is extrapolated")
            } else if share > 0, let smallest = nonZero.min(), share < smallest - 1e-9 {
                warnings.append("domain \(names[j]): share \(share) is below the smallest non-zero share seen in the fitting mixtures (\(smallest)); the prediction is extrapolated")
            } else if share == 0, nonZero.count == seen.count {
                warnings.append("domain \(names[j]): share 0 but every fitting mixture contains it (at least \(nonZero.min()!)); the prediction is extrapolated")
            }
        }
        return warnings
    }

    private func format(_ units: Int) -> String {
        guard decimals > 0 else { return String(units) }
        let scale = Int(pow(10, Double(decimals)))
        let fraction = String(units % scale)
        return "\(units / scale)." + String(repeating: "0", count: decimals - fraction.count) + fraction
    }
}

/// A finished mixture: rounded shares that sum to exactly 1 in print, with the report of §6.4.
public struct FinishedMixture: Sendable {
    /// Rounded shares, multiples of `10^(−decimals)`.
    public var shares: [Double]
    /// Shares in units of `10^(−decimals)`; they sum to exactly `10^decimals`.
    public var units: [Int]
    public var decimals: Int
    /// The shares as printed, for example `0.2500`.
    public var formattedShares: [String]
    /// The shares after the minimum-share rule and re-projection, before rounding.
    public var unroundedShares: [Double]
    /// The model's prediction at the rounded shares.
    public var predictedLoss: Double
    public var activeConstraints: [FeasibleRegion.ActiveConstraint]
    /// `r_j · D_target / T_j` when a token budget was given.
    public var impliedEpochs: [Double]?
    /// Predictions for the reference mixtures, in the order given.
    public var referenceLosses: [(name: String, loss: Double)]
    /// Extrapolation, rounding and minimum-share notes for the user.
    public var warnings: [String]
    /// The solver's result this was finished from.
    public var solution: MixtureSolution
}
