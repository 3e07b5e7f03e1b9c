import Foundation
import GRPCCore
import MixLabCore
import MixLabPKI
import MixLabRPC
import MixLabStore
import MixLabTransport

/// The `mixlab.v1.Admin` service: a thin adapter from RPCs to ``Coordinator`` and the store.
/// Every call needs a `client` (or `coordinator`) certificate; workers are refused.
struct AdminService: Mixlab_V1_Admin.SimpleServiceProtocol {
    let coordinator: Coordinator
    var store: any MixLabStore { coordinator.store }

    private func authorize(_ context: ServerContext, _ action: String) throws {
        _ = try context.requireRole(.client, .coordinator, for: action)
    }

    func submitSweep(request: Mixlab_V1_SubmitSweepRequest, context: ServerContext) async throws -> Mixlab_V1_SubmitSweepResponse {
        try authorize(context, "submitting a sweep")
        return try await mapErrors { try await coordinator.submit(specYAML: request.specYaml, clientKey: request.clientKey) }
    }

    func listSweeps(request: Mixlab_V1_ListSweepsRequest, context: ServerContext) async throws -> Mixlab_V1_ListSweepsResponse {
        try authorize(context, "listing sweeps")
        return try await mapErrors {
            var sweeps: [Mixlab_V1_SweepStatus] = []
            for sweep in try await store.sweeps() { sweeps.append(await coordinator.status(of: sweep, withWorkers: false)) }
            return .with { $0.sweeps = sweeps }
        }
    }

    func getSweep(request: Mixlab_V1_SweepRef, context: ServerContext) async throws -> Mixlab_V1_SweepStatus {
        try authorize(context, "reading a sweep")
        return try await mapErrors { try await coordinator.status(of: SweepID(request.sweepID)) }
    }

    func watchSweep(request: Mixlab_V1_SweepRef, response: RPCWriter<Mixlab_V1_SweepStatus>, context: ServerContext) async throws {
        try authorize(context, "watching a sweep")
        try await mapErrors {
            var last: Mixlab_V1_SweepStatus?
            var lastSent = ContinuousClock.now
            while !Task.isCancelled {
                let status = try await coordinator.status(of: SweepID(request.sweepID))
                var comparable = status
                comparable.workers = []
                var previous = last
                previous?.workers = []
                // Send on change, and at least every 2 s so heartbeat ages stay current.
                if previous != comparable || ContinuousClock.now - lastSent > .seconds(2) {
                    try await response.write(status)
                    last = status
                    lastSent = .now
                }
                // A completed sweep is followed until its fits are stored, so `sweep fits` and
                // `sweep mixture` answer as soon as the watch ends.
                if status.state == "cancelled" || (status.state == "completed" && !coordinator.isFitPending(SweepID(request.sweepID))) {
                    return
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }

    func pauseSweep(request: Mixlab_V1_SweepRef, context: ServerContext) async throws -> Mixlab_V1_SweepStatus {
        try authorize(context, "pausing a sweep")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            try await requireState(of: id, in: [.active], action: "pause")
            try await store.setSweepState(id, to: .paused)
            try await store.recordEvent(sweep: id, run: nil, kind: "sweep_paused", detail: "running runs finish; no new runs start")
            return try await coordinator.status(of: id)
        }
    }

    func resumeSweep(request: Mixlab_V1_SweepRef, context: ServerContext) async throws -> Mixlab_V1_SweepStatus {
        try authorize(context, "resuming a sweep")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            try await requireState(of: id, in: [.paused], action: "resume")
            try await store.setSweepState(id, to: .active)
            try await store.recordEvent(sweep: id, run: nil, kind: "sweep_resumed", detail: "")
            coordinator.wakeScheduler()
            return try await coordinator.status(of: id)
        }
    }

    func cancelSweep(request: Mixlab_V1_SweepRef, context: ServerContext) async throws -> Mixlab_V1_SweepStatus {
        try authorize(context, "cancelling a sweep")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            try await coordinator.cancel(sweep: id)
            return try await coordinator.status(of: id)
        }
    }

    func retryRuns(request: Mixlab_V1_RetryRunsRequest, context: ServerContext) async throws -> Mixlab_V1_RetryRunsResponse {
        try authorize(context, "retrying runs")
        return try await mapErrors {
            let count = try await store.retryRuns(in: SweepID(request.sweepID), includeCancelled: !request.failedOnly)
            try await store.recordEvent(sweep: SweepID(request.sweepID), run: nil, kind: "runs_retried", detail: "\(count) runs re-queued")
            coordinator.wakeScheduler()
            return .with { $0.requeued = Int32(count) }
        }
    }

