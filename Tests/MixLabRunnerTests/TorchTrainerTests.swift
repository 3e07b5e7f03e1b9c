import Foundation
import MixLabCore
import MixLabRunner
import Testing

/// `examples/trainers/torch_proxy.py` and how to tell whether it can run here.
enum TorchTrainer {
    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static let script = repositoryRoot + "/examples/trainers/torch_proxy.py"

    /// Whether `python3 -c "import torch"` succeeds (CI need not install torch).
    static let importable: Bool = (try? runPython(["-c", "import torch"]).status == 0) ?? false

    /// A model small enough to train a few steps on one CPU core in seconds.
    static let tinyModel = [
        "--device", "cpu", "--threads", "1", "--n-layer", "1", "--n-head", "2", "--n-embd", "16",
        "--block-size", "16", "--batch-size", "4", "--eval-bytes", "256", "--lr", "3e-3",
    ]

    /// Runs python3 with `arguments`, returning its exit status and combined output.
    static func runPython(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Two domains with different text, each a directory holding train.txt and valid.txt.
    static func writeCorpus(in directory: ScratchDirectory) throws -> [DomainData] {
        let code = (0..<400).map { "def f\($0)(x):\n    return x * \($0 % 7) + \($0 % 13)\n" }.joined()
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "away", "home"]
        let prose = (0..<3000).map { words[($0 * 7 + $0 / 5) % words.count] }.joined(separator: " ")
        return try [("code", code), ("prose", prose)].map { name, text in
            let domain = try directory.subdirectory(name)
            let cut = text.index(text.startIndex, offsetBy: text.count * 9 / 10)
            try domain.write("train.txt", String(text[..<cut]))
            try domain.write("valid.txt", String(text[cut...]))
            return DomainData(name: name, path: domain.path)
        }
    }

    static func spec(
        in directory: ScratchDirectory, domains: [DomainData], arguments: [String], runID: String = "torch-1",
        budget: [String: JSONValue]
    ) -> AttemptSpec {
        AttemptSpec(
            runID: RunID(runID), sweepID: SweepID("sweep-torch"), attempt: 1, seed: 11, domains: domains,
            mixture: ["code": 0.4, "prose": 0.6], budget: budget,
            command: ["python3", script] + tinyModel + arguments,
            environment: ["PYTHONUNBUFFERED": "1"], gpus: [],
            workDirectory: directory.file("\(runID)-attempt-1"),
            limits: AttemptSpec.Limits(wallClock: .seconds(300), killGrace: .seconds(2)))
    }

    static func evals(_ events: [AttemptEvent]) -> [TrainerEval] {
        events.compactMap { event in
            if case .eval(let eval) = event { eval } else { nil }
        }
    }

    /// Every eval covers both domains with a plausible byte-level cross-entropy (nats/byte).
    static func expectPerDomainLosses(_ evals: [TrainerEval]) {
        for eval in evals {
            #expect(Set(eval.losses.keys) == ["code", "prose"], "\(eval)")
            for (domain, loss) in eval.losses {
                #expect(loss > 0 && loss < 2 * log(256.0), "\(domain) at step \(eval.step): \(loss)")
            }
        }
    }
}

@Suite("torch_proxy.py through the real AttemptSupervisor",
       .enabled(if: TorchTrainer.importable, "torch not importable: pip install torch"))
struct TorchTrainerTests {
    @Test func fixedStepsEvaluateEveryDomainAtEachCheckpointAndRepeatForASeed() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let domains = try TorchTrainer.writeCorpus(in: directory)
        let budget: [String: JSONValue] = ["steps": .integer(6), "seed": .integer(5)]
        var finals: [TrainerEval] = []
        for runID in ["torch-a", "torch-b"] {
            let spec = TorchTrainer.spec(
                in: directory, domains: domains, arguments: ["--eval-every", "3"], runID: runID, budget: budget)
            let (outcome, events) = try await RunnerFixtures.run(spec)
            let log = (try? String(contentsOfFile: spec.workDirectory + "/trainer.log", encoding: .utf8)) ?? ""
            let result = try #require(outcome.result, "\(outcome)\n\(log)")
            let evals = TorchTrainer.evals(events)
            #expect(evals.map(\.step) == [3, 6, 6])
            TorchTrainer.expectPerDomainLosses(evals)
            #expect(result.finalEval.step == 6)
            #expect(result.finalEval.tokens == 6 * 4 * 16)
            #expect(log.contains("device cpu (CUDA_VISIBLE_DEVICES='')"), "\(log)")
            finals.append(result.finalEval)
        }
        #expect(finals[0] == finals[1], "same seed on CPU, different results: \(finals)")
    }

    @Test func onlineSegmentsTrainExactlyTheGivenStepsAndEvaluateAtEachBoundary() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let domains = try TorchTrainer.writeCorpus(in: directory)
        let spec = TorchTrainer.spec(
            in: directory, domains: domains, arguments: ["--online"], budget: ["steps": .integer(10)])
        let (outcome, events) = try await RunnerFixtures.run(spec) { step in
            switch step {
            case 0: .mixture(weights: ["code": 1, "prose": 0], steps: 4)
            case 4: .mixture(weights: ["code": 0.2, "prose": 0.8], steps: 2)
            default: .stop
            }
        }
        let log = (try? String(contentsOfFile: spec.workDirectory + "/trainer.log", encoding: .utf8)) ?? ""
        let result = try #require(outcome.result, "\(outcome)\n\(log)")
        let requested = events.compactMap { event -> Int64? in
            if case .nextRequested(let step) = event { step } else { nil }
        }
        #expect(requested == [0, 4, 6])
        let evals = TorchTrainer.evals(events)
        #expect(evals.map(\.step) == [4, 6, 6])
        TorchTrainer.expectPerDomainLosses(evals)
        #expect(result.finalEval == evals.last)
        #expect(result.finalEval.tokens == 6 * 4 * 16)
    }
}

@Suite("torch_proxy.py without torch")
struct TorchTrainerWithoutTorchTests {
    /// `python3 -S` leaves site-packages (and so torch) out, as on a machine without torch.
    @Test func helpWorksAndTrainingSaysHowToInstallTorch() throws {
        let help = try TorchTrainer.runPython(["-S", TorchTrainer.script, "--help"])
        #expect(help.status == 0, "\(help.output)")
        for flag in ["--steps", "--n-layer", "--block-size", "--eval-bytes", "--online", "--device"] {
            #expect(help.output.contains(flag), "\(flag) missing from --help")
        }
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let domains = try TorchTrainer.writeCorpus(in: directory)
        let training = try TorchTrainer.runPython(
            ["-S", TorchTrainer.script, "--steps", "1", "--domains", domains.map { "\($0.name)=\($0.path)" }.joined(separator: ",")])
        #expect(training.status == 3, "\(training.output)")
        #expect(training.output.contains("cannot import torch"))
        #expect(training.output.contains("pip install torch"))
    }

    @Test func badInputNamesTheFlagBeforeTorchIsNeeded() throws {
        let unknown = try TorchTrainer.runPython(
            ["-S", TorchTrainer.script, "--domains", "code=/nonexistent", "--mixture", "prose=1"])
        #expect(unknown.status == 2)
        #expect(unknown.output.contains("--mixture: domain(s) ['prose'] have no data"), "\(unknown.output)")
        let online = try TorchTrainer.runPython(["-S", TorchTrainer.script, "--domains", "code=/x", "--online"])
        #expect(online.status == 2)
        #expect(online.output.contains("--online: needs a MixLab worker"), "\(online.output)")
    }
}
