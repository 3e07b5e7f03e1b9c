import ArgumentParser
import Foundation
import MixLabCore
import MixLabCorpus
import MixLabDemo
import UnixSignals

extension MixLab {
    struct Demo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a whole mixing-law sweep on this machine: corpus, coordinator + workers over mTLS, ProxyLM runs, fits, mixture.",
            discussion: """
                Gathers real text (or synthesises it), starts a coordinator and workers as separate processes on \
                loopback with a throwaway CA, trains a Dirichlet sweep of ProxyLM proxy runs, fits the laws, prints \
                their held-out error and the recommended mixture next to stratified, writes ratios.csv, metrics.csv, \
                evals.csv, mixture.yaml, fit.svg and summary.json into --out, and stops the daemons. Running it \
                again with the same settings reuses the corpus and the finished sweep.
                """)

        @Option(help: "Output folder.") var out: String = "mixlab-demo"
        @Option(help: "Store: postgres://user[:password]@host[:port]/db (default: an SQLite file in --out).") var database: String?
        @Option(help: "Domains, comma-separated (of prose, legal, code, math, config, docs).") var domains: String = "code,docs,math,prose"
        @Option(help: "Corpus: gather (Debian packages, falling back to synthetic), synthetic, or a folder made by `mixlab corpus`.")
        var corpus: String = "gather"
        @Option(help: "MiB of text per domain.") var corpusMib: Double = 2
        @Option(help: "Proxy runs in the sweep.") var runs: Int = 24
        @Option(help: "Worker processes.") var workers: Int = 2
        @Option(help: "Runs each worker trains at once.") var slots: Int = 1
        @Option(help: "Training tokens per proxy run.") var tokens: Int = 1_000_000
        @Option(help: "ProxyLM size: tiny, small, medium, large, xl or a parameter count.") var modelSize: String = "medium"
        @Option(help: "Mixture laws to fit, comma-separated.") var laws: String = "dml,linear"
        @Option(help: "Seed of the design and of every proxy run.") var seed: Int = 1
        @Flag(help: "Then train the recommended and the stratified mixture with fresh seeds and print both measured losses.")
        var verify = false
        @Option(help: "Seeds for --verify.") var verifySeeds: Int = 3

        func run() async throws {
            guard let executable = Bundle.main.executablePath else {
                throw MixLabInputError(field: "mixlab", problem: "cannot find its own executable", fix: "run it by its full path")
            }
            var configuration = DemoConfiguration(outputDirectory: out, executable: executable)
            configuration.databaseURL = database
            configuration.domains = try CorpusDomain.parseList(domains)
            switch corpus {
            case "gather": configuration.corpus = .gather
            case "synthetic": configuration.corpus = .synthetic
            default:
                guard FileManager.default.fileExists(atPath: corpus + "/manifest.json") else {
                    throw MixLabInputError(
                        field: "--corpus \(corpus)", problem: "is not gather, synthetic or a corpus folder with a manifest.json",
                        fix: "use --corpus gather, --corpus synthetic, or make one with `mixlab corpus gather --out DIR`")
                }
                configuration.corpus = .directory(corpus)
            }
            guard corpusMib.isFinite, corpusMib > 0 else {
                throw MixLabInputError(field: "--corpus-mib \(corpusMib)", problem: "is not a positive size", fix: "use e.g. --corpus-mib 2")
            }
            configuration.corpusBytesPerDomain = Int(corpusMib * 1_048_576)
            configuration.runs = runs
            configuration.workers = workers
            configuration.slotsPerWorker = slots
            configuration.tokensPerRun = tokens
            configuration.modelSize = modelSize
            configuration.laws = laws.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            configuration.seed = seed
            configuration.verify = verify
            configuration.verifySeeds = verifySeeds
            try configuration.validate()

            let interactive = isatty(STDOUT_FILENO) == 1
            let runner = DemoRunner(
                configuration: configuration,
                say: { line in
                    // A progress line drawn in place is cleared before the next message.
                    FileHandle.standardOutput.write(Data(((interactive ? "\u{1B}[2K\r" : "") + line + "\n").utf8))
                },
                status: { line in
                    FileHandle.standardOutput.write(Data((interactive ? "\u{1B}[2K\r  \(line)" : "  \(line)\n").utf8))
                })
            // SIGINT/SIGTERM cancel the demo, which then stops its daemons before exiting.
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    _ = try await runner.run()
                    return true
                }
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { return false }
                    return false
                }
                let finished = try await group.next() ?? false
                group.cancelAll()
                if !finished {
                    _ = try? await group.next()
                    MixLab.warn("interrupted; the daemons were stopped (run the same command again to continue the sweep)")
                    throw ExitCode(130)
                }
            }
        }
    }
}
