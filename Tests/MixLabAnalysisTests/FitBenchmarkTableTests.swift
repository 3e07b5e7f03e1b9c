import Testing
@testable import MixLabAnalysis

/// The side-by-side table of `mixlab bench fit --scipy`: scipy's JSON lines are read back and
/// paired with MixLab's rows by problem.
@Suite struct FitBenchmarkTableTests {
    static let scipyOutput = """
        {"problem": "dcpt_synthetic", "seconds": 6.0, "objective": 0.001, "starts": 100, "projection_seconds": 1.0, "polish_seconds": 5.0, "projection_grid": 61440}
        some warning printed by numpy
        {"problem": "dml_5mix_prose", "seconds": 30.0, "objective": 0.01, "starts": 6000}
        """

    @Test func scipyLinesBecomeMeasurementsWithAPolishOnlyRow() {
        let rows = FitBenchmark.scipyMeasurements(jsonLines: Self.scipyOutput)
        #expect(rows.map(\.problem) == ["dcpt_synthetic", "dcpt_synthetic (polish only)", "dml_5mix_prose"])
        #expect(rows.map(\.seconds) == [6, 5, 30])
        #expect(rows.allSatisfy { $0.implementation == "scipy" && $0.threads == 1 })
    }

    @Test func tableShowsSpeedUpAndObjectiveDifferenceAgainstOneThread() {
        let swift = [
            FitBenchmark.Measurement(problem: "dcpt_synthetic", implementation: "swift", threads: 1, starts: 100, seconds: 2, objective: 0.001),
            FitBenchmark.Measurement(problem: "dcpt_synthetic", implementation: "swift", threads: 2, starts: 100, seconds: 1.5, objective: 0.001),
            FitBenchmark.Measurement(problem: "chinchilla", implementation: "swift", threads: 1, starts: 4500, seconds: 7, objective: 0.002),
        ]
        let lines = FitBenchmark.table(swift + FitBenchmark.scipyMeasurements(jsonLines: Self.scipyOutput)).split(separator: "\n")
        #expect(lines.count == 2 + 4)
        let dcpt = lines.first { $0.hasPrefix("| dcpt_synthetic |") }.map(String.init) ?? ""
        #expect(dcpt.contains("| 3.0× |"), "\(dcpt)")
        #expect(dcpt.contains("| +0.0e+00 |"), "\(dcpt)")
        #expect(dcpt.contains("| 1.50 |"), "\(dcpt)")
        let chinchilla = lines.first { $0.hasPrefix("| chinchilla |") }.map(String.init) ?? ""
        #expect(chinchilla.hasSuffix("| — | — |"), "\(chinchilla)")
    }

    @Test func jsonLineHasTheAgreedKeys() {
        let line = FitBenchmark.Measurement(problem: "p", implementation: "swift", threads: 1, starts: 3, seconds: 0.5, objective: 2).jsonLine
        #expect(line == #"{"problem": "p", "impl": "swift", "threads": 1, "seconds": 0.5, "objective": 2, "starts": 3}"#)
    }
}
