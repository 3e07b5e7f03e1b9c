import Foundation
import Logging
import MixLabCore
import MixLabStore
import MixLabTestSupport
import Synchronization
import Testing

/// PostgreSQL restarted (`pg_ctl restart -m fast`) in the middle of a stream of eval reports: the
/// store reconnects by itself and every acknowledged batch is stored exactly once.
/// The fault-injection suites run one after another: each starts private PostgreSQL clusters (and
/// restarts or cuts them), and several of them at once on two cores left connections wedged in
/// PostgresNIO (see the store issue's note); serialized they are reliable.
@Suite(.serialized) struct PostgresFaultInjection {}

extension PostgresFaultInjection {
@Suite struct PostgresFaultTests {
    @Test func reportsSurviveAServerRestart() async throws {
        let cluster = try PostgresTestCluster.startPrivate()
        defer { cluster.stop() }
        var logger = Logger(label: "mixlab.store.fault")
        logger.logLevel = .error
        try await withDeadline(.seconds(180)) { [logger] in
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
}

/// Four reporters stream evals concurrently over TCP while PostgreSQL restarts: every batch a
/// reporter saw acknowledged is stored, none twice; the whole test is bounded by a deadline.
@Suite struct ConcurrentRestartTests {
    /// What one reporter had acknowledged: its run and the first step of each batch.
    struct Acknowledged: Sendable {
        var run: RunID
        var batchSize: Int64
        var starts: [Int64]
    }

    /// Shared between the reporters and the task that restarts the server.
    final class Progress: Sendable {
        let acknowledgedBatches = Atomic(0)
        let restartedAfter = Mutex<Int?>(nil)
    }

    /// (Used to hang under load: PostgresNIO drops a statement written to a connection that has just
    /// closed; the store's operation deadline now gives up on such a statement. The deadline is 5 s
    /// here and the final read of 73,200 rows takes 4–12 s to decode on a loaded machine, so this
    /// also checks that the deadline counts only waiting for the server.)
    @Test func concurrentReportersOverTCPSurviveARestart() async throws {
        let cluster = try PostgresTestCluster.startPrivate(tcp: true)
        defer { cluster.stop() }
        #expect(cluster.url.hasPrefix("postgres://mixlab@127.0.0.1:"))
        var logger = Logger(label: "mixlab.store.concurrent-restart")
        logger.logLevel = .error
        try await withDeadline(.seconds(300)) { [logger] in
            try await SQLStore.with(StoreURL(parsing: cluster.url), logger: logger, operationDeadline: .seconds(5)) { store in
                _ = try await store.migrate()
                _ = try await store.createSweep(StoreConformanceTests.sweep("tcp", runs: 4))
                var claimed: [(run: RunRecord, lease: Lease)] = []
                for reporter in 0..<4 {
                    claimed.append(try #require(try await StoreConformanceTests.claim(store, worker: WorkerID("r\(reporter)"), lease: .seconds(600))))
                }
                let leases = claimed
                let progress = Progress()
                let reporters = try await withDeadline(.seconds(240)) {
                    try await withThrowingTaskGroup(of: Acknowledged?.self) { group in
                        for (reporter, claimed) in leases.enumerated() {
                            // Two reporters send small batches (one UNNEST statement), two large ones (COPY).
                            let batchSize: Int64 = reporter < 2 ? 10 : 600
                            group.addTask {
                                var acknowledged = Acknowledged(run: claimed.run.id, batchSize: batchSize, starts: [])
                                for batch in Int64(0)..<30 {
                                    let start = batch * batchSize
                                    let report = EvalReport(
                                        run: claimed.run.id, worker: WorkerID("r\(reporter)"), token: claimed.lease.token,
                                        points: StoreConformanceTests.points(start...(start + batchSize - 1)))
                                    var tries = 0
                                    while true {
                                        do {
                                            let ingest = try await store.reportEvals(report)
                                            #expect(ingest.inserted + ingest.duplicates == Int(batchSize) * 2)
                                            break
                                        } catch let error as StoreError where error.code == .connection && tries < 5 {
                                            // What a worker does when the store gave up: send the batch again.
                                            tries += 1
                                            try await Task.sleep(for: .milliseconds(500))
                                        }
                                    }
                                    acknowledged.starts.append(start)
                                    progress.acknowledgedBatches.add(1, ordering: .relaxed)
                                    try await Task.sleep(for: .milliseconds(30))
                                }
                                return acknowledged
                            }
                        }
                        group.addTask {
                            while progress.acknowledgedBatches.load(ordering: .relaxed) < 20 { try await Task.sleep(for: .milliseconds(10)) }
                            progress.restartedAfter.withLock { $0 = progress.acknowledgedBatches.load(ordering: .relaxed) }
                            try cluster.restart()
                            return nil
                        }
                        return try await group.reduce(into: [Acknowledged]()) { if let done = $1 { $0.append(done) } }
                    }
                }
                #expect(reporters.count == 4)
                let restartPoint = try #require(progress.restartedAfter.withLock { $0 })
                #expect(restartPoint < 4 * 30, "the restart happened while reports were streaming")
                let stored = try await store.evals(in: SweepID("tcp"))
                let keys = stored.map { "\($0.run.rawValue)/\($0.attempt)/\($0.step)/\($0.domain)" }
                #expect(Set(keys).count == stored.count, "no eval row is stored twice")
                let storedKeys = Set(keys)
                var expected = 0
                for reporter in reporters {
                    for start in reporter.starts {
                        for step in start..<(start + reporter.batchSize) {
                            for domain in ["web", "code"] where !storedKeys.contains("\(reporter.run.rawValue)/1/\(step)/\(domain)") {
                                Issue.record("acknowledged eval \(reporter.run) step \(step) \(domain) is missing")
                            }
                        }
                        expected += Int(reporter.batchSize) * 2
                    }
                }
                #expect(stored.count == expected, "exactly the acknowledged batches are stored")
            }
        }
    }
}

/// A connection lost after COMMIT was sent (the proxy forwards the COMMIT and drops the answer):
/// the write did commit, so retrying a non-idempotent one would do it twice.
@Suite struct LostCommitTests {
    /// Runs `body` with a store that reaches a private TCP cluster through a ``CommitCuttingProxy``.
    func withStoreBehindProxy(_ body: @escaping @Sendable (SQLStore, CommitCuttingProxy) async throws -> Void) async throws {
        try await withDeadline(.seconds(120)) { try await Self.runBehindProxy(body) }
    }

    static func runBehindProxy(_ body: @Sendable (SQLStore, CommitCuttingProxy) async throws -> Void) async throws {
        let cluster = try PostgresTestCluster.startPrivate(tcp: true)
        defer { cluster.stop() }
        let proxy = try CommitCuttingProxy(upstreamPort: try #require(cluster.port))
        defer { proxy.stop() }
        var logger = Logger(label: "mixlab.store.lost-commit")
        logger.logLevel = .error
        try await SQLStore.with(
            StoreURL(parsing: "postgres://mixlab@127.0.0.1:\(proxy.port)/mixlab_test"), logger: logger, operationDeadline: .seconds(3)
        ) { store in
            _ = try await store.migrate()
            try await body(store, proxy)
        }
    }

    @Test func aClaimWhoseCommitWasLostIsFoundNotTakenTwice() async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("c", runs: 3))
            // The claim is one statement that commits on its own: lose the answer to it.
            proxy.armCutAfterNextCommit(marker: "INSERT INTO run_attempts")
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            #expect(proxy.cuts == 1, "the claim went through the proxy and its answer was lost")
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

    /// A COPY batch whose connection is cut inside its transaction (the marker matches the staging
    /// table's `ON COMMIT DELETE ROWS`): this used to hang for good in PostgresNIO's ROLLBACK.
    @Test func aCopyBatchWhoseConnectionIsCutIsStoredOnce() async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("e", runs: 1))
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            let report = EvalReport(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token,
                points: StoreConformanceTests.points(1...600))
            proxy.armCutAfterNextCommit(marker: "ON COMMIT")
            let started = ContinuousClock.now
            let ingest = try await store.reportEvals(report)
            #expect(proxy.cuts == 1)
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(ingest.inserted + ingest.duplicates == 1200)
            #expect(try await store.evals(in: SweepID("e")).count == 1200)
        }
    }

