import Foundation
import GRPCCore
import MixLabCore
import MixLabRPC
import MixLabStore

extension Coordinator {
    func status(of id: SweepID) async throws -> Mixlab_V1_SweepStatus {
        guard let sweep = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
        return await status(of: sweep, withWorkers: true)
    }

    func status(of sweep: SweepRecord, withWorkers: Bool) async -> Mixlab_V1_SweepStatus {
        let snapshot = withWorkers ? await registry.snapshot() : []
        let prefix = sweep.id.rawValue + "/"
        return .with {
            $0.sweepID = sweep.id.rawValue
            $0.name = sweep.name
            $0.state = sweep.state.rawValue
            $0.priority = Int32(sweep.priority)
            $0.counts = RunState.allCases.map { state in .with { $0.state = state.rawValue; $0.count = Int32(sweep.runCounts[state] ?? 0) } }
            $0.totalRuns = Int32(sweep.runCounts.values.reduce(0, +))
            $0.createdAt = sweep.createdAt.timeIntervalSince1970
            $0.updatedAt = sweep.updatedAt.timeIntervalSince1970
            $0.domains = sweep.domains
            $0.workers = snapshot.map { worker in
                .with {
                    $0.workerID = worker.worker.rawValue
                    $0.secondsSinceHeartbeat = worker.secondsSinceHeartbeat
                    $0.running = Int32(worker.running.filter { $0.rawValue.hasPrefix(prefix) }.count)
                }
            }
        }
    }

    /// Cancels the sweep durably, then tells the workers holding its runs to stop them.
    func cancel(sweep id: SweepID) async throws {
        let leases = try await store.cancelSweep(id)
        try await store.recordEvent(sweep: id, run: nil, kind: "sweep_cancelled", detail: "\(leases.count) running attempts stopped")
        for lease in leases {
            await registry.revoke(run: lease.run, token: lease.token, from: lease.worker, reason: "sweep \(id) cancelled")
        }
        wakeScheduler()
    }

    /// Cancels one run: its worker stops the attempt if one runs; the sweep is fitted if that was
    /// its last unfinished run.
    func cancel(run id: RunID) async throws {
        let sweep = id.sweep
        pendingFits.withLock { $0.hold(sweep) }
        defer { pendingFits.withLock { $0.release(sweep) } }
        let (cancelled, lease) = try await store.cancelRun(id)
        guard cancelled else { return }
        try await store.recordEvent(
            sweep: sweep, run: id, kind: "run_cancelled", detail: lease.map { "the running attempt on \($0.worker) was stopped" } ?? "it was queued")
        if let lease {
            await registry.revoke(run: lease.run, token: lease.token, from: lease.worker, reason: "run \(id) cancelled")
        }
        if try await store.sweep(sweep)?.state == .completed { requestFit(sweep) }
        wakeScheduler()
    }

    /// The last reported loss per domain of each run's current attempt.
    func finalLosses(in sweep: SweepID) async throws -> [RunID: [String: Double]] {
        SweepExport.finalLosses(runs: try await store.runs(in: sweep), evals: try await store.evals(in: sweep))
    }

    static func summary(of run: RunRecord, domains: [String], finalLosses: [String: Double], secondsSinceReport: Double? = nil)
        -> Mixlab_V1_RunSummary
    {
        .with {
            if run.state == .running, let secondsSinceReport { $0.secondsSinceReport = secondsSinceReport }
            $0.runID = run.id.rawValue
            $0.index = Int32(run.index)
            $0.state = run.state.rawValue
            $0.attempt = Int32(run.attempt)
            $0.workerID = run.lease?.worker.rawValue ?? ""
            $0.mixture = Dictionary(uniqueKeysWithValues: zip(domains, run.shares))
            $0.lastFailure = run.lastFailure?.rawValue ?? ""
            $0.finalLosses = finalLosses
        }
    }

    func workerStatuses() async throws -> Mixlab_V1_ListWorkersResponse {
        let live = Dictionary(uniqueKeysWithValues: await registry.snapshot().map { ($0.worker, $0) })
        let now = Date()
        let workers = try await store.workers().map { record in
            let session = live[record.id]
            return .with {
                $0.workerID = record.id.rawValue
                $0.host = record.host
                $0.cpuSlots = Int32(record.cpuSlots)
                $0.gpus = Int32(record.gpuIDs.count)
                $0.connected = session != nil
                $0.quarantined = record.quarantined
                $0.consecutiveFailures = Int32(record.consecutiveFailures)
                $0.secondsSinceHeartbeat = session?.secondsSinceHeartbeat ?? now.timeIntervalSince(record.lastSeen)
                $0.runningRunIds = session?.running.map(\.rawValue) ?? []
                $0.draining = session?.draining ?? false
            } as Mixlab_V1_WorkerStatus
        }
        return .with { $0.workers = workers }
    }

    /// Relays a log request to the worker that ran the attempt and streams its chunks back.
    func streamLogs(_ request: Mixlab_V1_RunLogsRequest, to response: RPCWriter<Mixlab_V1_LogChunk>) async throws {
        let id = RunID(request.runID)
        guard let run = try await store.run(id) else { throw StoreError(.unknownRun, "no run \(id); `mixlab runs ls SWEEP` lists a sweep's runs") }
        let attempts = try await store.attempts(of: id)
        let wanted = request.attempt > 0 ? Int(request.attempt) : run.attempt
        guard let attempt = attempts.last(where: { $0.attempt == wanted }) else {
            throw RPCError(code: .notFound, message: "run \(id) has no attempt \(wanted) yet (it is \(run.state.rawValue))")
        }
        guard await registry.isConnected(attempt.worker) else {
            // The worker is gone: the stored tail is all there is.
            try await response.write(.with { $0.data = Data((attempt.logTail ?? "").utf8); $0.eof = true })
            if request.follow || attempt.logTail == nil {
                try await response.write(.with {
                    $0.error = "worker \(attempt.worker) is not connected; showing the stored log tail only"
                    $0.eof = true
                })
            }
            return
        }
        let (requestID, chunks) = await logs.open()
        await registry.send(
            .with {
                $0.logRequest = .with {
                    $0.requestID = requestID
                    $0.runID = id.rawValue
                    $0.attempt = Int32(attempt.attempt)
                    $0.offset = request.tailBytes > 0 ? -request.tailBytes : 0
                    $0.follow = request.follow
                }
            }, to: attempt.worker)
        var failure: (any Error)?
        do {
            for await chunk in chunks {
                try await response.write(chunk)
                if chunk.eof || !chunk.error.isEmpty { break }
            }
        } catch {
            failure = error
        }
        await logs.close(requestID)
        if request.follow {
            await registry.send(.with { $0.logRequest = .with { $0.requestID = requestID; $0.cancel = true } }, to: attempt.worker)
        }
        if let failure { throw failure }
    }
}
