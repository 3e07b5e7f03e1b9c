import Foundation
import MixLabCore
import MixLabStore
import MixLabTestSupport
import Testing

/// The whole system as users run it: a coordinator and three workers as separate processes on
/// loopback, real certificates, a trainer script speaking the protocol, the CLI as a subprocess.
@Suite(.serialized) struct EndToEndTests {
    static func evalRows(_ cluster: LoopbackCluster, sweep: String) async throws -> [EvalRecord] {
        try await SQLStore.with(try StoreURL(parsing: cluster.databaseURL)) { store in try await store.evals(in: SweepID(sweep)) }
    }

    func runSweep(database: String?) async throws {
        let cluster = try LoopbackCluster(database: database)
        try cluster.write("trainer.py", scriptedTrainer)
        try await cluster.startCoordinator()
        for name in ["worker-1", "worker-2", "worker-3"] { try cluster.startWorker(name) }
        let spec = try cluster.write("sweep.yaml", sweepSpec(name: "e2e", runs: 30, cluster: cluster, laws: "laws: [loglinear]"))
        let submitted = try await cluster.cliJSON(["sweep", "submit", spec])
        let id = try #require(submitted["id"] as? String)

        let again = try await cluster.cliJSON(["sweep", "submit", spec])
        #expect(again["id"] as? String == id, "resubmitting the same spec returns the same sweep")

        let status = try await cluster.waitForSweep(id)
        let counts = try #require(status["counts"] as? [String: Int], "\(status)")
        #expect(status["state"] as? String == "completed", "\(cluster.diagnostics)")
        #expect(counts["succeeded"] == 30, "\(status)\n\(cluster.diagnostics)")
        #expect(counts["failed"] == 0 && counts["cancelled"] == 0)

        // Exactly once: one succeeded attempt per run, 3 evals × 3 domains each, no duplicates.
        let evals = try await Self.evalRows(cluster, sweep: id)
        #expect(evals.count == 30 * 3 * 3, "\(evals.count) eval rows")
        let keys = Set(evals.map { "\($0.run)|\($0.attempt)|\($0.step)|\($0.domain)" })
        #expect(keys.count == evals.count)

        let out = cluster.directory + "/export"
        let export = try await cluster.cli(["export", id, "--out", out])
        #expect(export.status == 0, "\(export.output)")
        let ratios = try String(contentsOfFile: out + "/ratios.csv", encoding: .utf8).split(separator: "\n")
        let metrics = try String(contentsOfFile: out + "/metrics.csv", encoding: .utf8).split(separator: "\n")
        #expect(ratios.first == "run,a,b,c")
        #expect(metrics.first == "run,eval_a,eval_b,eval_c")
        #expect(ratios.count == 31 && metrics.count == 31)
        // The exported final loss of each run is its step-3 eval.
        for line in metrics.dropFirst() {
            let fields = line.split(separator: ",")
            let final = evals.filter { $0.run.rawValue == fields[0] && $0.step == 3 && $0.domain == "a" }
            #expect(final.count == 1 && Double(fields[1]) == final.first?.loss)
        }
        // spec.json is the resolved spec: submitting it again is the same sweep (same spec hash).
        let resubmitted = try await cluster.cliJSON(["sweep", "submit", out + "/spec.json"])
        #expect(resubmitted["id"] as? String == id, "\(resubmitted)")
        let runs = try await cluster.cli(["runs", "ls", id, "--json"])
        #expect(runs.status == 0)

        // The coordinator fits the sweep's law once it completes and stores the recommendation.
        var mixture = try await cluster.cli(["sweep", "mixture", id, "--format", "csv"])
        let deadline = ContinuousClock.now + .seconds(120)
        while mixture.status != 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            mixture = try await cluster.cli(["sweep", "mixture", id, "--format", "csv"])
        }
        #expect(mixture.status == 0, "\(mixture.output)\n\(cluster.diagnostics)")
        let shares = mixture.output.split(separator: "\n").dropFirst().compactMap { Double($0.split(separator: ",").last ?? "") }
        #expect(shares.count == 3 && abs(shares.reduce(0, +) - 1) < 1e-6, "\(mixture.output)")
    }

    @Test func thirtyRunSweepOnSQLite() async throws {
        try await runSweep(database: nil)
    }

    @Test func thirtyRunSweepOnPostgreSQL() async throws {
        let cluster = try PostgresTestCluster.shared()
        try await runSweep(database: try cluster.freshDatabaseURL("e2e_\(UUID().uuidString.prefix(6).lowercased())"))
    }
}
