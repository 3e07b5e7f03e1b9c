import ArgumentParser
import Foundation
import MixLabCore
import MixLabProxyLM
import MixLabTrainerClient

extension MixLab {
    struct Proxy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The built-in proxy trainer: a byte-level MLP language model trained with Adam.",
            subcommands: [ProxyTrain.self])
    }

    struct ProxyTrain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "train",
            abstract: "Train a ProxyLM on a mixture of domains and report held-out losses.",
            discussion: """
                Under a MixLab worker it reads MIXLAB_DOMAINS, MIXLAB_MIXTURE and MIXLAB_CONTROL and reports over \
                the trainer protocol; standalone (--domains, no MIXLAB_CONTROL) it prints the same reports as \
                JSON lines. Each domain directory holds train.txt and valid.txt.
                """)

        @Option(help: "Domain data folders, NAME=DIR[,NAME=DIR…] (default: MIXLAB_DOMAINS).") var domains: [String] = []
        @Option(help: "Mixture weights, NAME=W[,NAME=W…], normalised (default: MIXLAB_MIXTURE, else equal).") var mixture: [String] = []
        @Option(help: "Training steps (default 4000 unless --tokens).") var steps: Int?
        @Option(help: "Training tokens instead of --steps (steps = tokens / batch).") var tokens: Int?
        @Option(help: "Seed of the initial weights and the data order.") var seed: UInt64 = 0
        @Option(help: """
            A parameter count N (the hidden width whose N is closest is used) or a named size: \
            \(ProxyLMConfiguration.modelSizes.map { "\($0.name) (hidden \($0.hidden))" }.joined(separator: ", ")).
            """)
        var modelSize: String?
        @Option(help: "Previous bytes the model sees.") var context: Int = 16
        @Option(help: "Embedding width per byte.") var embedding: Int = 16
        @Option(help: "Hidden units per layer (default 96, or from --model-size).") var hidden: Int?
        @Option(help: "Hidden tanh layers, 1 or 2.") var layers: Int = 1
        @Option(help: "Positions per step (all from one domain).") var batch: Int = 64
        @Option(help: "Adam learning rate.") var lr: Float = 3e-3
        @Option(help: "Steps between held-out evaluations (0: only at the end and at online segment ends).")
        var evalEvery: Int = 1000
        @Option(help: "Also evaluate once these many tokens are trained, T[,T…] (e.g. a D-CPT budget's {eval_tokens}).")
        var evalTokens: [String] = []
        @Option(help: "Held-out positions per domain (the start of valid.txt).") var evalBytes: Int = 16_384
        @Option(help: """
            Test positions per domain, right after the held-out ones in valid.txt, reported as the \
            evaluation-only domains NAME.test at every evaluation (list them in the sweep's eval_domains). 0: none.
            """)
        var testBytes: Int = 0
        @Option(help: "Seconds between progress reports.") var progressEvery: Double = 2
        @Flag(help: "Online (Aioli): ask the worker for each segment's mixture and steps until it says stop.") var online = false
        @Option(help: "At the end, save weights, Adam state, step and data order to this file (written atomically).")
        var saveCheckpoint: String?
        @Option(help: """
            Start from this checkpoint's weights (continual pre-training): fresh Adam state, step and tokens from 0, \
            data order from --seed. The model flags must give the checkpoint's shape.
            """)
        var initFrom: String?
        @Flag(help: "With --init-from: continue the saved run instead (Adam state, step, tokens and data order carry over).")
        var resume = false

        func run() async throws {
            try requireVectorUnits()
            let environment = ProcessInfo.processInfo.environment
            let configuration = try makeConfiguration()
            let domainDirectories = try resolveDomains(environment)
            let weights = try resolveMixture(environment, domains: domainDirectories.map(\.name))
            var loaded: [ByteDomain] = []
            for (name, directory) in domainDirectories {
                loaded.append(try ByteDomain.load(name: name, directory: directory))
            }
            let trainer = try ProxyLMTrainer(configuration: configuration, domains: loaded, weights: weights)
            if let initFrom {
                let checkpoint = try ProxyLMCheckpoint.read(from: initFrom, flag: "--init-from")
                try trainer.load(checkpoint, resume ? .resume : .restart, source: "--init-from \(initFrom)")
            } else if resume {
                throw MixLabInputError(field: "--resume", problem: "needs a checkpoint to continue", fix: "add --init-from PATH")
            }

            let control = environment["MIXLAB_CONTROL"].flatMap { $0.isEmpty ? nil : $0 }
            guard !online || control != nil else {
                throw MixLabInputError(
                    field: "--online", problem: "needs a worker to answer next, but MIXLAB_CONTROL is not set",
                    fix: "run it as a sweep's trainer command, or drop --online and give --steps")
            }
            let length: ProxyLMRun.Length
            if online {
                guard steps == nil, tokens == nil else {
                    throw MixLabInputError(
                        field: "--online", problem: "takes its steps from the worker", fix: "drop --steps and --tokens")
                }
                length = .online
            } else {
                length = .steps(try stepBudget(batch: configuration.batch))
            }
            guard progressEvery.isFinite, progressEvery > 0 else {
                throw MixLabInputError(field: "--progress-every", problem: "is \(progressEvery)", fix: "use a number of seconds > 0")
            }
            guard evalEvery >= 0 else {
                throw MixLabInputError(field: "--eval-every", problem: "is \(evalEvery)", fix: "use 0 (end only) or a number of steps")
            }

            let connection: TrainerConnection?
            do {
                connection = try control.map { path throws(TrainerConnectionError) in try TrainerConnection(socketPath: path) }
            } catch {
                throw ExitFailure(message: "error: \(error.description)")
            }
            var reporter = ProxyJSONReporter(connection: connection)
            if let saveCheckpoint {
                reporter.beforeDone = { try trainer.checkpoint().write(to: saveCheckpoint, flag: "--save-checkpoint") }
            }
            let plannedSteps: Any
            if case .steps(let count) = length { plannedSteps = count } else { plannedSteps = "online" }
            let architecture = configuration.architecture
            reporter.emit([
                "type": "start", "parameters": architecture.parameterCount, "dense_parameters": architecture.denseParameterCount,
                "flops_per_token": architecture.trainingFLOPsPerToken, "context": architecture.context,
                "embedding": architecture.embedding, "hidden": architecture.hidden, "layers": architecture.layers,
                "batch": configuration.batch, "seed": configuration.seed,
                "mixture": Dictionary(uniqueKeysWithValues: zip(loaded.map(\.name), trainer.weights)),
                "steps": plannedSteps, "start_step": trainer.step,
            ])
            let run = ProxyLMRun(
                length: length, evalEvery: evalEvery, evalSteps: try evaluationSteps(batch: configuration.batch),
                progressInterval: .milliseconds(Int(progressEvery * 1000)))
            let summary: ProxyLMRun.Summary
            do {
                summary = try run.run(trainer, reporter: &reporter)
            } catch let error as TrainerConnectionError {
                throw ExitFailure(message: "error: \(error.description)")
            }
            reporter.emit([
                "type": "summary", "steps": summary.steps, "tokens": summary.tokens, "parameters": architecture.parameterCount,
                "train_seconds": summary.trainingSeconds, "eval_seconds": summary.evaluationSeconds,
                "tokens_per_second": summary.tokensPerSecond, "gflops_per_second": summary.gigaFLOPsPerSecond,
                "cpu_seconds": processCPUSeconds(), "final_losses": summary.finalLosses,
            ])
        }

        func makeConfiguration() throws -> ProxyLMConfiguration {
            var configuration = ProxyLMConfiguration()
            var width = hidden ?? 96
            if let modelSize {
                guard hidden == nil else {
                    throw MixLabInputError(field: "--model-size", problem: "and --hidden are both given", fix: "give one of them")
                }
                if let preset = ProxyLMConfiguration.modelSizes.first(where: { $0.name == modelSize }) {
                    width = preset.hidden
                } else if let count = Double(modelSize), count.isFinite, count >= 1, count < 1e12 {
                    width = ByteLMArchitecture.hidden(
                        forParameterCount: Int(count.rounded()), context: context, embedding: embedding, layers: layers)
                } else {
                    throw MixLabInputError(
                        field: "--model-size \(modelSize)", problem: "is not a parameter count or a known size",
                        fix: "give a number of parameters or one of \(ProxyLMConfiguration.modelSizes.map(\.name).joined(separator: ", "))")
                }
            }
            configuration.architecture = ByteLMArchitecture(context: context, embedding: embedding, hidden: width, layers: layers)
            configuration.batch = batch
            configuration.learningRate = lr
            configuration.evalBytes = evalBytes
            configuration.testBytes = testBytes
            configuration.seed = seed
            try configuration.validate()
            return configuration
        }

        func stepBudget(batch: Int) throws -> Int {
            switch (steps, tokens) {
            case (let steps?, nil):
                guard steps >= 1 else { throw MixLabInputError(field: "--steps", problem: "is \(steps)", fix: "use at least 1 step") }
                return steps
            case (nil, let tokens?):
                guard tokens >= batch else {
                    throw MixLabInputError(
                        field: "--tokens", problem: "is \(tokens), less than one batch of \(batch)",
                        fix: "use at least \(batch) tokens")
                }
                return tokens / batch
            case (nil, nil):
                return 4000
            case (.some, .some):
                throw MixLabInputError(field: "--steps", problem: "and --tokens are both given", fix: "give one budget")
            }
        }

        /// The steps after which `--eval-tokens` asks for an evaluation (the first step with at least that many tokens).
        func evaluationSteps(batch: Int) throws -> Set<Int> {
            var steps: Set<Int> = []
            for item in evalTokens.flatMap({ $0.split(separator: ",") }) {
                guard let count = Double(item.trimmingCharacters(in: .whitespaces)), count.isFinite, count >= 1, count < 1e15 else {
                    throw MixLabInputError(
                        field: "--eval-tokens \(item)", problem: "is not a token count", fix: "give whole numbers ≥ 1, e.g. 100000,200000")
                }
                steps.insert((Int(count.rounded(.up)) + batch - 1) / batch)
            }
            return steps
        }

        /// NAME=DIR pairs from --domains, else MIXLAB_DOMAINS, in name order.
        func resolveDomains(_ environment: [String: String]) throws -> [(name: String, directory: String)] {
            var result: [String: String] = [:]
            if !domains.isEmpty {
                for item in domains.flatMap({ $0.split(separator: ",") }) {
                    guard let equals = item.firstIndex(of: "="), equals != item.startIndex, item.index(after: equals) != item.endIndex else {
                        throw MixLabInputError(field: "--domains \(item)", problem: "is not NAME=DIR", fix: "write it like --domains code=data/code")
                    }
                    let name = String(item[..<equals])
                    guard result.updateValue(String(item[item.index(after: equals)...]), forKey: name) == nil else {
                        throw MixLabInputError(field: "--domains \(name)", problem: "is given twice", fix: "give each domain once")
                    }
                }
            } else if let json = environment["MIXLAB_DOMAINS"] {
                guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                    throw MixLabInputError(field: "MIXLAB_DOMAINS", problem: "is not a JSON object", fix: #"set it like {"code":"/data/code"}"#)
                }
                for (name, value) in object {
                    guard let directory = value as? String else {
                        throw MixLabInputError(
                            field: "MIXLAB_DOMAINS \(name)", problem: "is not a path string", fix: "give each domain a folder path")
                    }
                    result[name] = directory
                }
            }
            guard !result.isEmpty else {
                throw MixLabInputError(
                    field: "--domains", problem: "is missing (and MIXLAB_DOMAINS is not set)",
                    fix: "give --domains code=DIR,prose=DIR with folders holding train.txt and valid.txt")
            }
            return result.sorted { $0.key < $1.key }.map { (name: $0.key, directory: $0.value) }
        }

        /// Weights from --mixture, else MIXLAB_MIXTURE, else equal weights.
        func resolveMixture(_ environment: [String: String], domains: [String]) throws -> [String: Double] {
            if !mixture.isEmpty {
                return try keyValues(mixture.flatMap { $0.split(separator: ",").map(String.init) }, flag: "--mixture")
            }
            if let json = environment["MIXLAB_MIXTURE"] {
                guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                    throw MixLabInputError(field: "MIXLAB_MIXTURE", problem: "is not a JSON object", fix: #"set it like {"code":0.3,"prose":0.7}"#)
                }
                return try object.mapValues { value in
                    guard let weight = (value as? NSNumber)?.doubleValue else {
                        throw MixLabInputError(field: "MIXLAB_MIXTURE", problem: "holds a weight that is not a number", fix: "give numbers")
                    }
                    return weight
                }
            }
            return Dictionary(uniqueKeysWithValues: domains.map { ($0, 1.0) })
        }
    }
}

