/// The D-CPT sweep (laws.md §1.4): every model size × general:domain ratio × token count, for a
/// general corpus and one domain corpus. Points are ordered size, then ratio, then tokens, so
/// when the token counts are checkpoints of one run, that run's points are contiguous.
public struct DCPTGrid: Sendable, Equatable, Codable {
    /// Model sizes `N` in parameters.
    public var modelSizes: [Double]
    /// Training tokens `D`: budgets, or the checkpoints at which each run is evaluated.
    public var tokenCounts: [Double]
    /// Share `r` of the domain corpus (the second design domain); the general corpus gets `1 − r`.
    public var domainRatios: [Double]

    /// The paper's nine general:domain ratios, 0:10 … 10:0, as domain shares.
    public static let paperRatios: [Double] = [1, 0.9, 0.8, 2.0 / 3, 0.5, 1.0 / 3, 0.2, 0.1, 0]

    public init(modelSizes: [Double], tokenCounts: [Double], domainRatios: [Double] = DCPTGrid.paperRatios) {
        self.modelSizes = modelSizes
        self.tokenCounts = tokenCounts
        self.domainRatios = domainRatios
    }

    /// The grid over `domains = [general, domain]`, with identifiability warnings.
    ///
    /// - Throws: ``DesignError`` unless there are exactly two domains and every list is
    ///   non-empty, without repeats, with positive sizes and token counts and ratios in `0…1`.
    public func generate(domains: [String]) throws -> GeneratedDesign {
        guard domains.count == 2 else {
            throw DesignError(
                "D-CPT grid: mixes a general corpus with one domain corpus, so it needs exactly 2 domains (general first), got \(domains.count): \(domains)"
            )
        }
        try Self.check(modelSizes, "modelSizes", "model size") { $0 > 0 }
        try Self.check(tokenCounts, "tokenCounts", "token count") { $0 > 0 }
        try Self.check(domainRatios, "domainRatios", "ratio") { $0 >= 0 && $0 <= 1 }
        var points: [DesignPoint] = []
        points.reserveCapacity(modelSizes.count * domainRatios.count * tokenCounts.count)
        for size in modelSizes {
            for ratio in domainRatios {
                for tokens in tokenCounts {
                    points.append(DesignPoint(shares: [1 - ratio, ratio], parameterCount: size, tokens: tokens))
                }
            }
        }
        var warnings: [String] = []
        if modelSizes.count < 3 {
            warnings.append(
                "D-CPT grid: only \(modelSizes.count) model size(s); E, A and α (the N dependence) are not identifiable "
                    + "from fewer than 3 sizes (laws.md §1.5). Add a size, or fix α (e.g. to a Chinchilla value) when fitting.")
        }
        if tokenCounts.count < 3 {
            warnings.append(
                "D-CPT grid: only \(tokenCounts.count) token count(s); the D exponent β is poorly determined from fewer than 3. "
                    + "Evaluate more checkpoints per run.")
        }
        return GeneratedDesign(domains: domains, points: points, warnings: warnings)
    }

    private static func check(_ values: [Double], _ field: String, _ noun: String, valid: (Double) -> Bool) throws {
        guard !values.isEmpty else { throw DesignError("D-CPT grid: \(field) is empty; give at least one \(noun)") }
        for value in values where !(value.isFinite && valid(value)) {
            throw DesignError("D-CPT grid: \(field) contains \(value), which is not a valid \(noun)")
        }
        guard Set(values).count == values.count else {
            throw DesignError("D-CPT grid: \(field) lists a \(noun) twice; remove the repeat")
        }
    }
}
