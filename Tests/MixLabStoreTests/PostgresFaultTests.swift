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
