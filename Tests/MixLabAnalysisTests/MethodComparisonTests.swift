import MixLabAnalysis
import MixLabCore
import Testing

@Suite("Method comparison of an online sweep")
struct MethodComparisonTests {
    static func run(_ method: ComparedMethod, _ pair: String, _ losses: [String: Double]?) -> ComparedRun {
        ComparedRun(method: method, pair: pair, steps: 100, finalLosses: losses)
    }

    /// Objective x + 3y (weights 1 and 3); three seeds; grid has two runs per seed, one failed.
    static let runs: [ComparedRun] = [
        run(.aioli, "seed=1", ["x": 1.6, "y": 1.0]),
        run(.aioli, "seed=2", ["x": 2.8, "y": 1.2]),
        run(.aioli, "seed=3", ["x": 1.2, "y": 1.2]),
        run(.stratified, "seed=1", ["x": 2.0, "y": 1.0]),
        run(.grid, "seed=1", ["x": 1.0, "y": 1.2]),
        run(.grid, "seed=1", ["x": 2.0, "y": 0.8]),
        run(.stratified, "seed=2", ["x": 2.4, "y": 1.2]),
        run(.grid, "seed=2", ["x": 2.0, "y": 1.0]),
        run(.grid, "seed=2", nil),
        run(.stratified, "seed=3", ["x": 1.6, "y": 1.2]),
        run(.grid, "seed=3", ["x": 1.2, "y": 1.6]),
        run(.grid, "seed=3", ["x": 2.0, "y": 1.2]),
    ]

    @Test("per method: mean, sd, paired Δ and wins vs stratified, steps; grid is its best run per seed")
    func handComputed() throws {
        let weights = ["x": 1.0, "y": 3.0]
        let comparison = try MethodComparison.compare(runs: Self.runs, measuredOn: weights, selectedBy: weights)
        #expect(comparison.pairs == ["seed=1", "seed=2", "seed=3"])
        #expect(comparison.completePairs == comparison.pairs, "grid's seed 2 still has one usable run")
        #expect(comparison.rows.map(\.method) == [.stratified, .grid, .aioli])
        let stratified = comparison.rows[0], grid = comparison.rows[1], aioli = comparison.rows[2]
        // Stratified per seed: (2 + 3)/4, (2.4 + 3.6)/4, (1.6 + 3.6)/4.
        expectClose(stratified.perPair, [1.25, 1.5, 1.3])
        expectClose(stratified.meanLoss, 1.35)
        expectClose(stratified.sd, 0.1322876)
        #expect(stratified.deltaVsStratified == nil && stratified.winsVsStratified == nil)
        // Grid: best of (1.15, 1.1), the one that succeeded (1.25), best of (1.5, 1.4).
        expectClose(grid.perPair, [1.1, 1.25, 1.4])
        expectClose(grid.meanLoss, 1.25)
        expectClose(grid.sd, 0.15)
        expectClose(grid.deltaVsStratified, -0.1)
        #expect(grid.winsVsStratified == 2 && grid.pairsVsStratified == 3)
        #expect(grid.runs == 6 && grid.usableRuns == 5 && grid.trainingSteps == 600 && grid.trainingStepsPerPair == 200)
        // Aioli: 1.15, 1.6, 1.2 against 1.25, 1.5, 1.3.
        expectClose(aioli.meanLoss, 3.95 / 3)
        expectClose(aioli.sd, 0.2466441)
        expectClose(aioli.deltaVsStratified, -0.1 / 3)
        #expect(aioli.winsVsStratified == 2 && aioli.trainingStepsPerPair == 100)
        #expect(comparison.table.contains("| grid | 1.2500 | 0.1500 | −0.1000 | 2/3 | 5/6 | 200 steps |"), "\(comparison.table)")
    }

