import Foundation
import MixLabAnalysis
import MixLabCore
import MixLabStore
import Testing

/// `mixlab export`'s tables load back through the reader `mixlab fit` uses and match the store.
@Suite struct SweepExportTests {
    @Test(arguments: StoreBackend.allCases)
    func exportRoundTripsThroughTheFitReader(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(StoreConformanceTests.sweep("x", runs: 4))
            var expected: [String: Double] = [:]
            for i in 0..<4 {
                let claimed = try #require(try await StoreConformanceTests.claim(store))
                let final = 3.0 - Double(i) * 0.25
                let points = StoreConformanceTests.points(1...4, loss: 9) + ["web", "code"].map { EvalPoint(step: 5, tokens: 5000, domain: $0, loss: final) }
                _ = try await store.reportEvals(EvalReport(run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token, points: points))
                if i == 3 { continue }  // left running: not exported to ratios/metrics
                _ = try await store.completeRun(RunCompletion(run: claimed.run.id, worker: StoreConformanceTests.worker, token: claimed.lease.token, outcome: .succeeded))
                expected[claimed.run.id.rawValue] = final
            }
            let export = try await SweepExport.make(sweep: SweepID("x"), from: store)
            #expect(export.skippedRuns == [RunID("x/3")])
            #expect(export.evals.rows.count == 4 * 10)
            let ratios = try CSVTable(parsing: export.ratios.rendered(), source: "ratios.csv")
            let metrics = try CSVTable(parsing: export.metrics.rendered(), source: "metrics.csv")
            let loaded = try RunTableReader.mixtureRuns(ratios: ratios, metrics: metrics, targets: [TargetSelection(column: "eval_web")])
            #expect(loaded.runs.domains == ["web", "code"])
            #expect(Dictionary(uniqueKeysWithValues: zip(loaded.runIDs, loaded.runs.targetLosses.map { $0[0] })) == expected)
            let stored = try await store.runs(in: SweepID("x"))
            for (id, shares) in zip(loaded.runIDs, loaded.runs.mixtures) {
                #expect(stored.first { $0.id.rawValue == id }?.shares == shares)
            }
        }
    }
}
