/// A linear model of the aggregated loss, `L(r) = β₀ + Σ_j β_j r_j`; the RegMix linear baseline.
public struct LinearMixtureModel: MixtureLossModel {
    public let intercept: Double
    public let coefficients: [Double]

    public init(intercept: Double, coefficients: [Double]) {
        self.intercept = intercept
        self.coefficients = coefficients
    }

    public var domainCount: Int { coefficients.count }

    public func loss(_ shares: [Double]) -> Double {
        zip(coefficients, shares).reduce(intercept) { $0 + $1.0 * $1.1 }
    }

    public func gradient(_ shares: [Double]) -> [Double]? { coefficients }
}

/// Ordinary least squares with an intercept (`linear`, RegMix's baseline regressor, laws.md §3.3).
///
/// Shares sum to 1, so the intercept column equals the sum of the share columns; the pivoted QR
/// of ``LinearSolve/leastSquares(_:_:relativeRankTolerance:)`` detects the dependence and
/// returns one least-squares solution (all give the same predictions on the simplex). The
/// reported coefficients are then put in the unique gauge "intercept 0": `β_j` is the predicted
/// loss of the pure-domain mixture `e_j`, and `<target>.intercept` is reported as 0. Targets are
/// fitted separately and aggregated with their weights (OLS is linear in the response, so this
/// equals a fit of the aggregated loss).
public struct LinearLawFitter: MixtureLawFitter {
    public let name = "linear"

    public init() {}

    /// `M` per target: an intercept and `M` coefficients, less one for the collinearity.
    public func minimumRuns(domains: Int, targets: Int) -> Int { domains }

    public func fit(_ runs: MixtureRuns) throws -> FittedMixtureLaw {
        let shares = try runs.validatedShares(
            law: name, minimumRuns: minimumRuns(domains: runs.domains.count, targets: runs.targetNames.count), positiveLosses: false)
        let m = runs.domains.count
        var design = Matrix(rows: shares.count, columns: m + 1)
        for (n, row) in shares.enumerated() {
            design[n, 0] = 1
            for j in 0..<m { design[n, j + 1] = row[j] }
        }
        var parameters: [(name: String, value: Double)] = []
        var aggregate = Array(repeating: 0.0, count: m)
        var objective = 0.0
        for (target, name) in runs.targetNames.enumerated() {
            let losses = runs.losses(ofTarget: target)
            let (solution, _) = LinearSolve.leastSquares(design, losses)
            let vertexLosses = solution.dropFirst().map { $0 + solution[0] }
            parameters.append((name: "\(name).intercept", value: 0))
            for (domain, value) in zip(runs.domains, vertexLosses) { parameters.append((name: "\(name).\(domain)", value: value)) }
            for j in 0..<m { aggregate[j] += runs.targetWeights[target] * vertexLosses[j] }
            let fitted = design.times(solution)
            objective += zip(fitted, losses).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        }
        guard aggregate.allSatisfy(\.isFinite) else {
            throw LawFitError("\(name): the least-squares solution is not finite; check the runs for extreme losses")
        }
        return FittedMixtureLaw(
            law: name, parameters: parameters, model: LinearMixtureModel(intercept: 0, coefficients: aggregate), objective: objective)
    }
}
