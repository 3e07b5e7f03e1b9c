import Foundation
import MixLabTestSupport
import Testing

/// The operator's side of a sweep: retry policy, quarantine, logs, pause/resume, adding runs, dry runs.
@Suite(.serialized) struct SweepOperationsTests {
    static let failingTrainer = """
        import sys
        print("loading data", flush=True)
        print("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB", flush=True)
        sys.exit(3)
        """

    @Test func aFailureTheLogRulesOutIsNotRetriedAndRepeatedFailuresQuarantineTheWorker() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try cluster.write("trainer.py", Self.failingTrainer)
        try await cluster.startCoordinator(extra: ["--quarantine-after", "2"])
        try cluster.startWorker("worker-1", cpuSlots: 1)
        let spec = try cluster.write(
            "sweep.yaml",
            sweepSpec(name: "oom", runs: 2, cluster: cluster, maxAttempts: 3, extraTrainer: "  no_retry_on_log_regex: [\"CUDA out of memory\"]"))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        let status = try await cluster.waitForSweep(id)
        let counts = try #require(status["counts"] as? [String: Int])
        #expect(counts["failed"] == 2, "both runs failed without a retry: \(status)\n\(cluster.diagnostics)")

        let run = try await cluster.cliJSON(["runs", "show", "\(id)/0"])
        let attempts = try #require(run["attempts"] as? [[String: Any]])
        #expect(attempts.count == 1, "an OOM is not retried although attempts were left")
        #expect(attempts.first?["exit_code"] as? Int == 3)
        #expect((attempts.first?["log_tail"] as? String)?.contains("CUDA out of memory") == true)

        let logs = try await cluster.cli(["runs", "logs", "\(id)/1"])
        #expect(logs.status == 0 && logs.output.contains("loading data"), "\(logs.output)")

        let workers = try await cluster.cli(["workers", "ls", "--json"])
        #expect(workers.output.contains("\"quarantined\" : true"), "two failures in a row quarantine the worker: \(workers.output)")
        let lifted = try await cluster.cli(["workers", "unquarantine", "worker-1"])
        #expect(lifted.status == 0, "\(lifted.output)")
        let after = try await cluster.cli(["workers", "ls", "--json"])
        #expect(after.output.contains("\"quarantined\" : false"), "\(after.output)")

        let retried = try await cluster.cli(["sweep", "retry", id, "--failed"])
        #expect(retried.output.contains("re-queued 2 runs"), "\(retried.output)")
    }

    /// Polls `sweep mixture --format json` until a recommendation fitted on `runs` runs appears.
    static func waitForMixture(_ cluster: LoopbackCluster, sweep: String, runs: Int) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(120)
        var last = ""
        while ContinuousClock.now < deadline {
            let result = try await cluster.cli(["sweep", "mixture", sweep, "--format", "json"])
            last = result.output
            if result.status == 0, result.output.contains("\"runs\" : \(runs)") || result.output.contains("\"runs\": \(runs)") {
                return result.output
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        throw PostgresTestCluster.ClusterError("no recommendation fitted on \(runs) runs: \(last)\n\(cluster.diagnostics)")
    }

    @Test func runsLsShowsHowLongARunningTrainerHasBeenSilent() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        // The trainer says nothing for 4 s before each of its two evals.
        let spec = try cluster.write("sweep.yaml", sweepSpec(name: "quiet", runs: 2, cluster: cluster, env: ["TRAINER_SLEEP": "4", "TRAINER_STEPS": "2"]))
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        var silent: Double?
        let deadline = ContinuousClock.now + .seconds(60)
        while silent == nil, ContinuousClock.now < deadline {
            let runs = try await cluster.cli(["runs", "ls", id, "--json"])
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(runs.output.utf8)) as? [[String: Any]], "\(runs.output)")
            for row in rows where row["state"] as? String != "running" {
                #expect(row["seconds_since_report"] is NSNull, "only running runs have a silence: \(row)")
            }
            if let seconds = rows.first(where: { $0["state"] as? String == "running" })?["seconds_since_report"] as? Double, seconds >= 2 {
                #expect(seconds < 30, "\(rows)")
                silent = seconds
                let text = try await cluster.cli(["runs", "ls", id])
                #expect(text.output.contains("last report "), "\(text.output)")
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(silent != nil, "a running run's silence grew past 2 s while its trainer slept\n\(cluster.diagnostics)")
        #expect(try await cluster.cli(["sweep", "cancel", id]).status == 0)
    }

    @Test func pausedSweepsWaitResumeFinishAndTakeExtraRuns() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator()
        let spec = try cluster.write("sweep.yaml", sweepSpec(name: "ops", runs: 4, cluster: cluster, laws: "laws: [linear]"))

        let dryRun = try await cluster.cli(["sweep", "submit", spec, "--dry-run"])
        #expect(dryRun.status == 0 && dryRun.output.contains("MIXLAB_MIXTURE=") && dryRun.output.contains("trainer.py"), "\(dryRun.output)")
        #expect(try await cluster.cliJSON(["sweep", "ls"]).isEmpty, "a dry run submits nothing")

        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        #expect(try await cluster.cli(["sweep", "pause", id]).status == 0)
        try cluster.startWorker("worker-1", cpuSlots: 2)
        try await Task.sleep(for: .seconds(3))
        let paused = try await cluster.cliJSON(["sweep", "show", id])
        #expect(paused["state"] as? String == "paused")
        #expect((paused["counts"] as? [String: Int])?["queued"] == 4, "a paused sweep starts nothing: \(paused)")

        #expect(try await cluster.cli(["sweep", "resume", id]).status == 0)
        _ = try await cluster.waitForSweep(id)
        let firstFit = try await Self.waitForMixture(cluster, sweep: id, runs: 4)
        let added = try await cluster.cli(["sweep", "add-runs", id, "{kind: list, mixtures: [{a: 0.2, b: 0.3, c: 0.5}]}"])
        #expect(added.status == 0, "\(added.output)")
        // `sweep watch` ends once the sweep is completed *and* refitted: the mixture right after it
        // is already the one fitted on all five runs, with no polling.
        let watched = try await cluster.cli(["sweep", "watch", id])
        #expect(watched.status == 0, "\(watched.output)")
        let final = try await cluster.cliJSON(["sweep", "show", id])
        #expect((final["counts"] as? [String: Int])?["succeeded"] == 5, "\(final)\n\(cluster.diagnostics)")
        let refit = try await cluster.cli(["sweep", "mixture", id, "--format", "json"])
        #expect(refit.status == 0 && refit.output.contains("\"runs\": 5"), "\(refit.output)\n\(cluster.diagnostics)")
        #expect(refit.output != firstFit, "the sweep is refitted on all five runs after runs were added")

        let bad = try await cluster.cli(["sweep", "add-runs", id, "{kind: list, mixtures: [{a: 0.2, z: 0.8}]}"])
        #expect(bad.status == 2 && bad.output.contains("z"), "\(bad.output)")
    }
}

