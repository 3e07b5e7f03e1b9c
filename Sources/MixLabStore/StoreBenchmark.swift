import Foundation
import MixLabCore

/// Measures the store's two hot paths on a live database: eval ingest (rows/s through
/// ``MixLabStore/reportEvals(_:)`` in batches) and concurrent claims (claims/s with many claimers).
public enum StoreBenchmark {
    /// One measured figure.
    public struct Figure: Sendable {
        public var name: String
        public var count: Int
        public var seconds: Double
        /// The run the ingest benchmark wrote to (so a baseline can load the same rows beside it).
        public var run: RunID?
        public var perSecond: Double { Double(count) / seconds }
    }

    /// The eval rows the ingest benchmark writes, in order: `rows` points over two domains.
    public static func points(rows: Int) -> [EvalPoint] {
        (0..<rows).map { (i: Int) -> EvalPoint in
            let step = Int64(i / 2)
            let domain = i % 2 == 0 ? "web" : "code"
            let loss = 3.0 - Double(i) * 1e-6
            return EvalPoint(step: step, tokens: step * 4096, domain: domain, loss: loss)
        }
    }

    /// Ingests `rows` eval points into a fresh one-run sweep in batches of `batch`.
    public static func ingest(_ store: any MixLabStore, rows: Int, batch: Int) async throws -> Figure {
        let id = SweepID("bench-ingest-\(UUID().uuidString.prefix(8))")
        _ = try await store.createSweep(NewSweep(id: id, name: "bench", specJSON: "{}", specHash: "-", domains: ["web", "code"], runs: [NewRun(index: 0, shares: [0.5, 0.5])]))
        guard let claimed = try await store.claimRun(ClaimRequest(worker: WorkerID("bench"), host: "bench", freeGPUs: 0, freeCPUs: 1, leaseDuration: .seconds(3600))) else {
            throw StoreError(.unknownRun, "the benchmark sweep has no claimable run (is another sweep of higher priority queued?)")
        }
        let all = points(rows: rows)
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            for start in stride(from: 0, to: all.count, by: batch) {
                let slice = Array(all[start..<min(start + batch, all.count)])
                _ = try await store.reportEvals(EvalReport(run: claimed.run.id, worker: WorkerID("bench"), token: claimed.lease.token, points: slice))
            }
        }
        return Figure(name: "ingest (batches of \(batch))", count: rows, seconds: seconds(elapsed), run: claimed.run.id)
    }

    /// `claimers` concurrent claimers drain a sweep of `runs` runs.
    public static func claims(_ store: any MixLabStore, runs: Int, claimers: Int) async throws -> Figure {
        let id = SweepID("bench-claims-\(UUID().uuidString.prefix(8))")
        _ = try await store.createSweep(NewSweep(
            id: id, name: "bench", specJSON: "{}", specHash: "-", domains: ["web", "code"], priority: 1_000_000,
            runs: (0..<runs).map { NewRun(index: $0, shares: [0.5, 0.5]) }))
        let clock = ContinuousClock()
        var total = 0
        let elapsed = try await clock.measure {
            total = try await withThrowingTaskGroup(of: Int.self) { group in
                for claimer in 0..<claimers {
                    group.addTask {
                        var count = 0
                        let request = ClaimRequest(worker: WorkerID("bench-\(claimer)"), host: "bench", freeGPUs: 0, freeCPUs: 1, leaseDuration: .seconds(3600))
                        while let claimed = try await store.claimRun(request) {
                            guard claimed.run.sweep == id else { break }
                            count += 1
                        }
                        return count
                    }
                }
                return try await group.reduce(0, +)
            }
        }
        return Figure(name: "claims (\(claimers) claimers)", count: total, seconds: seconds(elapsed))
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }
}
