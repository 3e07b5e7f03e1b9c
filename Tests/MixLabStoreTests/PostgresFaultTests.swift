import Foundation
import Logging
import MixLabCore
import MixLabStore
import MixLabTestSupport
import Testing

/// PostgreSQL restarted (`pg_ctl restart -m fast`) in the middle of a stream of eval reports: the
/// store reconnects by itself and every acknowledged batch is stored exactly once.
@Suite struct PostgresFaultTests {
    @Test func reportsSurviveAServerRestart() async throws {
        let cluster = try PostgresTestCluster.startPrivate()
        defer { cluster.stop() }
        var logger = Logger(label: "mixlab.store.fault")
        logger.logLevel = .error
        try await SQLStore.with(StoreURL(parsing: cluster.url), logger: logger) { store in
            _ = try await store.migrate()
            _ = try await store.createSweep(StoreConformanceTests.sweep("f", runs: 1))
            let claimed = try #require(try await StoreConformanceTests.claim(store, lease: .seconds(300)))
            var acknowledged = 0
            for batch in 0..<60 {
                if batch == 20 { try cluster.restart() }
                let step = Int64(batch * 10)
                let report = EvalReport(
                    run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token,
                    points: StoreConformanceTests.points(step...(step + 9)))
                let ingest = try await store.reportEvals(report)
                #expect(ingest.inserted + ingest.duplicates == 20)
                acknowledged += 20
                if batch == 30 {
                    // A replay of an acknowledged batch (as a reconnecting worker sends) adds nothing.
                    #expect(try await store.reportEvals(report).inserted == 0)
                }
            }
            let stored = try await store.evals(in: SweepID("f"))
            #expect(stored.count == acknowledged)
            #expect(Set(stored.map { "\($0.step)/\($0.domain)" }).count == acknowledged)
        }
    }
}

/// A connection lost after COMMIT was sent (the proxy forwards the COMMIT and drops the answer):
/// the write did commit, so retrying a non-idempotent one would do it twice.
@Suite struct LostCommitTests {
    /// Runs `body` with a store that reaches a private TCP cluster through a ``CommitCuttingProxy``.
    func withStoreBehindProxy(_ body: @Sendable (SQLStore, CommitCuttingProxy) async throws -> Void) async throws {
        let cluster = try PostgresTestCluster.startPrivate(tcp: true)
        defer { cluster.stop() }
        let proxy = try CommitCuttingProxy(upstreamPort: try #require(cluster.port))
        defer { proxy.stop() }
        var logger = Logger(label: "mixlab.store.lost-commit")
        logger.logLevel = .error
        try await SQLStore.with(StoreURL(parsing: "postgres://mixlab@127.0.0.1:\(proxy.port)/mixlab_test"), logger: logger) { store in
            _ = try await store.migrate()
            try await body(store, proxy)
        }
    }

    @Test func aClaimWhoseCommitWasLostIsFoundNotTakenTwice() async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("c", runs: 3))
            proxy.armCutAfterNextCommit()
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            #expect(proxy.cuts == 1, "the claim's COMMIT went through the proxy")
            let leased = try await store.runs(in: SweepID("c")).filter { $0.state == .assigned }
            #expect(leased.map(\.id) == [claimed.run.id], "exactly one run is leased, the one the claimer was told about")
            #expect(leased.first?.lease?.token == claimed.lease.token)
            let next = try #require(try await StoreConformanceTests.claim(store))
            #expect(next.run.id != claimed.run.id)
        }
    }

    @Test func aSweepWhoseCommitWasLostIsReturnedNotRefused() async throws {
        try await withStoreBehindProxy { store, proxy in
            proxy.armCutAfterNextCommit()
            let created = try await store.createSweep(StoreConformanceTests.sweep("s", runs: 5))
            #expect(proxy.cuts == 1)
            #expect(created.id == SweepID("s") && created.runCounts[.queued] == 5)
            #expect(try await store.sweeps().count == 1)
        }
    }

    @Test func aFitWhoseCommitWasLostIsReportedAndNotWrittenTwice() async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("f", runs: 1))
            proxy.armCutAfterNextCommit()
            await #expect { try await store.recordFit(FitRecord(sweep: SweepID("f"), law: "linear", reportJSON: "{}")) } throws: {
                ($0 as? StoreError)?.code == .connection && "\($0)".contains("may or may not")
            }
            #expect(proxy.cuts == 1)
            #expect(try await store.fits(in: SweepID("f")).count == 1, "it committed once and was not repeated")
            proxy.armCutAfterNextCommit()
            await #expect { try await store.recordEvent(sweep: SweepID("f"), run: nil, kind: "note", detail: "x") } throws: {
                ($0 as? StoreError)?.code == .connection
            }
        }
    }

    @Test func idempotentWritesAreRetriedAfterALostCommit() async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("e", runs: 1))
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            let report = EvalReport(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token,
                points: StoreConformanceTests.points(1...3000))
            proxy.armCutAfterNextCommit()
            let ingest = try await store.reportEvals(report)
            #expect(proxy.cuts == 1)
            #expect(ingest.inserted + ingest.duplicates == 6000)
            #expect(try await store.evals(in: SweepID("e")).count == 6000)
            proxy.armCutAfterNextCommit()
            let done = try await store.completeRun(RunCompletion(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token, outcome: .succeeded))
            #expect(proxy.cuts == 2)
            #expect(done.state == .succeeded)
        }
    }
}