/// The coordinator reads its settings from a YAML file too; flags win, mistakes name the key.
@Suite struct CoordinatorConfigFileTests {
    @Test func settingsComeFromTheFileAndUnknownKeysAreRefused() async throws {
        let cluster = try LoopbackCluster(workerNames: [])
        let config = try cluster.write(
            "coordinator.yaml",
            """
            database: "\(cluster.databaseURL)"
            ca: \(cluster.certs)/ca.pem
            cert: \(cluster.certs)/coordinator.pem
            key: \(cluster.certs)/coordinator.key
            lease_seconds: 12
            store_deadline_seconds: 20
            listen: 127.0.0.1:1
            """)
        let process = try ChildProcess(
            LoopbackCluster.executable, ["coordinator", "--config", config, "--listen", "127.0.0.1:0"],
            logPath: cluster.directory + "/from-file.log")
        let output = try await process.waitForOutput(containing: "listening on 127.0.0.1:", timeout: .seconds(120))
        #expect(!output.contains("127.0.0.1:1 "), "the --listen flag overrides the file")
        process.signal(SIGTERM)
        #expect(try await process.wait() == 0, "SIGTERM shuts the coordinator down cleanly: \(process.output)")

        let bad = try cluster.write("bad.yaml", "lease_second: 12\n")
        let refused = try ChildProcess(
            LoopbackCluster.executable, ["coordinator", "--config", bad], logPath: cluster.directory + "/bad.log")
        #expect(try await refused.wait() == 2)
        #expect(refused.output.contains("lease_second") && refused.output.contains("lease_seconds"), "\(refused.output)")

        for (value, source) in [("0.5", "flag"), ("abc", "file")] {
            var arguments = ["coordinator", "--config", config]
            if source == "flag" {
                arguments += ["--store-deadline-seconds", value]
            } else {
                arguments = ["coordinator", "--config", try cluster.write("deadline.yaml", "store_deadline_seconds: \(value)\n")]
            }
            let tooShort = try ChildProcess(LoopbackCluster.executable, arguments, logPath: cluster.directory + "/deadline-\(source).log")
            #expect(try await tooShort.wait() == 2)
            #expect(tooShort.output.contains(source == "flag" ? "--store-deadline-seconds 0.5" : "store_deadline_seconds"), "\(tooShort.output)")
        }
    }
}

/// SIGTERM stops a coordinator even while workers hold their (never-ending) sessions open.
@Suite struct CoordinatorShutdownTests {
    @Test func sigtermEndsACoordinatorWithConnectedWorkers() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        let deadline = ContinuousClock.now + .seconds(60)
        var listing = try await cluster.cli(["workers", "ls", "--json"])
        while !listing.output.contains("\"connected\" : true"), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            listing = try await cluster.cli(["workers", "ls", "--json"])
        }
        #expect(listing.output.contains("\"connected\" : true"), "\(listing.output)")
        let coordinator = try #require(cluster.coordinator)
        coordinator.signal(SIGTERM)
        #expect(try await coordinator.wait(timeout: .seconds(30)) == 0, "\(coordinator.output.suffix(2000))")
    }
}
