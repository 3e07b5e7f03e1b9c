import Foundation
import MixLabCore
import MixLabRunner
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("AttemptSupervisor with real trainer processes")
struct AttemptSupervisorTests {
    @Test func happyPathReportsEvalsAndTheLastEvalBeforeDoneIsTheResult() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.progress(5, 500)
                t.eval(10, 1000, {"code": 2.5, "prose": 3.0})
                t.eval(20, 2000, {"code": 2.25, "prose": 2.75})
                t.done()
            """, in: directory)
        let (outcome, events) = try await RunnerFixtures.run(spec)
        let result = try #require(outcome.result, "\(outcome)")
        #expect(result.finalEval == TrainerEval(step: 20, tokens: 2000, losses: ["code": 2.25, "prose": 2.75]))
        #expect(result.evalCount == 2)
        let kinds = events.map { event -> String in
            switch event {
            case .started: "started"
            case .hello: "hello"
            case .eval(let eval): "eval \(eval.step)"
            case .progress(let step, _): "progress \(step)"
            case .nextRequested: "next"
            case .replied: "replied"
            case .done: "done"
            case .finished: "finished"
            }
        }
        #expect(kinds == ["started", "hello", "progress 5", "eval 10", "eval 20", "done", "finished"])
        #expect(events.last == .finished(outcome))
        #expect(FileManager.default.fileExists(atPath: spec.workDirectory + "/trainer.log"))
    }

    @Test func nextGetsTheHandlersMixtureThenStop() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                step = 0
                while True:
                    answer = t.next(step)
                    if answer is None:
                        break
                    weights, steps = answer
                    step += steps
                    t.eval(step, step * 10, {"code": weights["code"], "prose": weights["prose"]})
                t.done()
            """, in: directory)
        let requests = NextRequests()
        let (outcome, events) = try await RunnerFixtures.run(spec) { request in
            requests.append(request)
            let step = request.step
            return step < 20 ? .mixture(weights: ["code": 0.5 + Double(step) / 100, "prose": 0.5 - Double(step) / 100],
                                 steps: 10)
                : .stop
        }
        let result = try #require(outcome.result, "\(outcome)")
        #expect(result.finalEval.step == 20)
        #expect(result.finalEval.losses == ["code": 0.6, "prose": 0.4])
        // Each `next` carries the losses the trainer reported at that step (none before the first eval).
        #expect(requests.all == [
            .init(step: 0, losses: [:]), .init(step: 10, losses: ["code": 0.5, "prose": 0.5]),
            .init(step: 20, losses: ["code": 0.6, "prose": 0.4]),
        ])
        let replies = events.compactMap { event -> TrainerReply? in
            if case .replied(_, let reply) = event { reply } else { nil }
        }
        #expect(replies.count == 3)
        #expect(replies.last == .stop)
    }

    @Test func malformedLineFailsWithProtocolErrorAndTheLineInTheLog() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            t = mt.connect()
            t.progress(1, 10)
            t._sock.sendall(b"this is {not json\\n")
            time.sleep(1000)
            """, in: directory)
        let (outcome, events) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .protocolError)
        #expect(failure.message.contains("malformed_json"))
        let log = try String(contentsOfFile: spec.workDirectory + "/trainer.log", encoding: .utf8)
        #expect(log.contains("[mixlab] offending line: this is {not json"))
        #expect(failure.logTail.contains("offending line: this is {not json"))
        let pid = try #require(RunnerFixtures.startedPID(events))
        #expect(await RunnerFixtures.eventually { RunnerFixtures.livingMembers(ofGroup: pid).isEmpty })
    }

    @Test func oversizedLineFailsWithProtocolError() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        var spec = try RunnerFixtures.spec("""
            t = mt.connect()
            t._sock.sendall(b"x" * 5000)
            time.sleep(1000)
            """, in: directory)
        spec.limits.maxLineBytes = 1024
        let (outcome, _) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .protocolError)
        #expect(failure.message.contains("oversized_line"))
        #expect(failure.message.contains("1024"))
        let log = try String(contentsOfFile: spec.workDirectory + "/trainer.log", encoding: .utf8)
        #expect(log.contains("[mixlab] offending line: xxxxxxxx"))
    }

    @Test func completeOversizedLineFailsToo() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        var spec = try RunnerFixtures.spec("""
            t = mt.connect()
            t.eval(1, 1, {"code": 1.0})
            t._sock.sendall(b'{"type":"progress","step":2,"tokens":2,"pad":"' + b"y" * 2000 + b'"}\\n')
            time.sleep(1000)
            """, in: directory)
        spec.limits.maxLineBytes = 1024
        let (outcome, _) = try await RunnerFixtures.run(spec)
        #expect(outcome.failure?.cause == .protocolError)
        #expect(outcome.failure?.message.contains("oversized_line") == true)
    }

    @Test func exitZeroWithoutDoneIsAProtocolError() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.eval(10, 1000, {"code": 2.5, "prose": 3.0})
            sys.exit(0)
            """, in: directory)
        let (outcome, _) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .protocolError)
        #expect(failure.exitCode == 0)
        #expect(failure.message.contains("without sending done"))
    }

    @Test func doneWithoutAnyEvalIsAProtocolError() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.done()
            """, in: directory)
        let (outcome, _) = try await RunnerFixtures.run(spec)
        #expect(outcome.failure?.cause == .protocolError)
        #expect(outcome.failure?.message.contains("without any eval") == true)
    }

    @Test func nonZeroExitIsExitCodeWithTheLogTail() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.eval(10, 1000, {"code": 2.5})
                for i in range(300):
                    print(f"stdout line {i}")
                print("CUDA out of memory (pretend)", file=sys.stderr)
                sys.exit(3)
            """, in: directory)
        let (outcome, _) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .exitCode)
        #expect(failure.exitCode == 3)
        #expect(failure.signal == nil)
        #expect(failure.logTail.contains("CUDA out of memory (pretend)"))
        #expect(failure.logTail.contains("stdout line 299"))
        #expect(!failure.logTail.contains("stdout line 5\n"))
        #expect(failure.logTail.split(separator: "\n").count == 200)
    }

    @Test func killedBySignalIsSignal() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.progress(1, 1)
                os.kill(os.getpid(), signal.SIGABRT)
            """, in: directory)
        let (outcome, _) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .signal)
        #expect(failure.signal == SIGABRT)
        #expect(failure.exitCode == nil)
    }

    @Test func sigkillWeDidNotSendIsSignalOrOOMNeverCancelled() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.progress(1, 1)
                os.kill(os.getpid(), signal.SIGKILL)
            """, in: directory)
        let (outcome, _) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        // No OOM happened, so unless another process in this cgroup was OOM-killed meanwhile it is a plain signal.
        #expect(failure.cause == .signal || failure.cause == .outOfMemory)
        #expect(failure.signal == SIGKILL)
    }

    @Test func wallClockLimitKillsTheGroupWithTimeout() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                step = 0
                while True:
                    step += 1
                    t.progress(step, step)
                    time.sleep(0.1)
            """, in: directory, limits: AttemptSpec.Limits(wallClock: .seconds(2), noReport: .seconds(60),
                                                           killGrace: .seconds(2)))
        let (outcome, events) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .timeout)
        #expect(failure.message.contains("wall-clock"))
        #expect(failure.signal == SIGTERM)
        let pid = try #require(RunnerFixtures.startedPID(events))
        #expect(await RunnerFixtures.eventually { RunnerFixtures.livingMembers(ofGroup: pid).isEmpty })
    }

    @Test func noReportWatchdogFires() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            t = mt.connect()
            t.eval(1, 1, {"code": 1.0})
            time.sleep(1000)
            """, in: directory, limits: AttemptSpec.Limits(wallClock: .seconds(120), noReport: .seconds(1),
                                                           killGrace: .seconds(2)))
        let (outcome, _) = try await RunnerFixtures.run(spec)
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .timeout)
        #expect(failure.message.contains("no eval or progress"))
    }

    @Test func cancelKillsTrainerAndGrandchildrenEvenIfSIGTERMIsIgnored() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.system("sleep 1000 & echo $! > " + os.path.join(os.environ["GRANDCHILD_DIR"], "grandchild.pid"))
            child = subprocess.Popen(["sleep", "1000"])
            with open(os.path.join(os.environ["GRANDCHILD_DIR"], "child.pid"), "w") as f:
                f.write(str(child.pid))
            with mt.connect() as t:
                step = 0
                while True:
                    step += 1
                    t.progress(step, step)
                    time.sleep(0.2)
            """, in: directory, environment: ["GRANDCHILD_DIR": directory.path],
            limits: AttemptSpec.Limits(wallClock: .seconds(120), killGrace: .seconds(1)))
        let (outcome, events) = try await RunnerFixtures.run(spec, whileRunning: { supervisor, event in
            if case .progress(step: 2, _) = event { supervisor.cancel() }
        })
        let failure = try #require(outcome.failure, "\(outcome)")
        #expect(failure.cause == .cancelled)
        #expect(failure.signal == SIGKILL)
        let pid = try #require(RunnerFixtures.startedPID(events))
        let grandchildText = try String(contentsOfFile: directory.file("grandchild.pid"), encoding: .utf8)
        let grandchild = try #require(Int32(grandchildText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let child = try #require(Int32(try String(contentsOfFile: directory.file("child.pid"), encoding: .utf8)))
        #expect(await RunnerFixtures.eventually {
            RunnerFixtures.livingMembers(ofGroup: pid).isEmpty && !RunnerFixtures.isAlive(grandchild)
                && !RunnerFixtures.isAlive(child)
        })
    }

    @Test func cancellingTheRunningTaskCancelsTheAttempt() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                while True:
                    t.progress(1, 1)
                    time.sleep(0.2)
            """, in: directory)
        let supervisor = AttemptSupervisor(spec: spec, logger: RunnerFixtures.quietLogger)
        let task = Task { try await supervisor.run() }
        for await event in supervisor.events {
            if case .progress = event { task.cancel() }
        }
        let outcome = try await task.value
        #expect(outcome.failure?.cause == .cancelled)
    }

    @Test func placeholdersAndEnvironmentReachTheTrainer() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            keys = ["MIXLAB_RUN_ID", "MIXLAB_SWEEP_ID", "MIXLAB_ATTEMPT", "MIXLAB_MIXTURE", "MIXLAB_BUDGET",
                    "MIXLAB_DOMAINS", "MIXLAB_CONTROL", "MIXLAB_PROTOCOL", "CUDA_VISIBLE_DEVICES", "GREETING", "PATH"]
            seen = {"argv": sys.argv[1:], "env": {k: os.environ.get(k) for k in keys},
                    "mixture": mt.mixture(), "budget": mt.budget(), "domains": mt.domains(), "cwd": os.getcwd()}
            with open(os.path.join(os.environ["OUT_DIR"], "seen.json"), "w") as f:
                json.dump(seen, f)
            with mt.connect() as t:
                t.eval(1, 1, {"prose": 1.5})
                t.done()
            """, in: directory, runID: "run-42", attempt: 3,
            extraArguments: ["--run", "{run_id}", "--steps={steps}", "{model_size}", "{seed}", "{attempt}",
                             "{sweep_id}", "{work_dir}", "{\"literal\": 1}"],
            budget: ["steps": .integer(1500), "model_size": .string("20M")],
            environment: ["GREETING": "hello {run_id}", "OUT_DIR": directory.path], gpus: [0, 3])
        let (outcome, _) = try await RunnerFixtures.run(spec)
        #expect(outcome.result != nil, "\(outcome)")
        let seenData = try Data(contentsOf: URL(fileURLWithPath: directory.file("seen.json")))
        let seen = try JSONSerialization.jsonObject(with: seenData) as? [String: Any]
        let argv = try #require(seen?["argv"] as? [String])
        #expect(argv == ["--run", "run-42", "--steps=1500", "20M", "7", "3", "sweep-1", spec.workDirectory,
                         "{\"literal\": 1}"])
        let env = try #require(seen?["env"] as? [String: String])
        #expect(env["MIXLAB_RUN_ID"] == "run-42")
        #expect(env["MIXLAB_SWEEP_ID"] == "sweep-1")
        #expect(env["MIXLAB_ATTEMPT"] == "3")
        #expect(env["MIXLAB_PROTOCOL"] == "1")
        #expect(env["MIXLAB_CONTROL"] == spec.workDirectory + "/control.sock")
        #expect(env["CUDA_VISIBLE_DEVICES"] == "0,3")
        #expect(env["GREETING"] == "hello run-42")
        #expect(env["PATH"]?.isEmpty == false)
        #expect(seen?["mixture"] as? [String: Double] == ["code": 0.25, "prose": 0.75])
        #expect((seen?["budget"] as? [String: Any])?["model_size"] as? String == "20M")
        #expect(seen?["domains"] as? [String: String] == ["code": "/data/code", "prose": "/data/prose"])
        let log = try String(contentsOfFile: spec.workDirectory + "/trainer.log", encoding: .utf8)
        #expect(log.contains("[mixlab] GREETING='***'"))
        #expect(!log.contains("hello run-42"))
        #expect(log.contains("[mixlab] MIXLAB_RUN_ID=run-42"))
    }

    @Test func cudaVisibleDevicesIsEmptyWithoutGPUs() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            assert os.environ["CUDA_VISIBLE_DEVICES"] == "", repr(os.environ.get("CUDA_VISIBLE_DEVICES"))
            with mt.connect() as t:
                t.eval(1, 1, {"code": 1.0})
                t.done()
            """, in: directory, gpus: [])
        let (outcome, _) = try await RunnerFixtures.run(spec)
        #expect(outcome.result != nil, "\(outcome)")
    }

    @Test func unknownPlaceholderIsAStartErrorNamingIt() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("pass\n", in: directory, extraArguments: ["--lr", "{learning_rate}"])
        let supervisor = AttemptSupervisor(spec: spec, logger: RunnerFixtures.quietLogger)
        let error = await #expect(throws: TrainerStartError.self) { try await supervisor.run() }
        #expect(error?.inputError?.field == "trainer.command[3]")
        #expect(error?.inputError?.problem == "unknown placeholder {learning_rate}")
        var events: [AttemptEvent] = []
        for await event in supervisor.events { events.append(event) }
        #expect(events.isEmpty)
    }

    @Test func missingProgramIsAStartError() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        var spec = try RunnerFixtures.spec("pass\n", in: directory)
        spec.command = ["mixlab-no-such-trainer-program", "x"]
        let supervisor = AttemptSupervisor(spec: spec, logger: RunnerFixtures.quietLogger)
        let error = await #expect(throws: TrainerStartError.self) { try await supervisor.run() }
        #expect(error?.message.contains("mixlab-no-such-trainer-program") == true)
    }

    @Test func deepWorkDirectoryPutsTheSocketUnderTmp() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        var spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.eval(1, 1, {"code": 1.0})
                t.done()
            """, in: directory)
        spec.workDirectory = directory.file(String(repeating: "deep/", count: 20) + "attempt-1")
        let (outcome, events) = try await RunnerFixtures.run(spec)
        #expect(outcome.result != nil, "\(outcome)")
        for case .started(_, _, let controlPath) in events {
            #expect(controlPath.hasPrefix("/tmp/mixlab-"))
            #expect(!FileManager.default.fileExists(atPath: controlPath))
        }
    }

    @Test func twentyConcurrentAttemptsAllSucceed() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let script = """
            run = os.environ["MIXLAB_RUN_ID"]
            with mt.connect() as t:
                for step in (10, 20):
                    t.eval(step, step * 100, {"code": float(run.split("-")[1]), "prose": step / 10})
                t.done()
            """
        let specs = try (0..<20).map { index in
            try RunnerFixtures.spec(script, in: try directory.subdirectory("r\(index)"), runID: "run-\(index)")
        }
        let outcomes = try await withThrowingTaskGroup(of: (Int, AttemptOutcome).self) { group in
            for (index, spec) in specs.enumerated() {
                group.addTask { (index, try await RunnerFixtures.run(spec).0) }
            }
            return try await group.reduce(into: [Int: AttemptOutcome]()) { $0[$1.0] = $1.1 }
        }
        #expect(outcomes.count == 20)
        for (index, outcome) in outcomes {
            #expect(outcome.result?.finalEval == TrainerEval(step: 20, tokens: 2000,
                                                             losses: ["code": Double(index), "prose": 2]),
                    "\(outcome)")
        }
    }
}

@Suite("docs/trainer-protocol.md examples")
struct TrainerProtocolDocTests {
    /// The Python block that follows `<!-- tested: NAME -->` in the protocol document.
    static func example(_ name: String) throws -> String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let text = try String(contentsOf: url.appendingPathComponent("docs/trainer-protocol.md"), encoding: .utf8)
        let afterMarker = try #require(text.range(of: "<!-- tested: \(name) -->\n```python\n"))
        let end = try #require(text.range(of: "```", range: afterMarker.upperBound..<text.endIndex))
        return String(text[afterMarker.upperBound..<end.lowerBound])
    }

    @Test(arguments: ["helper-trainer", "raw-trainer"])
    func exampleTrainerSucceeds(name: String) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec(try Self.example(name), in: directory, budget: ["steps": .integer(120)])
        let (outcome, _) = try await RunnerFixtures.run(spec) { request in
            request.step < 200 ? .mixture(weights: ["code": 0.4, "prose": 0.6], steps: 100) : .stop
        }
        let result = try #require(outcome.result, "\(outcome)")
        #expect(Set(result.finalEval.losses.keys) == ["code", "prose"])
    }
}

@Suite("AttemptSupervisor edge cases")
struct AttemptSupervisorEdgeTests {
    @Test func cancelBeforeRunStartsNothing() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            open(os.path.join(os.environ["OUT_DIR"], "started"), "w").close()
            """, in: directory, environment: ["OUT_DIR": directory.path])
        let supervisor = AttemptSupervisor(spec: spec, logger: RunnerFixtures.quietLogger)
        supervisor.cancel()
        let outcome = try await supervisor.run()
        #expect(outcome.failure?.cause == .cancelled)
        #expect(!FileManager.default.fileExists(atPath: directory.file("started")))
        var events: [AttemptEvent] = []
        for await event in supervisor.events { events.append(event) }
        #expect(events == [.finished(outcome)])
    }

    @Test func runTwiceIsRefused() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("""
            with mt.connect() as t:
                t.eval(1, 1, {"code": 1.0})
                t.done()
            """, in: directory)
        let supervisor = AttemptSupervisor(spec: spec, logger: RunnerFixtures.quietLogger)
        #expect(try await supervisor.run().result != nil)
        await #expect(throws: TrainerStartError.self) { try await supervisor.run() }
    }

    @Test func trainerThatNeverConnectsAndExitsZeroIsAProtocolError() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let spec = try RunnerFixtures.spec("print('forgot the protocol')\n", in: directory)
        let (outcome, _) = try await RunnerFixtures.run(spec)
        #expect(outcome.failure?.cause == .protocolError)
        #expect(outcome.failure?.logTail.contains("forgot the protocol") == true)
    }
}

@Suite("Supervisor overhead (prints, asserts nothing about time)")
struct SupervisorOverheadProbe {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["MIXLAB_RUNNER_PROBE"] != nil))
    func sequentialNoOpAttempts() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let count = 50
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            for index in 0..<count {
                let spec = AttemptSpec(
                    runID: RunID("r\(index)"), sweepID: SweepID("s"), attempt: 1, domains: RunnerFixtures.domains,
                    mixture: ["code": 1], command: ["true"], workDirectory: directory.file("a\(index)"))
                let outcome = try await AttemptSupervisor(spec: spec, logger: RunnerFixtures.quietLogger).run()
                #expect(outcome.failure?.cause == .protocolError)
            }
        }
        print("supervised no-op attempt: \(elapsed / count) each over \(count)")
    }
}

/// The `next` requests a handler saw, in order.
final class NextRequests: Sendable {
    private let requests = Mutex<[AttemptSupervisor.NextRequest]>([])
    func append(_ request: AttemptSupervisor.NextRequest) { requests.withLock { $0.append(request) } }
    var all: [AttemptSupervisor.NextRequest] { requests.withLock { $0 } }
}