    @Test("a pair where a method has no usable run is left out of every row's statistics and named under the table")
    func incompletePairs() throws {
        let runs = [
            Self.run(.stratified, "seed=1", ["x": 2]),
            Self.run(.aioli, "seed=1", ["x": 1]),
            Self.run(.stratified, "seed=2", nil),
            Self.run(.aioli, "seed=2", ["x": 5]),
            Self.run(.stratified, "seed=3", ["x": 4]),
            Self.run(.aioli, "seed=3", ["x": 3]),
            Self.run(.aioli, "seed=4", ["x": 9]),
        ]
        let comparison = try MethodComparison.compare(runs: runs, measuredOn: ["x": 1], selectedBy: ["x": 1])
        #expect(comparison.completePairs == ["seed=1", "seed=3"])
        let stratified = comparison.rows[0], aioli = comparison.rows[1]
        expectClose(stratified.meanLoss, 3)
        expectClose(aioli.meanLoss, 2)
        expectClose(aioli.deltaVsStratified, -1)
        #expect(aioli.winsVsStratified == 2 && aioli.pairsVsStratified == 2)
        #expect(aioli.perPair == [1, 5, 3, 9], "every pair's value is still reported")
        #expect(
            comparison.table.contains("seed=2 (no usable stratified run); seed=4 (no usable stratified run)"), "\(comparison.table)")
    }

    @Test("measured on test domains, grid still picks its run by the objective's domains")
    func testDomains() throws {
        let runs = [
            Self.run(.stratified, "s", ["x": 1.5, "y": 1.5, "x.test": 2, "y.test": 2]),
            Self.run(.grid, "s", ["x": 1, "y": 1, "x.test": 3, "y.test": 3]),
            Self.run(.grid, "s", ["x": 2, "y": 2, "x.test": 1, "y.test": 1]),
        ]
        let objective = ["x": 1.0, "y": 3.0]
        let measured = MethodComparison.measurementWeights(objective: objective, domains: ["x.test", "y.test"])
        #expect(measured == ["x.test": 1, "y.test": 3])
        let comparison = try MethodComparison.compare(runs: runs, measuredOn: measured, selectedBy: objective)
        expectClose(comparison.rows[1].perPair, [3])
        expectClose(comparison.rows[1].deltaVsStratified, 1)
        #expect(comparison.rows[1].winsVsStratified == 0)
        #expect(comparison.rows[0].sd == nil, "one pair has no spread")
    }

    @Test("domains outside the objective are weighted equally; no domains means the objective")
    func weights() {
        let objective = ["x": 1.0, "y": 3.0]
        #expect(MethodComparison.measurementWeights(objective: objective, domains: nil) == objective)
        #expect(MethodComparison.measurementWeights(objective: objective, domains: ["x.test", "z"]) == ["x.test": 1, "z": 1])
    }

    @Test("a weight map without a positive weight is refused with the field to fix")
    func emptyWeights() {
        let error = #expect(throws: MixLabInputError.self) {
            try MethodComparison.compare(runs: Self.runs, measuredOn: ["x": 0], selectedBy: ["x": 1])
        }
        #expect(error?.field == "domains")
    }

    func expectClose(_ actual: Double?, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.map { abs($0 - expected) < 1e-6 } == true, "\(String(describing: actual)) ≠ \(expected)", sourceLocation: sourceLocation)
    }

    func expectClose(_ actual: [Double?], _ expected: [Double], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(actual.count == expected.count, sourceLocation: sourceLocation)
        for (value, wanted) in zip(actual, expected) { expectClose(value, wanted, sourceLocation: sourceLocation) }
    }

    @Test("budgets in tokens only: the training per pair is counted in tokens, and steps are absent, not zero")
    func tokenBudgets() throws {
        let runs = [
            ComparedRun(method: .stratified, pair: "seed=1", steps: nil, tokens: 4_000, finalLosses: ["x": 2]),
            ComparedRun(method: .aioli, pair: "seed=1", steps: nil, tokens: 4_000, finalLosses: ["x": 1]),
            ComparedRun(method: .grid, pair: "seed=1", steps: nil, tokens: 4_000, finalLosses: ["x": 3]),
            ComparedRun(method: .grid, pair: "seed=1", steps: nil, tokens: 4_000, finalLosses: ["x": 4]),
        ]
        let comparison = try MethodComparison.compare(runs: runs, measuredOn: ["x": 1], selectedBy: ["x": 1])
        let grid = try #require(comparison.rows.first { $0.method == .grid })
        #expect(grid.trainingSteps == nil && grid.trainingStepsPerPair == nil)
        #expect(grid.trainingTokens == 8_000 && grid.trainingTokensPerPair == 8_000)
        #expect(comparison.table.contains("| 2/2 | 8000 tokens |"), "\(comparison.table)")
    }
}
