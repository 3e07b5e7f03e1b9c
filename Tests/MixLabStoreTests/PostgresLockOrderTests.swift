import Foundation
import Logging
import MixLabCore
import MixLabStore
import MixLabTestSupport
import Testing

/// Every transaction that locks both a sweep's row and some of its runs' rows takes the runs first,
/// and a transaction PostgreSQL aborts to break a deadlock anyway is run again. Because of the
/// retry a deadlock costs only time (a second of waiting), so the lock-order test reads the
/// server's own deadlock count rather than the outcome.
@Suite struct PostgresLockOrderTests {
    static let deadlocks = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"

    @Test func cancellationRacingCompletionsNeverDeadlocks() async throws {
        let cluster = try PostgresTestCluster.shared()
        let url = try cluster.freshDatabaseURL("lockorder")
        let before = try #require(Int(try cluster.query(Self.deadlocks, databaseURL: url)))
        var logger = Logger(label: "mixlab.store.lockorder")
        logger.logLevel = .warning
        try await withDeadline(.seconds(300)) { [logger] in
            try await SQLStore.with(StoreURL(parsing: url), logger: logger) { store in
                _ = try await store.migrate()
                try await StoreConformanceTests.raceCancellationWithCompletions(store, rounds: 20)
            }
        }
        let after = try await Self.deadlockCount(cluster, url)
        #expect(after == before, "PostgreSQL broke \(after - before) deadlocks between cancelSweep and completeRun")
    }

    @Test func aTransactionAbortedToBreakADeadlockIsRunAgain() async throws {
        let cluster = try PostgresTestCluster.shared()
        let url = try cluster.freshDatabaseURL("deadlockretry")
        let database = try #require(URLComponents(string: url)).path.dropFirst()
        // The store's sessions look for a deadlock after 15 s of waiting, the other session after
        // 120 s: the store's transaction is the one PostgreSQL aborts.
        _ = try cluster.query("ALTER DATABASE \(database) SET deadlock_timeout = '15s'", databaseURL: url)
        let before = try #require(Int(try cluster.query(Self.deadlocks, databaseURL: url)))
        var logger = Logger(label: "mixlab.store.deadlock")
        logger.logLevel = .error
        try await withDeadline(.seconds(300)) { [logger] in
            // The completion waits 15 s for a lock: well inside this deadline for one statement.
            try await SQLStore.with(StoreURL(parsing: url), logger: logger, operationDeadline: .seconds(120)) { store in
                _ = try await store.migrate()
                _ = try await store.createSweep(StoreConformanceTests.sweep("held", runs: 1))
                let claimed = try #require(try await StoreConformanceTests.claim(store)).lease
                // The other session locks the sweep's row, and 10 s later (by then the store's
                // completion holds the run and waits for the sweep, even on a loaded machine) the
                // run's: a cycle.
                async let other = Self.inBackground {
                    try cluster.query(
                        """
                        SET deadlock_timeout = '120s'; BEGIN; SELECT id FROM sweeps WHERE id = 'held' FOR UPDATE; SELECT pg_sleep(10);
                        UPDATE runs SET updated_at = updated_at WHERE id = 'held/0'; COMMIT;
                        """, databaseURL: url)
                }
                let sleeping = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
                let slept = try await Self.waitUntil(within: .seconds(60)) { try cluster.query(sleeping, databaseURL: url) == "1" }
                try #require(slept, "the other session never reached its pg_sleep")
                let completed = try await store.completeRun(
                    RunCompletion(run: claimed.run, worker: StoreConformanceTests.worker, token: claimed.token, outcome: .succeeded))
                #expect(completed.state == .succeeded)
                _ = try await other
                #expect(try await store.sweep(SweepID("held"))?.state == .completed)
            }
        }
        let after = try await Self.deadlockCount(cluster, url)
        #expect(after == before + 1, "the store's completion was the transaction PostgreSQL aborted, and it ran again")
    }

    /// The database's deadlock count once the store's sessions are gone (a backend adds its
    /// deadlocks to pg_stat_database by the time it exits at the latest).
    static func deadlockCount(_ cluster: PostgresTestCluster, _ url: String) async throws -> Int {
        // The store's sessions: not autovacuum, nor the psql of an earlier check still exiting.
        let sessions = """
            FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
              AND application_name <> 'psql' AND pid <> pg_backend_pid()
            """
        let gone = try await waitUntil(within: .seconds(60)) { try cluster.query("SELECT count(*) \(sessions)", databaseURL: url) == "0" }
        if !gone {
            let left = try cluster.query("SELECT string_agg(pid || ' ' || coalesce(state, '') || ' ' || left(query, 80), '; ') \(sessions)", databaseURL: url)
            Issue.record("sessions still connected a minute after the store closed: \(left)")
        }
        return try #require(Int(try cluster.query(Self.deadlocks, databaseURL: url)))
    }

    /// Checks `condition` until it holds (true) or `limit` has passed (false).
    static func waitUntil(within limit: Duration, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try condition()
    }

    /// Runs blocking work (a psql that waits for locks) on a thread of its own, not the executor's.
    static func inBackground<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
        }
    }
}
