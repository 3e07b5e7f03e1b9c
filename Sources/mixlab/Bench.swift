import ArgumentParser
import Foundation
import MixLabAnalysis
import MixLabCore

extension MixLab {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure MixLab against its peers (run on an idle machine, in a release build).",
            subcommands: [FitBench.self])
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
            for parallel in [false, true] {
                for measurement in try FitBenchmark.run(fixtures: directory, parallel: parallel) {
                    print(measurement.jsonLine)
                }
            }
            if scipy {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", "Benchmarks/scipy_fit_bench.py"]
                try process.run()
                process.waitUntilExit()
                guard process.terminationStatus == 0 else { throw ExitCode(process.terminationStatus) }
            }
        }
    }
}
