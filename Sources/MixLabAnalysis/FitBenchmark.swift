public import Foundation
import MixLabCore
import MixingLaws

/// Times MixLab's fits on the scipy reference problems (`Tests/MixingLawsTests/Fixtures`), with
/// the same data and start sets as `Benchmarks/scipy_fit_bench.py`, and lays the two side by side
/// (`mixlab bench fit`).
public enum FitBenchmark {
    /// One timed fit, from either implementation.
    public struct Measurement: Sendable, Equatable {
        public var problem: String
        /// `"swift"` or `"scipy"`.
        public var implementation: String
        /// Threads the multi-start used (scipy: always 1).
        public var threads: Int
        public var starts: Int
        public var seconds: Double
        /// Σ Huber(residual), unscaled, on the problem's residual scale.
        public var objective: Double

        public init(problem: String, implementation: String, threads: Int, starts: Int, seconds: Double, objective: Double) {
            self.problem = problem
            self.implementation = implementation
            self.threads = threads
            self.starts = starts
            self.seconds = seconds
            self.objective = objective
        }

        /// `{"problem", "impl", "threads", "seconds", "objective", "starts"}` on one line.
        public var jsonLine: String {
            let pairs: [(String, ReportValue)] = [
                ("problem", .string(problem)), ("impl", .string(implementation)), ("threads", .integer(threads)),
                ("seconds", .number(seconds)), ("objective", .number(objective)), ("starts", .integer(starts)),
            ]
            return "{" + pairs.map { ReportValue.string($0.0).json() + ": " + $0.1.json() }.joined(separator: ", ") + "}"
        }
    }

    /// The names of the rows, in table order.
    public static let problems = [
        "dcpt_synthetic", polishOnly("dcpt_synthetic"),
        "dml_5mix_academic", "dml_5mix_prose", "dml_5mix_dialogue", "dml_5mix_symbolic", "dml_5mix_internet", "dml_5mix",
        ownStarts("dml_5mix"), "chinchilla",
    ]

    static func polishOnly(_ problem: String) -> String { "\(problem) (polish only)" }
    static func ownStarts(_ problem: String) -> String { "\(problem) (MixLab's own starts)" }

    /// The parts of a reference fixture the benchmark needs.
    struct Fixture: Decodable {
        struct Reference: Decodable {
            let objective: Double
            let starts: Int
            let startList: [[Double]]?
            let tVectors: [[Double]]?
        }
        let featureNames: [String]
        let features: [[Double]]
        let losses: [Double]
        let huberDelta: Double?
        let scipy: Reference

        var dataset: LawDataset { LawDataset(featureNames: featureNames, rows: features, losses: losses) }
    }

    /// Runs every benchmark problem once; `parallel` lets the multi-start use all cores (scipy
    /// uses one).
    ///
    /// - Throws: ``MixLabInputError`` when a fixture is missing or unreadable.
    public static func run(fixtures directory: URL, parallel: Bool) throws -> [Measurement] {
        func load(_ name: String) throws -> Fixture {
            let url = directory.appendingPathComponent("\(name).json")
            do {
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                return try decoder.decode(Fixture.self, from: Data(contentsOf: url))
            } catch {
                throw MixLabInputError(
                    field: "--fixtures", problem: "\(url.path) cannot be read (\(error))",
                    fix: "point --fixtures at Tests/MixingLawsTests/Fixtures or re-run scripts/reference-fits.py")
            }
        }
        let timer = Timer(threads: parallel ? ProcessInfo.processInfo.activeProcessorCount : 1, parallel: parallel)
        var results: [Measurement] = []

        // D-CPT: the 61,440-point projection + 100 polished starts, then the polish alone from
        // scipy's own 100 starts (its "polish_seconds").
        let dcpt = try load("dcpt_synthetic")
        results.append(try timer.time("dcpt_synthetic", dcpt, DCPTLaw(), polish: 100, starts: nil))
        let scipyStarts = dcpt.scipy.startList ?? []
        results.append(try timer.time(polishOnly("dcpt_synthetic"), dcpt, DCPTLaw(), polish: scipyStarts.count, starts: scipyStarts))

        var grid: [Measurement] = [], own: [Measurement] = []
        for group in ["academic", "prose", "dialogue", "symbolic", "internet"] {
            let fixture = try load("dml_5mix_\(group)")
            let law = ExponentialTargetLaw(targetName: group, domains: fixture.featureNames)
            let starts = notebookGrid(fixture.scipy.tVectors ?? [])
            grid.append(try timer.time("dml_5mix_\(group)", fixture, law, polish: starts.count, starts: starts))
            own.append(try timer.time(ownStarts("dml_5mix"), fixture, law, polish: 64, starts: nil))
        }
        results += grid
        results.append(total("dml_5mix", grid))
        results.append(total(ownStarts("dml_5mix"), own))

        let chinchilla = try load("chinchilla")
        let hoffmann = ChinchillaLaw.hoffmannGrid()
        results.append(try timer.time("chinchilla", chinchilla, ChinchillaLaw(), polish: hoffmann.count, starts: hoffmann))
        return results
    }

    /// The summed seconds, objectives and starts of the 5Mix groups (as the scipy script's
    /// `dml_5mix` line).
    static func total(_ problem: String, _ parts: [Measurement]) -> Measurement {
        Measurement(
            problem: problem, implementation: parts.first?.implementation ?? "swift", threads: parts.first?.threads ?? 1,
            starts: parts.reduce(0) { $0 + $1.starts }, seconds: parts.reduce(0) { $0 + $1.seconds },
            objective: parts.reduce(0) { $0 + $1.objective })
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

    /// Wall time of one `LawFitter` run (start generation included when `starts` is nil).
    struct Timer {
        let threads: Int
        let parallel: Bool

        func time<Law: ParametricLaw>(_ problem: String, _ fixture: Fixture, _ law: Law, polish: Int, starts: [[Double]]?) throws -> Measurement {
            var options = LawFitter.Options()
            options.huberDelta = fixture.huberDelta
            options.polishCount = polish
            options.parallel = parallel
            let data = fixture.dataset
            let clock = ContinuousClock()
            let begin = clock.now
            let fit = try LawFitter(options: options).fit(law, to: data, starts: starts)
            let elapsed = clock.now - begin
            return Measurement(
                problem: problem, implementation: "swift", threads: threads, starts: fit.startsPolished,
                seconds: FitBenchmark.seconds(elapsed), objective: fit.objective)
        }
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }
}
