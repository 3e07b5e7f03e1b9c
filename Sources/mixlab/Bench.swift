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
            abstract: "Eval ingest rows/s and claims/s with concurrent claimers; on PostgreSQL also psql \\copy of the same rows and a plain SKIP LOCKED claim with pgbench.")

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
            guard let run = figures[0].run else { return }
            let intoEvals = try copyBaseline(rows: rows, run: run, table: "evals")
            print("psql \\copy of the same rows into evals: \(rows) in \(String(format: "%.3f", intoEvals)) s = \(Int(Double(rows) / intoEvals))/s")
            try psql(["-c", "DROP TABLE IF EXISTS bench_evals_copy", "-c", "CREATE TABLE bench_evals_copy (LIKE evals INCLUDING ALL)"])
            let intoCopy = try copyBaseline(rows: rows, run: run, table: "bench_evals_copy")
            try psql(["-c", "DROP TABLE bench_evals_copy"])
            print("psql \\copy of the same rows into a copy of evals without its foreign key: \(rows) in \(String(format: "%.3f", intoCopy)) s = \(Int(Double(rows) / intoCopy))/s")
            if let tps = try plainClaimBaseline() {
                print("pgbench, plain FOR UPDATE SKIP LOCKED claim, \(claimers) clients: \(runs) rows, \(Int(tps)) claims/s")
            }
        }

        /// Loads the ingest benchmark's rows again with `psql \copy` (as attempt 99 of the same run,
        /// so keys do not collide), timing psql as a whole.
        func copyBaseline(rows: Int, run: RunID, table: String) throws -> Double {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-bench-\(UUID().uuidString).csv").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            let lines = StoreBenchmark.points(rows: rows).map { "\(run.rawValue),99,\($0.step),\($0.tokens),\($0.domain),\($0.loss)" }
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let start = ContinuousClock.now
            try psql(["-c", "\\copy \(table) (run_id, attempt, step, tokens, domain, loss) FROM '\(file)' CSV"])
            let elapsed = ContinuousClock.now - start
            return elapsed.inSeconds
        }

        /// The reference claim: `pgbench` with `claimers` clients, each transaction one `UPDATE …
        /// WHERE id = (SELECT … FOR UPDATE SKIP LOCKED LIMIT 1)` on a bare table of `runs` rows. Nil
        /// (with a note) when pgbench is not installed.
        func plainClaimBaseline() throws -> Double? {
            guard let pgbench = ["/usr/bin/pgbench", "/usr/local/bin/pgbench"].first(where: FileManager.default.isExecutableFile(atPath:)) else {
                print("pgbench not found: no plain SKIP LOCKED baseline (apt-get install -y postgresql-client)")
                return nil
            }
            try psql([
                "-c", "DROP TABLE IF EXISTS bench_plain_claims",
                "-c", "CREATE TABLE bench_plain_claims (id BIGINT PRIMARY KEY, state TEXT NOT NULL, owner TEXT)",
                "-c", "INSERT INTO bench_plain_claims SELECT i, 'queued', NULL FROM generate_series(1, \(runs)) i",
                "-c", "VACUUM ANALYZE bench_plain_claims",
            ])
            let script = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-bench-\(UUID().uuidString).sql").path
            defer { try? FileManager.default.removeItem(atPath: script) }
            try """
                UPDATE bench_plain_claims SET state = 'assigned', owner = 'pgbench'
                WHERE id = (SELECT id FROM bench_plain_claims WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id;

                """.write(toFile: script, atomically: true, encoding: .utf8)
            let output = try capture(pgbench, ["-n", "-c", "\(claimers)", "-j", "2", "-t", "\(runs / claimers)", "-f", script, database])
            try psql(["-c", "DROP TABLE bench_plain_claims"])
            let tps = output.split(separator: "\n").first { $0.hasPrefix("tps = ") }
                .flatMap { Double($0.dropFirst(6).prefix { $0.isNumber || $0 == "." }) }
            return tps
        }

        func capture(_ executable: String, _ arguments: [String]) throws -> String {
            let process = Process()
            let output = Pipe()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ExitCode(process.terminationStatus) }
            return String(decoding: data, as: UTF8.self)
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
