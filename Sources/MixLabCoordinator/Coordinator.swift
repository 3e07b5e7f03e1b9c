import Foundation
import GRPCCore
import Logging
import MixLabCore
import MixLabRPC
public import MixLabStore
import Synchronization

/// The coordinator's logic, independent of gRPC plumbing: worker sessions, scheduling, lease
/// expiry, retry policy, quarantine and the admin operations. The gRPC services are thin adapters
/// over it, and every decision that matters is written to the store before it is acknowledged.
public final class Coordinator: Sendable {
    let store: any MixLabStore
    let configuration: CoordinatorConfiguration
    let logger: Logger
    let registry = WorkerRegistry()
    let logs = LogRelay()
    private let runtimes = Mutex<[SweepID: SweepRuntime]>([:])
    private let wakeups: AsyncStream<Void>.Continuation
    let wakeupStream: AsyncStream<Void>
    let fitter: SweepFitter
    private let fitRequests: AsyncStream<SweepID>.Continuation
    let fitRequestStream: AsyncStream<SweepID>
    /// Sweeps whose fits are queued, running or may be about to be queued.
    let pendingFits = Mutex(PendingFits())

    public init(store: any MixLabStore, configuration: CoordinatorConfiguration, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        (wakeupStream, wakeups) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        fitter = SweepFitter(store: store, logger: logger)
        (fitRequestStream, fitRequests) = AsyncStream.makeStream(of: SweepID.self)
    }

    /// Queues a completed sweep for fitting (done by ``FitService``, off the worker sessions' path).
    func requestFit(_ sweep: SweepID) {
        guard configuration.fitOnCompletion else { return }
        pendingFits.withLock { $0.hold(sweep) }
        fitRequests.yield(sweep)
    }

    /// Fits one queued sweep.
    func fit(_ sweep: SweepID) async {
        await fitter.fitCompletedSweep(sweep, runtime: try? await runtime(of: sweep))
        pendingFits.withLock { $0.release(sweep) }
    }

    /// Ends an attempt in the store and, when that completed the sweep, queues its fit. The sweep
    /// counts as pending a fit from before the store call until the fit is queued.
    @discardableResult
    func completeRun(_ completion: RunCompletion) async throws -> RunRecord {
        let sweep = completion.run.sweep
        pendingFits.withLock { $0.hold(sweep) }
        defer { pendingFits.withLock { $0.release(sweep) } }
        let record = try await store.completeRun(completion)
        if record.state.isTerminal, try await store.sweep(record.sweep)?.state == .completed {
            requestFit(record.sweep)
        }
        return record
    }

    /// Whether the sweep's fits may still change: `sweep watch` waits, `mixture` says so.
    func isFitPending(_ sweep: SweepID) -> Bool { pendingFits.withLock { $0.isPending(sweep) } }

    /// Asks the scheduler to look for work now.
    func wakeScheduler() { wakeups.yield() }

    func runtime(of sweep: SweepID) async throws -> SweepRuntime {
        if let cached = runtimes.withLock({ $0[sweep] }) { return cached }
        guard let record = try await store.sweep(sweep) else { throw StoreError(.unknownSweep, "no sweep \(sweep)") }
        let runtime = try SweepRuntime(specJSON: record.specJSON, record: record)
        runtimes.withLock { $0[sweep] = runtime }
        return runtime
    }

    // MARK: Worker sessions

