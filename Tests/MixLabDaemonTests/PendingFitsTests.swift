import Foundation
import Logging
import MixLabCore
import MixLabPKI
import MixLabStore
import MixLabTestSupport
import Testing

@testable import MixLabCoordinator

/// `sweep watch` ends, and `sweep mixture`/`fits` stop saying "being fitted", only once a completed
/// sweep's fit is stored: the coordinator counts the sweep as pending from before the store call
/// that completes it until its fit has run. Here the fit queue is not consumed (no FitService), so
/// the pending state can be observed between the completion and the fit.
@Suite struct PendingFitsTests {
    @Test func aSweepIsPendingAFitFromTheCompletionThatEndsItUntilTheFitHasRun() async throws {
        let cluster = try LoopbackCluster(workerNames: [])
        let tls = try await TLSMaterials.load(
            TLSFiles(caPath: cluster.certs + "/ca.pem", certificatePath: cluster.certs + "/coordinator.pem", keyPath: cluster.certs + "/coordinator.key"),
            expectedRole: .coordinator)
        var logger = Logger(label: "mixlab.test.pending-fits")
        logger.logLevel = .error
        try await SQLStore.with(StoreURL(parsing: cluster.databaseURL), logger: logger) { [logger] store in
            _ = try await store.migrate()
            let coordinator = Coordinator(
                store: store, configuration: CoordinatorConfiguration(host: "127.0.0.1", port: 0, databaseURL: cluster.databaseURL, tls: tls),
                logger: logger)
            let sweep = SweepID("pending")
            _ = try await store.createSweep(
                NewSweep(
                    id: sweep, name: "pending", clientKey: nil, specJSON: "{}", specHash: "h", domains: ["a", "b"], priority: 0,
                    maxAttempts: 1, maxConcurrentRuns: nil, runs: [NewRun(index: 0, shares: [0.5, 0.5]), NewRun(index: 1, shares: [0.2, 0.8])]))
            var leases: [Lease] = []
            for _ in 0..<2 {
                let claimed = try await store.claimRun(
                    ClaimRequest(worker: WorkerID("w"), host: "h", freeGPUs: 0, freeCPUs: 4, leaseDuration: .seconds(30)))
                leases.append(try #require(claimed).lease)
            }
            #expect(!coordinator.isFitPending(sweep))
            try await coordinator.completeRun(RunCompletion(run: leases[0].run, worker: WorkerID("w"), token: leases[0].token, outcome: .succeeded))
            #expect(!coordinator.isFitPending(sweep), "one run is still going: nothing to fit yet")
            try await coordinator.completeRun(RunCompletion(run: leases[1].run, worker: WorkerID("w"), token: leases[1].token, outcome: .succeeded))
            #expect(try await store.sweep(sweep)?.state == .completed)
            #expect(coordinator.isFitPending(sweep), "the last completion queued the fit")
            await coordinator.fit(sweep)
            #expect(!coordinator.isFitPending(sweep), "the fit has run")
        }
    }
}
