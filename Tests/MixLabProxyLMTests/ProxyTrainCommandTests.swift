import Foundation
import MixLabTestSupport
import Logging
import MixLabCore
import MixLabProxyLM
import MixLabRunner
import Synchronization
import Testing

/// The real `mixlab proxy train` executable: standalone with JSON lines on stdout, and as a
/// trainer under the worker's real attempt supervisor (online, driven by `next`).
@Suite struct ProxyTrainCommandTests {
    static let executable = MixLabExecutable.path

    struct Outcome {
        var status: Int32
        var lines: [[String: Any]]
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment = environment.filter { !$0.key.hasPrefix("MIXLAB_") }
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let lines = String(decoding: stdout, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return Outcome(status: process.terminationStatus, lines: lines, stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func corpus() throws -> URL {
        let directory = URL(fileURLWithPath: "/tmp/mlp-corpus-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        return try SyntheticCorpus.write(in: directory, trainBytes: 30_000, validBytes: 3_000)
    }

    static func domainsFlag(_ corpus: URL) -> String {
        SyntheticCorpus.names.map { "\($0)=\(corpus.appendingPathComponent($0).path)" }.joined(separator: ",")
    }

    @Test func standaloneRunPrintsEvalsProgressAndSummary() throws {
        let corpus = try Self.corpus()
        defer { try? FileManager.default.removeItem(at: corpus) }
        let outcome = try Self.run([
            "proxy", "train", "--domains", Self.domainsFlag(corpus), "--mixture", "code=0.5,math=0.25,prose=0.25",
            "--steps", "300", "--eval-every", "100", "--hidden", "32", "--batch", "32", "--eval-bytes", "1024", "--seed", "4",
        ])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let start = try #require(outcome.lines.first { $0["type"] as? String == "start" })
        #expect(start["parameters"] as? Int == ByteLMArchitecture(hidden: 32).parameterCount)
        let evals = outcome.lines.filter { $0["type"] as? String == "eval" }
        #expect(evals.map { $0["step"] as? Int } == [100, 200, 300, 300])
        #expect(evals.map { $0["tokens"] as? Int } == [3_200, 6_400, 9_600, 9_600])
        let final = try #require(evals.last?["losses"] as? [String: Double])
        #expect(Set(final.keys) == Set(SyntheticCorpus.names))
        #expect(final.values.allSatisfy { $0 < Foundation.log(256) - 1 }, "final losses \(final)")
        #expect(outcome.lines.contains { $0["type"] as? String == "done" })
        let summary = try #require(outcome.lines.last)
        #expect(summary["type"] as? String == "summary")
        #expect((summary["tokens_per_second"] as? Double ?? 0) > 0)

        let again = try Self.run([
            "proxy", "train", "--domains", Self.domainsFlag(corpus), "--mixture", "code=0.5,math=0.25,prose=0.25",
            "--tokens", "9600", "--eval-every", "100", "--hidden", "32", "--batch", "32", "--eval-bytes", "1024", "--seed", "4",
        ])
        let againFinal = try #require(again.lines.last { $0["type"] as? String == "eval" }?["losses"] as? [String: Double])
        #expect(againFinal == final, "--tokens 9600 is the same run as --steps 300 at batch 32")
    }

    @Test func parameterCountSizeAndTokenCheckpoints() throws {
        let corpus = try Self.corpus()
        defer { try? FileManager.default.removeItem(at: corpus) }
        let outcome = try Self.run([
            "proxy", "train", "--domains", Self.domainsFlag(corpus), "--model-size", "30000", "--steps", "40", "--batch", "32",
            "--eval-tokens", "640,1000", "--eval-bytes", "256",
        ])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let start = try #require(outcome.lines.first { $0["type"] as? String == "start" })
        let hidden = ByteLMArchitecture.hidden(forParameterCount: 30_000, context: 16, embedding: 16, layers: 1)
        #expect(start["hidden"] as? Int == hidden)
        #expect(start["parameters"] as? Int == ByteLMArchitecture(hidden: hidden).parameterCount)
        #expect(abs((start["parameters"] as? Int ?? 0) - 30_000) <= 513 / 2)
        let evals = outcome.lines.filter { $0["type"] as? String == "eval" }
        #expect(evals.map { $0["tokens"] as? Int } == [640, 1_024, 1_280])
    }

    @Test(arguments: [
        (["--domains", "code=/nonexistent/code"], "domain code directory /nonexistent/code"),
        (["--model-size", "huge"], "--model-size huge"),
        (["--eval-tokens", "1e3,lots"], "--eval-tokens lots"),
        (["--layers", "4"], "--layers"),
        (["--steps", "10", "--tokens", "640"], "--steps"),
        (["--mixture", "web=1"], "mixture domain web"),
        (["--online"], "--online"),
        (["--lr", "0"], "--lr"),
        (["--test-bytes", "99000000"], "--test-bytes 99000000"),
    ])
    func badInputIsOneLineNamingTheField(extra: [String], field: String) throws {
        let corpus = try Self.corpus()
        defer { try? FileManager.default.removeItem(at: corpus) }
        var arguments = ["proxy", "train", "--steps", "5"]
        if extra.contains("--steps") { arguments = ["proxy", "train"] }
        if !extra.contains("--domains") { arguments += ["--domains", Self.domainsFlag(corpus)] }
        let outcome = try Self.run(arguments + extra)
        #expect(outcome.status == 2)
        #expect(outcome.stderr.hasPrefix("error: \(field)"), "stderr: \(outcome.stderr)")
    }

    /// A base run on one domain saves a checkpoint (every loaded domain is still evaluated); a CPT
    /// run starts from it; a wrong shape, a corrupt file or `--resume` alone are one-line errors.
    @Test func saveCheckpointThenContinualPretrainingFromIt() throws {
        let corpus = try Self.corpus()
        defer { try? FileManager.default.removeItem(at: corpus) }
        let checkpoint = corpus.appendingPathComponent("base-32.ckpt").path
        let common = ["proxy", "train", "--domains", Self.domainsFlag(corpus), "--batch", "32", "--eval-bytes", "512", "--eval-every", "0"]
        let base = try Self.run(common + ["--mixture", "prose=1", "--steps", "60", "--hidden", "32", "--save-checkpoint", checkpoint])
        #expect(base.status == 0, "stderr: \(base.stderr)")
        let baseFinal = try #require(base.lines.last { $0["type"] as? String == "eval" }?["losses"] as? [String: Double])
        #expect(Set(baseFinal.keys) == Set(SyntheticCorpus.names), "weight-0 domains are evaluated too: \(baseFinal)")
        #expect(try ProxyLMCheckpoint.read(from: checkpoint, flag: "test").step == 60)

        let cpt = try Self.run(common + ["--mixture", "code=1", "--steps", "20", "--hidden", "32", "--init-from", checkpoint])
        #expect(cpt.status == 0, "stderr: \(cpt.stderr)")
        let evals = cpt.lines.filter { $0["type"] as? String == "eval" }
        #expect(evals.first?["step"] as? Int == 20 && evals.first?["tokens"] as? Int == 640, "CPT counts its own steps: \(evals)")
        let cptFinal = try #require(evals.last?["losses"] as? [String: Double])
        #expect(cptFinal["code"]! < baseFinal["code"]!, "training on code from the base lowers the code loss: \(baseFinal) → \(cptFinal)")
        let scratch = try Self.run(common + ["--mixture", "code=1", "--steps", "20", "--hidden", "32"])
        let scratchFinal = try #require(scratch.lines.last { $0["type"] as? String == "eval" }?["losses"] as? [String: Double])
        #expect(cptFinal["code"]! < scratchFinal["code"]!, "the run starts from the base weights, not from scratch: \(cptFinal) vs \(scratchFinal)")

        let wrongShape = try Self.run(common + ["--steps", "5", "--hidden", "48", "--init-from", checkpoint])
        #expect(wrongShape.status == 2)
        #expect(wrongShape.stderr.hasPrefix("error: --init-from \(checkpoint)") && wrongShape.stderr.contains("--hidden (or --model-size) 32"),
                "stderr: \(wrongShape.stderr)")

        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: checkpoint)))
        bytes[bytes.count / 2] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: checkpoint))
        let corrupt = try Self.run(common + ["--steps", "5", "--hidden", "32", "--init-from", checkpoint])
        #expect(corrupt.status == 2 && corrupt.stderr.contains("checksum"), "stderr: \(corrupt.stderr)")

        let resumeAlone = try Self.run(common + ["--steps", "5", "--resume"])
        #expect(resumeAlone.status == 2 && resumeAlone.stderr.hasPrefix("error: --resume"), "stderr: \(resumeAlone.stderr)")
    }

    @Test func missingDomainsSaysHowToGiveThem() throws {
        let outcome = try Self.run(["proxy", "train", "--steps", "5"])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("--domains"), "stderr: \(outcome.stderr)")
    }

    @Test func onlineRunUnderTheWorkersSupervisorFollowsTheRounds() async throws {
        let corpus = try Self.corpus()
        defer { try? FileManager.default.removeItem(at: corpus) }
        let work = corpus.appendingPathComponent("attempt").path
        let rounds: [TrainerReply] = [
            .mixture(weights: ["code": 1, "math": 0, "prose": 0], steps: 40),
            .mixture(weights: ["code": 0.2, "math": 0.4, "prose": 0.4], steps: 30),
        ]
        let spec = AttemptSpec(
            runID: RunID("run-online"), sweepID: SweepID("sweep-proxy"), attempt: 1, seed: 3,
            domains: SyntheticCorpus.names.map { DomainData(name: $0, path: corpus.appendingPathComponent($0).path) },
            mixture: ["code": 1, "math": 1, "prose": 1],
            command: [Self.executable, "proxy", "train", "--online", "--hidden", "32", "--batch", "32", "--eval-bytes", "512"],
            workDirectory: work, limits: AttemptSpec.Limits(wallClock: .seconds(120), killGrace: .seconds(2)))
        let asked = Counter()
        let supervisor = AttemptSupervisor(
            spec: spec, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
            next: { _ in asked.value.withLock { count in defer { count += 1 }; return count < rounds.count ? rounds[count] : .stop } })
        async let events: [AttemptEvent] = {
            var collected: [AttemptEvent] = []
            for await event in supervisor.events { collected.append(event) }
            return collected
        }()
        let outcome = try await supervisor.run()
        let evals = await events.compactMap { event -> TrainerEval? in if case .eval(let eval) = event { eval } else { nil } }
        let log = (try? String(contentsOfFile: supervisor.log.path, encoding: .utf8)) ?? ""
        let result = try #require(outcome.result, "outcome \(outcome); log:\n\(log)")
        // A held-out eval precedes every `next`, the first one included (an online method needs L0).
        #expect(evals.map(\.step) == [0, 40, 70, 70])
        #expect(evals.map(\.tokens) == [0, 1_280, 2_240, 2_240])
        #expect(result.finalEval.step == 70)
        #expect(Set(result.finalEval.losses.keys) == Set(SyntheticCorpus.names))
        #expect(asked.value.withLock { $0 } == 3)
    }

    final class Counter: Sendable {
        let value = Mutex(0)
    }
}
