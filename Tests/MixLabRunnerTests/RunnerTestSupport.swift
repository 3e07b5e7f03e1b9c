import Foundation
import Logging
import MixLabCore
import MixLabRunner
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp (short, so control socket paths fit), removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        var template = Array("/tmp/mlr-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        self.path = try #require(made.map { String(cString: $0) })
    }

    private init(existing path: String) {
        self.path = path
    }

    func subdirectory(_ name: String) throws -> ScratchDirectory {
        try FileManager.default.createDirectory(atPath: file(name), withIntermediateDirectories: false)
        return ScratchDirectory(existing: file(name))
    }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: file(name), atomically: true, encoding: .utf8)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

enum RunnerFixtures {
    /// `clients/python` of this repository, for the trainers' `PYTHONPATH`.
    static let pythonClientDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("clients/python").path
    }()

    /// Tests check outcomes and logs, not the supervisor's own log lines.
    static let quietLogger = Logger(label: "mixlab.runner.test") { _ in SwiftLogNoOpLogHandler() }

    static let domains = [DomainData(name: "code", path: "/data/code"), DomainData(name: "prose", path: "/data/prose")]

    /// Writes `script` (Python) as `trainer.py` in `directory` and returns a spec that runs it.
    static func spec(
        _ script: String, in directory: ScratchDirectory, runID: String = "run-1", attempt: Int = 1,
        extraArguments: [String] = [], budget: [String: JSONValue] = ["steps": .integer(20)],
        environment: [String: String] = [:], gpus: [Int] = [], limits: AttemptSpec.Limits? = nil
    ) throws -> AttemptSpec {
        let prelude = """
            import json, os, signal, subprocess, sys, time
            import mixlab_trainer as mt

            """
        try directory.write("trainer.py", prelude + script)
        var env = environment
        env["PYTHONPATH"] = pythonClientDirectory
        env["PYTHONUNBUFFERED"] = "1"
        return AttemptSpec(
            runID: RunID(runID), sweepID: SweepID("sweep-1"), attempt: attempt, seed: 7, domains: domains,
            mixture: ["code": 0.25, "prose": 0.75], budget: budget,
            command: ["python3", directory.file("trainer.py")] + extraArguments, environment: env, gpus: gpus,
            workDirectory: directory.file("\(runID)-attempt-\(attempt)"),
            limits: limits ?? AttemptSpec.Limits(wallClock: .seconds(120), killGrace: .seconds(2)))
    }

    /// Runs the attempt and collects every event.
    static func run(
        _ spec: AttemptSpec, next: @escaping AttemptSupervisor.NextHandler = { _ in .stop },
        whileRunning: @escaping @Sendable (AttemptSupervisor, AttemptEvent) async -> Void = { _, _ in }
    ) async throws -> (AttemptOutcome, [AttemptEvent]) {
        let supervisor = AttemptSupervisor(spec: spec, logger: quietLogger, next: next)
        async let collected: [AttemptEvent] = {
            var events: [AttemptEvent] = []
            for await event in supervisor.events {
                events.append(event)
                await whileRunning(supervisor, event)
            }
            return events
        }()
        let outcome = try await supervisor.run()
        return (outcome, await collected)
    }

    /// Processes (not zombies) whose process group is `group`, from /proc.
    static func livingMembers(ofGroup group: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry),
                  let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", fields[0] != "X", Int32(fields[2]) == group else { return nil }
            return pid
        }
    }

    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Polls `condition` until it holds or `limit` passes (a guard against hangs, not a timing check).
    static func eventually(limit: Duration = .seconds(20), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    static func startedPID(_ events: [AttemptEvent]) -> Int32? {
        for case .started(let pid, _, _) in events { return pid }
        return nil
    }
}
