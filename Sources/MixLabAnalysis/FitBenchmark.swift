public import Foundation
import MixingLaws

/// Times MixLab's fits on the scipy reference problems (`Tests/MixingLawsTests/Fixtures`), with
/// the same data and start sets as `Benchmarks/scipy_fit_bench.py`, so the two can be compared
/// side by side (`mixlab bench fit`).
public enum FitBenchmark {
    /// One timed fit.
    public struct Measurement: Sendable {
        public var problem: String
        public var implementation: String
        public var starts: Int
        public var seconds: Double
        public var objective: Double

        public var jsonLine: String {
            ReportValue.object([
                ("problem", .string(problem)), ("impl", .string(implementation)), ("seconds", .number(seconds)),
                ("objective", .number(objective)), ("starts", .integer(starts)),
            ]).json().replacingOccurrences(of: "\n", with: "").replacingOccurrences(of: "  ", with: " ")
        }
    }

    /// The parts of a reference fixture the benchmark needs.
    struct Fixture: Decodable {
        struct Reference: Decodable {
            let objective: Double
            let starts: Int
            let tVectors: [[Double]]?
        }
        let featureNames: [String]
        let features: [[Double]]
        let losses: [Double]
        let huberDelta: Double?
        let scipy: Reference

        var dataset: LawDataset { LawDataset(featureNames: featureNames, rows: features, losses: losses) }
    }

    /// Runs every benchmark problem; `parallel` lets multi-start use all cores (scipy uses one).
    public static func run(fixtures directory: URL, parallel: Bool) throws -> [Measurement] {
        func load(_ name: String) throws -> Fixture {
            let url = directory.appendingPathComponent("\(name).json")
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(Fixture.self, from: Data(contentsOf: url))
        }
        let label = parallel ? "swift (all cores)" : "swift (1 thread)"
        var results: [Measurement] = []

        let dcpt = try load("dcpt_synthetic")
        results.append(try time("dcpt_synthetic", label, dcpt, DCPTLaw(), polish: 100, starts: nil, parallel: parallel))

        var groupSeconds = 0.0, groupObjective = 0.0, groupStarts = 0
        var defaultSeconds = 0.0, defaultObjective = 0.0, defaultStarts = 0
        for group in ["academic", "prose", "dialogue", "symbolic", "internet"] {
            let fixture = try load("dml_5mix_\(group)")
            let law = ExponentialTargetLaw(targetName: group, domains: fixture.featureNames)
            let grid = notebookGrid(fixture.scipy.tVectors ?? [])
            let same = try time("dml_5mix_\(group)", label, fixture, law, polish: grid.count, starts: grid, parallel: parallel)
            groupSeconds += same.seconds
            groupObjective += same.objective
            groupStarts += same.starts
            let own = try time("dml_5mix_\(group)", label, fixture, law, polish: 64, starts: nil, parallel: parallel)
            defaultSeconds += own.seconds
            defaultObjective += own.objective
            defaultStarts += own.starts
        }
        results.append(Measurement(problem: "dml_5mix", implementation: label, starts: groupStarts, seconds: groupSeconds, objective: groupObjective))
        results.append(Measurement(
            problem: "dml_5mix (MixLab's own starts)", implementation: label, starts: defaultStarts, seconds: defaultSeconds,
            objective: defaultObjective))

        let chinchilla = try load("chinchilla")
        let hoffmann = ChinchillaLaw.hoffmannGrid()
        results.append(try time("chinchilla", label, chinchilla, ChinchillaLaw(), polish: hoffmann.count, starts: hoffmann, parallel: parallel))
        return results
    }

    /// The 5Mix notebook grid: lc ∈ linspace(−2, 1.5, 10) × lk ∈ linspace(−10, 1, 20) × t vectors.
    static func notebookGrid(_ tVectors: [[Double]]) -> [[Double]] {
        var starts: [[Double]] = []
        for i in 0..<10 {
            for j in 0..<20 {
                for t in tVectors { starts.append([-2 + 3.5 * Double(i) / 9, -10 + 11 * Double(j) / 19] + t) }
            }
        }
        return starts
    }

    static func time<Law: ParametricLaw>(
        _ problem: String, _ label: String, _ fixture: Fixture, _ law: Law, polish: Int, starts: [[Double]]?, parallel: Bool
    ) throws -> Measurement {
        var options = LawFitter.Options()
        options.huberDelta = fixture.huberDelta
        options.polishCount = polish
        options.parallel = parallel
        let data = fixture.dataset
        let clock = ContinuousClock()
        var fit: FittedLaw<Law>?
        let elapsed = try clock.measure { fit = try LawFitter(options: options).fit(law, to: data, starts: starts) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Measurement(problem: problem, implementation: label, starts: fit!.startsPolished, seconds: seconds, objective: fit!.objective)
    }
}