/// MixLabProxyLM is compiled for AVX2 + FMA on x86-64 (Package.swift): say so instead of dying of SIGILL.
func requireVectorUnits() throws {
    #if arch(x86_64) && os(Linux)
    guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
    let present = Set(flags.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == ":" }))
    guard present.contains("avx2"), present.contains("fma") else {
        throw ExitFailure(message: "error: mixlab proxy train needs a CPU with AVX2 and FMA (x86-64 from 2013 on); this one lacks them")
    }
    #endif
}

/// A failure that is not the user's input (the control socket went away): one line, exit status 1.
struct ExitFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Prints every report as a JSON line on stdout and, under a worker, also sends it over the
/// trainer protocol.
struct ProxyJSONReporter: ProxyLMReporter {
    let connection: TrainerConnection?
    let started = ContinuousClock.now
    /// Runs before `done` is reported (saving a checkpoint), so a failure fails the attempt.
    var beforeDone: (() throws -> Void)?

    func emit(_ object: [String: Any]) {
        var line = object
        let elapsed = ContinuousClock.now - started
        line["elapsed_s"] = elapsed.inSeconds
        guard let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    mutating func eval(step: Int, tokens: Int, losses: [String: Double]) throws {
        emit(["type": "eval", "step": step, "tokens": tokens, "losses": losses])
        try connection?.eval(step: step, tokens: tokens, losses: losses)
    }

    mutating func progress(step: Int, tokens: Int) throws {
        emit(["type": "progress", "step": step, "tokens": tokens])
        try connection?.progress(step: step, tokens: tokens)
    }

    mutating func next(step: Int) throws -> ProxyLMSegment? {
        guard let connection else { return nil }
        switch try connection.next(step: step) {
        case .stop:
            emit(["type": "stop", "step": step])
            return nil
        case .mixture(let weights, let steps):
            emit(["type": "segment", "step": step, "weights": weights, "steps": steps])
            return ProxyLMSegment(weights: weights, steps: steps)
        }
    }

    mutating func done() throws {
        try beforeDone?()
        emit(["type": "done"])
        try connection?.done()
    }
}

/// CPU time this process has used, user and system, in seconds.
func processCPUSeconds() -> Double {
    var usage = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &usage)
    return Double(usage.tv_sec) + Double(usage.tv_nsec) * 1e-9
}