    /// The server's answer to a COMMIT never comes and the connection stays open (a stalled
    /// network): the operation deadline (3 s here) drops the connection, the store finds out whether
    /// the batch committed, and the batch is acknowledged and stored exactly once.
    @Test(arguments: [300, 600]) func aStalledCommitEndsAtTheDeadlineAndIsStoredOnce(points: Int) async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("d", runs: 1))
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            let report = EvalReport(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token,
                points: StoreConformanceTests.points(1...Int64(points)))
            proxy.armCutAfterNextCommit(marker: "COMMIT", stall: true)
            let started = ContinuousClock.now
            let ingest = try await store.reportEvals(report)
            let took = ContinuousClock.now - started
            #expect(proxy.cuts == 1)
            #expect(took >= .seconds(3) && took < .seconds(15), "returned after the 3 s deadline, not before and not much later: \(took)")
            #expect(ingest.inserted + ingest.duplicates == points * 2)
            #expect(try await store.evals(in: SweepID("d")).count == points * 2)
            // A non-idempotent write whose COMMIT stalls is reported as unknown, and not repeated.
            proxy.armCutAfterNextCommit(stall: true)
            await #expect { try await store.recordFit(FitRecord(sweep: SweepID("d"), law: "linear", reportJSON: "{}")) } throws: {
                ($0 as? StoreError)?.code == .connection && "\($0)".contains("may or may not")
            }
            #expect(try await store.fits(in: SweepID("d")).count == 1)
        }
    }

    /// Where in a large batch's COPY the server's answers stop coming while the connection stays open.
    enum CopyStall: String, CaseIterable, Sendable {
        /// After the `COPY … FROM STDIN` statement: the server waits in COPY for data.
        case statement
        /// After CopyDone: the server has copied and sits idle in the transaction.
        case copyDone

        var marker: String {
            switch self {
            case .statement: "FROM STDIN"
            case .copyDone: "c\u{0}\u{0}\u{0}\u{4}S\u{0}\u{0}\u{0}\u{4}"  // CopyDone, then Sync
            }
        }
    }

    /// The answers to a large batch's COPY stop coming while the connection stays open, so the
    /// server's transaction holds the run's row lock. It must end: after the statement, the deadline
    /// drops the connection; after CopyDone (where PostgresNIO cannot be interrupted), the server's
    /// idle-in-transaction timeout (twice the deadline) ends the session. Otherwise every retry
    /// waits behind the lock until it too hits the deadline.
    @Test(arguments: CopyStall.allCases) func aStalledCopyEndsAndReleasesTheRun(stall: CopyStall) async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("p", runs: 1))
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            let report = EvalReport(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token,
                points: StoreConformanceTests.points(1...600))
            proxy.armCutAfterNextCommit(marker: stall.marker, stall: true)
            let started = ContinuousClock.now
            let ingest = try await store.reportEvals(report)
            let took = ContinuousClock.now - started
            #expect(proxy.cuts == 1)
            #expect(took >= .seconds(3) && took < .seconds(20), "returned after the 3 s deadline, not before and not much later: \(took)")
            #expect(ingest.inserted == 1200)
            #expect(try await store.evals(in: SweepID("p")).count == 1200)
        }
    }

    @Test func idempotentWritesAreRetriedAfterALostCommit() async throws {
        try await withStoreBehindProxy { store, proxy in
            _ = try await store.createSweep(StoreConformanceTests.sweep("e", runs: 1))
            let claimed = try #require(try await StoreConformanceTests.claim(store))
            let report = EvalReport(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token,
                points: StoreConformanceTests.points(1...300))
            proxy.armCutAfterNextCommit()
            let ingest = try await store.reportEvals(report)
            #expect(proxy.cuts == 1)
            #expect(ingest.inserted + ingest.duplicates == 600)
            #expect(try await store.evals(in: SweepID("e")).count == 600)
            proxy.armCutAfterNextCommit()
            let done = try await store.completeRun(RunCompletion(
                run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token, outcome: .succeeded))
            #expect(proxy.cuts == 2)
            #expect(done.state == .succeeded)
        }
    }
}
}