    /// Serves one worker's session until its stream ends. The first message must be `register`.
    func serveWorker(
        worker: WorkerID, inbound: RPCAsyncSequence<Mixlab_V1_WorkerMessage, any Error>,
        writer: RPCWriter<Mixlab_V1_CoordinatorMessage>
    ) async throws {
        var messages = inbound.makeAsyncIterator()
        guard let first = try await messages.next(), case .register(let registration)? = first.kind else {
            throw RPCError(code: .failedPrecondition, message: "a worker session must start with a register message")
        }
        guard registration.cpuSlots > 0 || !registration.gpuIds.isEmpty else {
            throw RPCError(code: .invalidArgument, message: "register: the worker offers no slots; start it with --cpu-slots N or --gpus IDS")
        }
        try await store.registerWorker(
            WorkerRegistration(
                id: worker, host: registration.host, cpuSlots: Int(registration.cpuSlots),
                gpuIDs: registration.gpuIds.map(Int.init), version: registration.version))
        let quarantined = try await store.worker(worker)?.quarantined ?? false

        // Reconcile what the worker says it still runs with the leases the store gives it.
        let leases = Dictionary(uniqueKeysWithValues: try await store.leases(of: worker).map { ($0.run, $0) })
        var reattached: [WorkerRegistry.HeldRun] = []
        var abandoned: [String] = []
        for held in registration.heldRuns {
            let run = RunID(held.runID)
            guard let lease = leases[run], lease.token == held.token,
                case .renewed = try await store.renewLease(run: run, worker: worker, token: held.token, duration: configuration.leaseDuration),
                let record = try await store.run(run)
            else {
                abandoned.append(held.runID)
                continue
            }
            reattached.append(.init(run: run, token: lease.token, cpus: record.cpus, gpus: record.gpus))
        }
        // Leases the worker no longer knows about (it restarted): the attempt is lost; retry now
        // rather than waiting for the lease to expire.
        let declared = Set(registration.heldRuns.map(\.runID))
        for lease in leases.values where !declared.contains(lease.run.rawValue) {
            _ = try? await completeRun(
                RunCompletion(
                    run: lease.run, worker: worker, token: lease.token,
                    outcome: .failed(cause: .lost, exitCode: nil, signal: nil),
                    logTail: "the worker restarted and no longer runs this attempt"))
        }

        let (outbound, continuation) = AsyncStream.makeStream(of: Mixlab_V1_CoordinatorMessage.self)
        let session = await registry.connect(
            worker: worker, host: registration.host, cpuSlots: Int(registration.cpuSlots),
            gpuCount: registration.gpuIds.count, quarantined: quarantined, held: reattached, outbound: continuation)
        continuation.yield(
            .with {
                $0.registered = .with {
                    $0.workerID = worker.rawValue
                    $0.leaseSeconds = Self.seconds(configuration.leaseDuration)
                    $0.heartbeatSeconds = Self.seconds(configuration.heartbeatInterval)
                    $0.reattachedRunIds = reattached.map(\.run.rawValue)
                    $0.abandonedRunIds = abandoned
                }
            })
        logger.info(
            "worker connected",
            metadata: [
                "mixlab.worker": "\(worker)", "mixlab.host": "\(registration.host)", "mixlab.reattached": "\(reattached.count)",
                "mixlab.abandoned": "\(abandoned.count)",
            ])
        wakeScheduler()

        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in outbound { try await writer.write(message) }
            }
            defer { continuation.finish() }
            do {
                while let message = try await messages.next() {
                    try await handle(message, from: worker)
                }
            } catch {
                logger.info("worker session ended", metadata: ["mixlab.worker": "\(worker)", "mixlab.error": "\(error)"])
            }
            await registry.disconnect(worker: worker, session: session)
            continuation.finish()
            group.cancelAll()
        }
    }

    private func handle(_ message: Mixlab_V1_WorkerMessage, from worker: WorkerID) async throws {
        switch message.kind {
        case .heartbeat(let heartbeat):
            try await store.touchWorker(worker)
            await registry.heartbeat(
                worker: worker, draining: heartbeat.draining,
                silence: Dictionary(heartbeat.heldRuns.map { (RunID($0.runID), $0.secondsSinceReport) }) { $1 })
            var lost: [String] = []
            for held in heartbeat.heldRuns {
                let renewal = try await store.renewLease(
                    run: RunID(held.runID), worker: worker, token: held.token, duration: configuration.leaseDuration)
                if case .lost = renewal {
                    lost.append(held.runID)
                    await registry.release(run: RunID(held.runID), from: worker)
                }
            }
            if !lost.isEmpty {
                await registry.send(.with { $0.heartbeatReply = .with { $0.lostRunIds = lost } }, to: worker)
            }
            wakeScheduler()
        case .runStarted(let started):
            try await acknowledge(started.seq, to: worker) {
                try await store.markRunning(run: RunID(started.runID), worker: worker, token: started.token)
            }
        case .evals(let batch):
            let report = EvalReport(
                run: RunID(batch.runID), worker: worker, token: batch.token,
                points: batch.points.map { EvalPoint(step: $0.step, tokens: $0.tokens, domain: $0.domain, loss: $0.loss) })
            try await acknowledge(batch.seq, to: worker) { _ = try await store.reportEvals(report) }
        case .finished(let finished):
            try await finish(finished, from: worker)
        case .mixtureRequest(let request):
            let reply = await answerNext(request, from: worker)
            await registry.send(.with { $0.mixtureReply = reply }, to: worker)
        case .logChunk(let chunk):
            await logs.deliver(chunk)
        case .register:
            throw RPCError(code: .failedPrecondition, message: "register may only be the first message of a session")
        case nil:
            break
        }
    }

    /// Runs a store write and acknowledges the report with its outcome. Refusals are acknowledged
    /// (the worker drops the report); other failures end the session so the worker reconnects and
    /// replays its outbox.
    private func acknowledge(_ seq: UInt64, to worker: WorkerID, _ write: () async throws -> Void) async throws {
        var ack = Mixlab_V1_Ack.with { $0.seq = seq; $0.status = .ok }
        do {
            try await write()
        } catch let error as StoreError where error.code == .staleLease {
            ack.status = .stale
            ack.message = error.message
        } catch let error as StoreError where error.code == .invalidEval || error.code == .unknownRun {
            ack.status = .rejected
            ack.message = error.message
            logger.warning("report rejected", metadata: ["mixlab.worker": "\(worker)", "mixlab.error": "\(error.message)"])
        } catch {
            logger.error("report not stored; the worker will replay it", metadata: ["mixlab.worker": "\(worker)", "mixlab.error": "\(error)"])
            throw RPCError(code: .unavailable, message: "the store could not record a report; reconnect and replay")
        }
        await registry.send(.with { $0.ack = ack }, to: worker)
    }

    private func finish(_ finished: Mixlab_V1_RunFinished, from worker: WorkerID) async throws {
        let run = RunID(finished.runID)
        var succeeded = false
        try await acknowledge(finished.seq, to: worker) {
            let outcome: RunCompletion.Outcome
            var retryable = true
            var preemptionAllowance = 0
            if finished.outcome == .succeeded {
                outcome = .succeeded
                succeeded = true
            } else {
                let cause = FailureCause(rawValue: finished.cause) ?? .exitCode
                let exitCode = finished.hasExitCode ? finished.exitCode : nil
                outcome = .failed(cause: cause, exitCode: exitCode, signal: finished.hasSignal ? finished.signal : nil)
                if let record = try await store.run(run) {
                    let runtime = try await runtime(of: record.sweep)
                    retryable = runtime.allowsRetry(cause: cause, exitCode: exitCode, logTail: finished.logTail)
                    preemptionAllowance = runtime.maxPreemptions
                }
            }
            let tail = finished.message.isEmpty ? finished.logTail : finished.message + "\n" + finished.logTail
            let record = try await completeRun(
                RunCompletion(
                    run: run, worker: worker, token: finished.token, outcome: outcome, logTail: tail, retryable: retryable,
                    preemptionAllowance: preemptionAllowance))
            // Neither a cancellation nor a hand-back says anything about the worker's health.
            if !succeeded, [.cancelled, .preempted].contains(FailureCause(rawValue: finished.cause)) { return }
            if let updated = try await store.recordWorkerResult(worker, succeeded: succeeded, quarantineAfter: configuration.quarantineAfter),
                updated.quarantined, !succeeded
            {
                await registry.setQuarantined(worker, true)
                try await store.recordEvent(
                    sweep: record.sweep, run: run, kind: "worker_quarantined",
                    detail: "\(worker) failed \(updated.consecutiveFailures) attempts in a row; `mixlab workers unquarantine \(worker)` lifts it")
                logger.warning("worker quarantined", metadata: ["mixlab.worker": "\(worker)"])
            }
        }
        await registry.release(run: run, from: worker)
        wakeScheduler()
    }

    // MARK: Scheduling

    /// One pass: round-robin over workers with free slots, one claim each per round, until no
    /// worker gets a run. The lease (with its fencing token) is durable before the assignment is sent.
    func schedulePass() async {
        while true {
            var assigned = false
            for candidate in await registry.candidates() {
                guard let capacity = await registry.capacity(of: candidate.worker), capacity.freeCPUs > 0 || capacity.freeGPUs > 0 else { continue }
                do {
                    guard
                        let (run, lease) = try await store.claimRun(
                            ClaimRequest(
                                worker: candidate.worker, host: candidate.host, freeGPUs: capacity.freeGPUs,
                                freeCPUs: capacity.freeCPUs, leaseDuration: configuration.leaseDuration))
                    else { continue }
                    assigned = true
                    try await send(run: run, lease: lease, to: candidate.worker)
                } catch {
                    logger.error("scheduling failed", metadata: ["mixlab.worker": "\(candidate.worker)", "mixlab.error": "\(error)"])
                }
            }
            if !assigned { return }
        }
    }

    private func send(run: RunRecord, lease: Lease, to worker: WorkerID) async throws {
        let assignment: Mixlab_V1_CoordinatorMessage
        do {
            let runtime = try await runtime(of: run.sweep)
            assignment = .with {
                $0.assignment = .with {
                    $0.runID = run.id.rawValue
                    $0.sweepID = run.sweep.rawValue
                    $0.attempt = Int32(lease.attempt)
                    $0.token = lease.token
                    $0.mixture = Dictionary(uniqueKeysWithValues: zip(runtime.domains, run.shares))
                    $0.domains = runtime.domainPaths
                    $0.evalDomains = runtime.evalDomains
                    $0.budgetJson = run.budgetJSON
                    $0.command = runtime.command(budgetJSON: run.budgetJSON)
                    $0.env = runtime.environment
                    $0.gpus = Int32(run.gpus)
                    $0.cpus = Int32(run.cpus)
                    $0.timeLimitSeconds = runtime.timeLimitSeconds
                    $0.noReportTimeoutSeconds = runtime.noReportTimeoutSeconds
                    $0.killGraceSeconds = runtime.killGraceSeconds
                    $0.seed = Self.seed(ofBudget: run.budgetJSON) ?? runtime.seed &+ Int64(run.index)
                }
            }
        } catch {
            try await completeRun(
                RunCompletion(
                    run: run.id, worker: worker, token: lease.token, outcome: .failed(cause: .protocolError, exitCode: nil, signal: nil),
                    logTail: "the coordinator could not build the assignment: \(error)", retryable: false))
            return
        }
        let held = WorkerRegistry.HeldRun(run: run.id, token: lease.token, cpus: run.cpus, gpus: run.gpus)
        if await !registry.assign(assignment, run: held, to: worker) {
            // The worker went away between claim and send: give the attempt back now.
            try await completeRun(
                RunCompletion(
                    run: run.id, worker: worker, token: lease.token, outcome: .failed(cause: .lost, exitCode: nil, signal: nil),
                    logTail: "the worker disconnected before the assignment was sent"))
        }
    }

    /// Puts runs whose lease expired back in the queue (or fails them) and tells their workers,
    /// if still connected, to stop them.
    func expireLeases() async {
        pendingFits.withLock { $0.beginExpiryPass() }
        defer { pendingFits.withLock { $0.endExpiryPass() } }
        do {
            let expired = try await store.expireLeases()
            for lease in expired {
                logger.warning(
                    "lease expired", metadata: ["mixlab.run": "\(lease.run)", "mixlab.worker": "\(lease.worker)", "mixlab.state": "\(lease.newState)"])
                await registry.release(run: lease.run, from: lease.worker)
                await registry.send(
                    .with { $0.cancel = .with { $0.runID = lease.run.rawValue; $0.reason = "lease expired" } }, to: lease.worker)
                if lease.newState == .failed, let run = try await store.run(lease.run),
                    try await store.sweep(run.sweep)?.state == .completed
                {
                    requestFit(run.sweep)
                }
            }
            if !expired.isEmpty { wakeScheduler() }
        } catch {
            logger.error("lease expiry failed", metadata: ["mixlab.error": "\(error)"])
        }
    }

    /// The run's seed as the sweep plan put it in the budget.
    static func seed(ofBudget json: String) -> Int64? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return nil }
        return (object["seed"] as? NSNumber)?.int64Value
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }
}
