import Foundation
import MixLabCore
import MixLabStore
import MixLabTestSupport
import Testing

/// Crashes on either side delay a sweep but never corrupt it: every run finishes exactly once.
@Suite(.serialized) struct FaultTests {
    static func store<T: Sendable>(_ cluster: LoopbackCluster, _ body: @Sendable (SQLStore) async throws -> T) async throws -> T {
        try await SQLStore.with(try StoreURL(parsing: cluster.databaseURL)) { try await body($0) }
    }

    /// Waits until some run of the sweep is running on `worker`.
    static func waitForRunningRun(_ cluster: LoopbackCluster, sweep: String, on worker: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let runs = try await store(cluster) { try await $0.runs(in: SweepID(sweep)) }
            if let run = runs.first(where: { $0.state == .running && $0.lease?.worker.rawValue == worker }) { return run.id.rawValue }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw PostgresTestCluster.ClusterError("no run started on \(worker)\n\(cluster.diagnostics)")
    }

    @Test func killedWorkerRunIsRetriedElsewhereAndSucceedsOnce() async throws {
        let cluster = try LoopbackCluster(leaseSeconds: 3, workerNames: ["worker-1", "worker-2"])
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        let spec = try cluster.write(
            "sweep.yaml", sweepSpec(name: "kill-worker", runs: 4, cluster: cluster, env: ["TRAINER_SLEEP": "1.5", "TRAINER_STEPS": "3"]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        let victim = try await Self.waitForRunningRun(cluster, sweep: id, on: "worker-1")
        try await cluster.killWorker("worker-1")
        try cluster.startWorker("worker-2", cpuSlots: 2)

        let status = try await cluster.waitForSweep(id)
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 4, "\(status)\n\(cluster.diagnostics)")
        let (run, attempts, evals) = try await Self.store(cluster) { store in
            (try await store.run(RunID(victim)), try await store.attempts(of: RunID(victim)), try await store.evals(in: SweepID(id)))
        }
        #expect(run?.state == .succeeded)
        #expect(attempts.count == 2, "the killed attempt and the retry: \(attempts)")
        #expect(attempts.first?.outcome == "lost" || attempts.first?.cause == .lost, "\(attempts)")
        #expect(attempts.last?.worker.rawValue == "worker-2")
        #expect(attempts.filter { $0.outcome == "succeeded" }.count == 1)
        let finalAttemptEvals = evals.filter { $0.run.rawValue == victim && $0.attempt == run?.attempt }
        #expect(finalAttemptEvals.count == 9)
    }

    @Test func aRunHandedBackByADrainingWorkerKeepsItsAttemptsAndTheWorkerIsNotBlamed() async throws {
        let cluster = try LoopbackCluster(leaseSeconds: 6, workerNames: ["worker-1", "worker-2"])
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator(extra: ["--quarantine-after", "1"])
        try cluster.startWorker("worker-1", cpuSlots: 1, extra: ["--drain", "hand-back"])
        // One attempt only: were the hand-back charged as a failure, the run would fail for good.
        let spec = try cluster.write(
            "sweep.yaml", sweepSpec(name: "hand-back", runs: 1, cluster: cluster, maxAttempts: 1, env: ["TRAINER_SLEEP": "1.5", "TRAINER_STEPS": "3"]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        let victim = try await Self.waitForRunningRun(cluster, sweep: id, on: "worker-1")
        let draining = try #require(cluster.workers["worker-1"])
        draining.signal(SIGTERM)
        #expect(try await draining.wait() == 0, "the worker drains and exits cleanly: \(draining.output)")
        try cluster.startWorker("worker-2", cpuSlots: 1)

        let status = try await cluster.waitForSweep(id)
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 1, "\(status)\n\(cluster.diagnostics)")
        let attempts = try await Self.store(cluster) { try await $0.attempts(of: RunID(victim)) }
        #expect(attempts.map(\.cause) == [.preempted, nil], "\(attempts)")
        #expect(attempts.last?.worker.rawValue == "worker-2")
        let workers = try await cluster.cli(["workers", "ls", "--json"])
        #expect(!workers.output.contains("\"quarantined\" : true"), "a hand-back is not a failure of the worker: \(workers.output)")
    }

    @Test func aWorkerWithAnIdleLimitExitsCleanlyOnceTheSweepIsDone() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator()
        let spec = try cluster.write("sweep.yaml", sweepSpec(name: "idle", runs: 3, cluster: cluster, env: ["TRAINER_STEPS": "2"]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        try cluster.startWorker("worker-1", cpuSlots: 1, extra: ["--exit-when-idle", "4s"])
        let worker = try #require(cluster.workers["worker-1"])
        let status = try await cluster.waitForSweep(id)
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 3, "the worker stayed while there was work: \(status)\n\(cluster.diagnostics)")
        #expect(try await worker.wait(timeout: .seconds(60)) == 0, "\(worker.output)")
        #expect(worker.output.contains("no run for the idle limit; exiting"), "\(worker.output)")

        let refused = try await cluster.cli(["worker", "--coordinator", "127.0.0.1:1", "--ca", "x", "--cert", "y", "--key", "z", "--exit-when-idle", "soon"])
        #expect(refused.status != 0 && refused.output.contains("--exit-when-idle soon"), "\(refused.output)")
    }

    @Test func restartedCoordinatorKeepsTheSweepAndReattachesRunningRuns() async throws {
        let cluster = try LoopbackCluster(leaseSeconds: 6, workerNames: ["worker-1", "worker-2"])
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 2)
        try cluster.startWorker("worker-2", cpuSlots: 2)
        let spec = try cluster.write(
            "sweep.yaml", sweepSpec(name: "kill-coordinator", runs: 8, cluster: cluster, env: ["TRAINER_SLEEP": "1.0", "TRAINER_STEPS": "4"]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        let survivor = try await Self.waitForRunningRun(cluster, sweep: id, on: "worker-1")
        try await cluster.killCoordinator()
        try await Task.sleep(for: .seconds(1))
        try await cluster.startCoordinator()

        let status = try await cluster.waitForSweep(id)
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 8, "\(status)\n\(cluster.diagnostics)")
        let (attempts, evals) = try await Self.store(cluster) { store in
            (try await store.attempts(of: RunID(survivor)), try await store.evals(in: SweepID(id)))
        }
        #expect(attempts.count == 1, "the run that was running during the restart was reattached, not restarted: \(attempts)")
        #expect(evals.count == 8 * 4 * 3, "no duplicate or missing evals: \(evals.count)")
        #expect(Set(evals.map { "\($0.run)|\($0.attempt)|\($0.step)|\($0.domain)" }).count == evals.count)
    }

    /// An online trainer whose `next` is pending while the coordinator is down keeps waiting and is
    /// answered by the restarted coordinator: the run is neither stopped early nor restarted.
    @Test func pendingNextSurvivesACoordinatorRestart() async throws {
        // A lease long enough to outlast the restart and the worker's reconnect back-off on a loaded machine.
        let cluster = try LoopbackCluster(leaseSeconds: 30, workerNames: ["worker-1"])
        let gate = cluster.directory + "/gate"
        try cluster.write(
            "trainer.py",
            """
            import json, os, sys, time
            import mixlab_trainer
            gate = sys.argv[1]
            replies = []
            with mixlab_trainer.connect() as trainer:
                for round in range(3):
                    if round == 1:
                        open(os.path.join(gate, "asked-once"), "w").close()
                        while not os.path.exists(os.path.join(gate, "go")):
                            time.sleep(0.05)
                    reply = trainer.next(round * 10)
                    replies.append("stop" if reply is None else "mixture")
                    trainer.eval((round + 1) * 10, (round + 1) * 100, {"a": 1.0, "b": 1.0, "c": 1.0})
                print("replies:", " ".join(replies), flush=True)
                trainer.done()
            """)
        try FileManager.default.createDirectory(atPath: gate, withIntermediateDirectories: true)
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        var spec = sweepSpec(name: "online-restart", runs: 1, cluster: cluster)
        spec = spec.replacingOccurrences(of: "\"--run\", \"{run_id}\"", with: "\"\(gate)\"")
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", try cluster.write("sweep.yaml", spec)])["id"] as? String)
        let deadline = ContinuousClock.now + .seconds(60)
        while !FileManager.default.fileExists(atPath: gate + "/asked-once"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await cluster.killCoordinator()
        // The second `next` is asked while no coordinator runs.
        _ = FileManager.default.createFile(atPath: gate + "/go", contents: nil)
        // Long enough for the worker to try (and fail) to reconnect with the request pending.
        try await Task.sleep(for: .seconds(3))
        try await cluster.startCoordinator()

        let status: [String: Any]
        do {
            status = try await cluster.waitForSweep(id, timeout: .seconds(60))
        } catch {
            Issue.record("\(error)\n\(cluster.diagnostics)")
            return
        }
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 1, "\(status)\n\(cluster.diagnostics)")
        let run = try await cluster.cliJSON(["runs", "show", "\(id)/0"])
        let attempts = try #require(run["attempts"] as? [[String: Any]])
        #expect(attempts.count == 1, "the online run was not restarted: \(attempts)")
        let log = try await cluster.cli(["runs", "logs", "\(id)/0"])
        #expect(log.output.contains("replies: mixture mixture mixture"), "every next was answered, none with stop: \(log.output)\n\(cluster.diagnostics)")
    }

    @Test func cancelKillsTheWholeProcessGroup() async throws {
        let cluster = try LoopbackCluster(leaseSeconds: 4, workerNames: ["worker-1"])
        try cluster.write("trainer.py", scriptedTrainer)
        let pids = cluster.directory + "/pids"
        try FileManager.default.createDirectory(atPath: pids, withIntermediateDirectories: true)
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 2)
        let spec = try cluster.write(
            "sweep.yaml",
            sweepSpec(name: "cancel", runs: 3, cluster: cluster, env: ["TRAINER_SLEEP": "30", "TRAINER_STEPS": "5", "TRAINER_PID_DIR": pids]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        _ = try await Self.waitForRunningRun(cluster, sweep: id, on: "worker-1")
        // Both trainers have written their pid files.
        let recorded = try await Self.recordedPIDs(in: pids, count: 4)
        #expect(recorded.count == 4, "two trainers, each with a grandchild: \(recorded)\n\(cluster.diagnostics)")
        let cancel = try await cluster.cli(["sweep", "cancel", id])
        #expect(cancel.status == 0, "\(cancel.output)")

        let survivors = try await Self.survivors(of: recorded)
        #expect(survivors.isEmpty, "processes left after cancel: \(survivors)")
        let status = try await cluster.cliJSON(["sweep", "show", id])
        #expect(status["state"] as? String == "cancelled")
        #expect((status["counts"] as? [String: Int])?["cancelled"] == 3)
    }

    @Test func cancellingOneRunStopsItsProcessGroupAndTheSweepGoesOn() async throws {
        let cluster = try LoopbackCluster(leaseSeconds: 4, workerNames: ["worker-1"])
        try cluster.write("trainer.py", scriptedTrainer)
        let pids = cluster.directory + "/pids"
        try FileManager.default.createDirectory(atPath: pids, withIntermediateDirectories: true)
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        // Every run would take 5 × 30 s on the one slot: cancel the first, see the next start.
        let spec = try cluster.write(
            "sweep.yaml", sweepSpec(name: "cancel-one", runs: 3, cluster: cluster, env: ["TRAINER_SLEEP": "30", "TRAINER_STEPS": "5", "TRAINER_PID_DIR": pids]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        let victim = try await Self.waitForRunningRun(cluster, sweep: id, on: "worker-1")
        let recorded = try await Self.recordedPIDs(in: pids, count: 2)
        #expect(recorded.count == 2, "the trainer and its grandchild: \(recorded)\n\(cluster.diagnostics)")
        let cancel = try await cluster.cli(["runs", "cancel", victim])
        #expect(cancel.status == 0 && cancel.output.contains("is cancelled"), "\(cancel.output)")
        let survivors = try await Self.survivors(of: recorded)
        #expect(survivors.isEmpty, "processes left after the run was cancelled: \(survivors)")
        // The sweep goes on: the next run starts on the freed slot.
        let next = try await Self.waitForRunningRun(cluster, sweep: id, on: "worker-1")
        #expect(next != victim)
        let again = try await cluster.cli(["runs", "cancel", victim])
        #expect(again.status == 0, "cancelling a cancelled run changes nothing: \(again.output)")
        let status = try await cluster.cliJSON(["sweep", "show", id])
        #expect(status["state"] as? String == "active" && (status["counts"] as? [String: Int])?["cancelled"] == 1, "\(status)")
        _ = try await cluster.cli(["sweep", "cancel", id])
    }

    /// The pids the trainers wrote to `TRAINER_PID_DIR`, once there are `count` of them (or after a minute).
    static func recordedPIDs(in directory: String, count: Int) async throws -> [pid_t] {
        var recorded: [pid_t] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while recorded.count < count, ContinuousClock.now < deadline {
            recorded = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).flatMap { name in
                ((try? String(contentsOfFile: "\(directory)/\(name)", encoding: .utf8)) ?? "").split(whereSeparator: \.isWhitespace).compactMap { pid_t($0) }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return recorded
    }

    /// The processes of `pids` still alive after up to 30 s of waiting for them to go.
    static func survivors(of pids: [pid_t]) async throws -> [pid_t] {
        let deadline = ContinuousClock.now + .seconds(30)
        var survivors = pids
        while !survivors.isEmpty, ContinuousClock.now < deadline {
            survivors = pids.filter { kill($0, 0) == 0 && !Self.isZombie($0) }
            try await Task.sleep(for: .milliseconds(200))
        }
        return survivors
    }

    static func isZombie(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false
    }
}
