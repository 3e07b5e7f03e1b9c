import ArgumentParser
import Foundation
import MixLabAnalysis
import MixLabCore
import MixLabStore

extension MixLab {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure MixLab against its peers (run on an idle machine, in a release build).",
            subcommands: [FitBench.self, StoreBench.self])
    }

    struct FitBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fit",
            abstract: "Time the D-CPT, 5Mix Data-Mixing-Law and Chinchilla fits on the scipy reference problems.")

        @Option(help: "Folder of the reference fixtures.") var fixtures: String = "Tests/MixingLawsTests/Fixtures"
        @Flag(help: "Also run Benchmarks/scipy_fit_bench.py (numpy + scipy) and print its lines.") var scipy = false

        func run() async throws {
            let directory = URL(fileURLWithPath: fixtures)
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("dcpt_synthetic.json").path) else {
                throw MixLabInputError(
                    field: "--fixtures \(fixtures)", problem: "holds no dcpt_synthetic.json",
                    fix: "run from the repository root or point --fixtures at Tests/MixingLawsTests/Fixtures")
            }
            var measurements: [FitBenchmark.Measurement] = []
            for parallel in [false, true] {
                for measurement in try FitBenchmark.run(fixtures: directory, parallel: parallel) {
                    print(measurement.jsonLine)
                    measurements.append(measurement)
                }
            }
            if scipy {
                let output = try runScipy()
                print(output, terminator: output.hasSuffix("\n") ? "" : "\n")
                measurements += FitBenchmark.scipyMeasurements(jsonLines: output)
            }
            print("")
            print(FitBenchmark.table(measurements))
        }

        /// Runs the scipy side after the Swift fits (never concurrently) and returns its stdout.
        func runScipy() throws -> String {
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "Benchmarks/scipy_fit_bench.py"]
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ExitCode(process.terminationStatus) }
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct StoreBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "store",
            abstract: "Eval ingest rows/s (and, on PostgreSQL, psql \\copy of the same rows) and claims/s with concurrent claimers.")

        @Option(help: "Database URL (a scratch database: the benchmark adds sweeps to it).") var database: String
        @Option(help: "Eval rows to ingest.") var rows: Int = 200_000
        @Option(help: "Rows per report batch.") var batch: Int = 1_000
        @Option(help: "Runs to claim.") var runs: Int = 5_000
        @Option(help: "Concurrent claimers.") var claimers: Int = 16

        func run() async throws {
            let url = try storeURL(database)
            let figures = try await SQLStore.with(url) { store in
                _ = try await store.migrate()
                return [
                    try await StoreBenchmark.ingest(store, rows: rows, batch: batch),
                    try await StoreBenchmark.claims(store, runs: runs, claimers: claimers),
                ]
            }
            for figure in figures {
                print("\(figure.name): \(figure.count) in \(String(format: "%.3f", figure.seconds)) s = \(Int(figure.perSecond))/s")
            }
            if case .sqlite = url.location { return }
            let copy = try copyBaseline(rows: rows)
            print("psql \\copy of the same rows: \(rows) in \(String(format: "%.3f", copy)) s = \(Int(Double(rows) / copy))/s")
        }

        /// Loads the same rows into a scratch copy of `evals` with `psql \copy`, timing psql as a whole.
        func copyBaseline(rows: Int) throws -> Double {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-bench-\(UUID().uuidString).csv").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let lines = StoreBenchmark.points(rows: rows).map { "bench-copy/0,1,\($0.step),\($0.tokens),\($0.domain),\($0.loss)" }
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            try psql(["-c", "DROP TABLE IF EXISTS bench_evals_copy", "-c", "CREATE TABLE bench_evals_copy (LIKE evals INCLUDING ALL)"])
            let start = ContinuousClock.now
            try psql(["-c", "\\copy bench_evals_copy (run_id, attempt, step, tokens, domain, loss) FROM '\(file)' CSV"])
            let elapsed = ContinuousClock.now - start
            try psql(["-c", "DROP TABLE bench_evals_copy"])
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }

        func psql(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["psql", "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", database] + arguments
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ExitCode(process.terminationStatus) }
        }
    }
}