    func addRuns(request: Mixlab_V1_AddRunsRequest, context: ServerContext) async throws -> Mixlab_V1_SweepStatus {
        try authorize(context, "adding runs")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            let updated = try await coordinator.addRuns(to: id, designYAML: request.designYaml)
            return await coordinator.status(of: updated, withWorkers: true)
        }
    }

    func listRuns(request: Mixlab_V1_ListRunsRequest, context: ServerContext) async throws -> Mixlab_V1_ListRunsResponse {
        try authorize(context, "listing runs")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            guard let sweep = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
            let finals = try await coordinator.finalLosses(in: id)
            let runs = try await store.runs(in: id).filter { request.state.isEmpty || $0.state.rawValue == request.state }
            let silence = await coordinator.registry.secondsSinceReport()
            return .with {
                $0.runs = runs.map { run in
                    Coordinator.summary(of: run, domains: sweep.domains, finalLosses: finals[run.id] ?? [:], secondsSinceReport: silence[run.id])
                }
            }
        }
    }

    func cancelRun(request: Mixlab_V1_RunRef, context: ServerContext) async throws -> Mixlab_V1_RunSummary {
        try authorize(context, "cancelling a run")
        return try await mapErrors {
            let id = RunID(request.runID)
            try await coordinator.cancel(run: id)
            guard let run = try await store.run(id), let sweep = try await store.sweep(run.sweep) else {
                throw StoreError(.unknownRun, "no run \(id); `mixlab runs ls SWEEP` lists a sweep's runs")
            }
            return Coordinator.summary(of: run, domains: sweep.domains, finalLosses: [:])
        }
    }

    func getRun(request: Mixlab_V1_RunRef, context: ServerContext) async throws -> Mixlab_V1_RunDetail {
        try authorize(context, "reading a run")
        return try await mapErrors {
            let id = RunID(request.runID)
            guard let run = try await store.run(id), let sweep = try await store.sweep(run.sweep) else {
                throw StoreError(.unknownRun, "no run \(id); `mixlab runs ls SWEEP` lists a sweep's runs")
            }
            let evals = try await store.evals(in: run.sweep).filter { $0.run == id }
            let finals = try await coordinator.finalLosses(in: run.sweep)
            let attempts = try await store.attempts(of: id)
            let silence = await coordinator.registry.secondsSinceReport()[id]
            return .with {
                $0.run = Coordinator.summary(of: run, domains: sweep.domains, finalLosses: finals[id] ?? [:], secondsSinceReport: silence)
                $0.budgetJson = run.budgetJSON
                $0.attempts = attempts.map { attempt in
                    .with {
                        $0.attempt = Int32(attempt.attempt)
                        $0.token = attempt.token
                        $0.workerID = attempt.worker.rawValue
                        $0.host = attempt.host
                        $0.startedAt = attempt.startedAt.timeIntervalSince1970
                        $0.endedAt = attempt.endedAt?.timeIntervalSince1970 ?? 0
                        $0.outcome = attempt.outcome ?? (attempt.endedAt == nil ? "live" : "")
                        $0.cause = attempt.cause?.rawValue ?? ""
                        if let code = attempt.exitCode { $0.exitCode = code }
                        if let signal = attempt.signal { $0.signal = signal }
                        $0.logTail = attempt.logTail ?? ""
                    }
                }
                $0.evals = evals.filter { $0.attempt == run.attempt }.map { eval in
                    .with { $0.step = eval.step; $0.tokens = eval.tokens; $0.domain = eval.domain; $0.loss = eval.loss }
                }
            }
        }
    }

    func runLogs(request: Mixlab_V1_RunLogsRequest, response: RPCWriter<Mixlab_V1_LogChunk>, context: ServerContext) async throws {
        try authorize(context, "reading run logs")
        try await mapErrors { try await coordinator.streamLogs(request, to: response) }
    }

    func listWorkers(request: Mixlab_V1_ListWorkersRequest, context: ServerContext) async throws -> Mixlab_V1_ListWorkersResponse {
        try authorize(context, "listing workers")
        return try await mapErrors { try await coordinator.workerStatuses() }
    }

    func unquarantineWorker(request: Mixlab_V1_WorkerRef, context: ServerContext) async throws -> Mixlab_V1_WorkerStatus {
        try authorize(context, "lifting a quarantine")
        return try await mapErrors {
            let id = WorkerID(request.workerID)
            _ = try await store.setWorkerQuarantined(id, false)
            await coordinator.registry.setQuarantined(id, false)
            try await store.recordEvent(sweep: nil, run: nil, kind: "worker_unquarantined", detail: id.rawValue)
            coordinator.wakeScheduler()
            return try await coordinator.workerStatuses().workers.first { $0.workerID == id.rawValue } ?? .with { $0.workerID = id.rawValue }
        }
    }

    func getFits(request: Mixlab_V1_SweepRef, context: ServerContext) async throws -> Mixlab_V1_FitsResponse {
        try authorize(context, "reading fits")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            guard try await store.sweep(id) != nil else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
            let reports = try await store.fits(in: id).map(\.reportJSON)
            if reports.isEmpty, coordinator.isFitPending(id) {
                throw RPCError(code: .unavailable, message: "sweep \(id) is being fitted; ask again in a few seconds")
            }
            return .with { $0.fitReportsJson = reports }
        }
    }

    func getMixture(request: Mixlab_V1_MixtureRequestByLaw, context: ServerContext) async throws -> Mixlab_V1_MixtureResponse {
        try authorize(context, "reading the recommended mixture")
        return try await mapErrors {
            let id = SweepID(request.sweepID)
            guard let sweep = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
            let recommendations = try await store.recommendations(in: id)
            // The newest recommendation of the requested law (default: the sweep's first law).
            let law = request.law.isEmpty ? recommendations.first?.law : request.law
            guard let chosen = recommendations.last(where: { $0.law == law }) else {
                if coordinator.isFitPending(id) {
                    throw RPCError(code: .unavailable, message: "sweep \(id) is being fitted; ask again in a few seconds")
                }
                throw RPCError(
                    code: .failedPrecondition,
                    message: sweep.state == .completed
                        ? "sweep \(id) has no recommendation\(request.law.isEmpty ? "" : " for law \(request.law)"); the coordinator's log says why the fit failed"
                        : "sweep \(id) is \(sweep.state.rawValue); the mixture is fitted when every run has finished")
            }
            return .with {
                $0.law = chosen.law
                $0.mixture = Dictionary(uniqueKeysWithValues: zip(sweep.domains, chosen.shares))
                $0.predictedLoss = chosen.predictedLoss
                $0.reportJson = chosen.reportJSON
            }
        }
    }

    func export(request: Mixlab_V1_SweepRef, context: ServerContext) async throws -> Mixlab_V1_ExportResponse {
        try authorize(context, "exporting a sweep")
        return try await mapErrors {
            let export = try await SweepExport.make(sweep: SweepID(request.sweepID), from: store)
            return .with {
                $0.ratiosCsv = export.ratios.rendered()
                $0.metricsCsv = export.metrics.rendered()
                $0.evalsCsv = export.evals.rendered()
                $0.specJson = export.specJSON
            }
        }
    }

    func compareMethods(request: Mixlab_V1_CompareMethodsRequest, context: ServerContext) async throws -> Mixlab_V1_CompareMethodsResponse {
        try authorize(context, "comparing a sweep's methods")
        return try await mapErrors {
            let comparison = try await coordinator.compareMethods(in: SweepID(request.sweepID), domains: request.domains)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let json = String(decoding: try encoder.encode(comparison), as: UTF8.self)
            return .with { $0.comparisonJson = json }
        }
    }

    private func requireState(of id: SweepID, in states: [SweepState], action: String) async throws {
        guard let sweep = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
        guard states.contains(sweep.state) else {
            throw RPCError(code: .failedPrecondition, message: "cannot \(action) sweep \(id): it is \(sweep.state.rawValue)")
        }
    }
}

/// Maps store and input errors to gRPC statuses with their message intact.
func mapErrors<T: Sendable>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as RPCError {
        throw error
    } catch let error as StoreError {
        switch error.code {
        case .unknownSweep, .unknownRun, .unknownWorker: throw RPCError(code: .notFound, message: error.message)
        case .invalidSweep, .invalidEval: throw RPCError(code: .invalidArgument, message: error.message)
        case .staleLease, .sweepState: throw RPCError(code: .failedPrecondition, message: error.message)
        default: throw RPCError(code: .unavailable, message: error.message)
        }
    } catch let error as MixLabInputError {
        throw RPCError(code: .invalidArgument, message: error.description)
    }
}
