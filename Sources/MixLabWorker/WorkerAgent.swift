import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import MixLabCore
import MixLabRPC
import MixLabRunner
import MixLabTransport
public import ServiceLifecycle

/// The worker daemon: keeps one session to the coordinator (reconnecting with exponential backoff
/// and jitter), runs each assignment as a supervised subprocess, reports through the on-disk
/// outbox, and drains on SIGTERM per ``WorkerConfiguration/DrainPolicy``.
///
/// Attempts belong to the agent, not to a session: a coordinator restart or a network cut leaves
/// them running, and the next session declares them so the coordinator can reattach them.
public final class WorkerAgent: Service {
    let configuration: WorkerConfiguration
    let logger: Logger
    let state: WorkerState
    private let jobs: AsyncStream<@Sendable () async -> Void>.Continuation
    private let jobStream: AsyncStream<@Sendable () async -> Void>
    let orphans: OrphanRegister

    public init(configuration: WorkerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        let outbox = try Outbox(directory: configuration.workDirectory + "/outbox", limit: configuration.outboxLimit)
        state = WorkerState(cpuSlots: configuration.cpuSlots, gpuIDs: configuration.gpuIDs, outbox: outbox)
        (jobStream, jobs) = AsyncStream.makeStream(of: (@Sendable () async -> Void).self)
        orphans = OrphanRegister(directory: configuration.workDirectory + "/process-groups")
    }

    public func run() async throws {
        let reaped = orphans.reapLeftovers()
        if reaped > 0 { logger.warning("stopped trainer process groups left by a previous worker process", metadata: ["mixlab.groups": "\(reaped)"]) }
        await withDiscardingTaskGroup { group in
            group.addTask {
                await withGracefulShutdownHandler {
                    await self.connectionLoop()
                } onGracefulShutdown: {
                    self.jobs.yield { await self.drain() }
                }
            }
            if let limit = configuration.exitWhenIdle {
                group.addTask { await self.exitWhenIdle(after: limit) }
            }
            for await job in jobStream {
                group.addTask { await job() }
            }
        }
    }

    /// Drains and ends the worker once no slot has been in use for `limit`; returns when the
    /// worker drains for any reason.
    private func exitWhenIdle(after limit: Duration) async {
        while !Task.isCancelled, await !state.draining {
            if let since = await state.idleSince, ContinuousClock.now - since >= limit {
                logger.info("no run for the idle limit; exiting", metadata: ["mixlab.idle_limit": "\(limit)"])
                jobs.yield { await self.drain() }
                return
            }
            try? await Task.sleep(for: min(limit / 4, .seconds(1)))
        }
    }

    // MARK: Connection

    private func connectionLoop() async {
        var delay = configuration.reconnectInitial
        while !Task.isCancelled {
            if await state.draining, await state.running.isEmpty, await state.pendingReports == 0 { break }
            let started = ContinuousClock.now
            do {
                try await session()
            } catch {
                logger.warning(
                    "coordinator session ended",
                    metadata: ["mixlab.coordinator": "\(configuration.coordinatorHost):\(configuration.coordinatorPort)", "mixlab.error": "\(Self.explain(error))"])
            }
            // Also when the session failed before the coordinator answered anything: a mixture
            // request written into it is asked again on the next session.
            await state.detach()
            await mixtureReplies.abandonAll()
            if await state.draining, await state.running.isEmpty { break }
            if ContinuousClock.now - started > .seconds(30) { delay = configuration.reconnectInitial }
            let jitter = 1 + Double.random(in: -configuration.reconnectJitter...configuration.reconnectJitter)
            try? await Task.sleep(for: delay * jitter)
            delay = min(delay * 2, configuration.reconnectMaximum)
        }
        jobs.finish()
    }

    /// One session: register, replay the outbox, then exchange messages until the stream ends.
    private func session() async throws {
        let transport = try MixLabTLS.clientTransport(
            host: configuration.coordinatorHost, port: configuration.coordinatorPort, materials: configuration.tls)
        try await withGRPCClient(transport: transport) { client in
            let workerSession = Mixlab_V1_WorkerSession.Client(wrapping: client)
            let (outbound, continuation) = AsyncStream.makeStream(of: Mixlab_V1_WorkerMessage.self)
            let replay = await state.attach(continuation)
            let register = Mixlab_V1_WorkerMessage.with {
                $0.register = .with {
                    $0.host = configuration.host
                    $0.cpuSlots = Int32(configuration.cpuSlots)
                    $0.gpuIds = configuration.gpuIDs.map(Int32.init)
                    $0.version = "mixlab-1"
                }
            }
            let held = await state.heldRuns
            var options = CallOptions.defaults
            options.waitForReady = false
            try await workerSession.connect(
                options: options,
                requestProducer: { writer in
                    var first = register
                    first.register.heldRuns = held
                    try await writer.write(first)
                    for message in replay { try await writer.write(message) }
                    for await message in outbound { try await writer.write(message) }
                }
            ) { response in
                // However the response side ends, end the request side too.
                do {
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        var heartbeat: Duration?
                        for try await message in response.messages {
                            if case .registered(let registered) = message.kind, heartbeat == nil {
                                let interval = Duration.milliseconds(Int64(max(registered.heartbeatSeconds, 0.05) * 1000))
                                heartbeat = interval
                                group.addTask { try await self.heartbeats(every: interval) }
                            }
                            await self.handle(message)
                        }
                        group.cancelAll()
                    }
                } catch {
                    await self.state.detach()
                    await self.mixtureReplies.abandonAll()
                    throw error
                }
                await self.state.detach()
                await self.mixtureReplies.abandonAll()
            }
        }
    }

    private func heartbeats(every interval: Duration) async throws {
        while !Task.isCancelled {
            await sendHeartbeat()
            try await Task.sleep(for: interval)
        }
    }

    /// What this worker holds and has free, and whether it drains.
    private func sendHeartbeat() async {
        let held = await state.heldRuns
        let free = await state.freeCapacity
        let draining = await state.draining
        await state.sendUnreliable(
            .with {
                $0.heartbeat = .with {
                    $0.heldRuns = held
                    $0.freeCpus = Int32(free.cpus)
                    $0.freeGpus = Int32(free.gpus)
                    $0.draining = draining
                }
            })
    }

    private func handle(_ message: Mixlab_V1_CoordinatorMessage) async {
        switch message.kind {
        case .registered(let registered):
            logger.info(
                "registered with the coordinator",
                metadata: [
                    "mixlab.worker": "\(registered.workerID)", "mixlab.reattached": "\(registered.reattachedRunIds.count)",
                    "mixlab.abandoned": "\(registered.abandonedRunIds.count)",
                ])
            for run in registered.abandonedRunIds { await state.revoke(RunID(run)) }
        case .assignment(let assignment):
            await accept(assignment)
        case .cancel(let cancel):
            await state.cancel(RunID(cancel.runID))
        case .ack(let ack):
            if let stale = await state.acknowledge(ack) {
                logger.warning("the coordinator refused a report; stopping the run", metadata: ["mixlab.run": "\(stale)", "mixlab.reason": "\(ack.message)"])
                await state.revoke(stale)
            }
        case .heartbeatReply(let reply):
            for run in reply.lostRunIds { await state.revoke(RunID(run)) }
        case .mixtureReply(let reply):
            await mixtureReplies.deliver(reply)
        case .logRequest(let request):
            if request.cancel {
                await logFollowers.cancel(request.requestID)
            } else {
                jobs.yield { await self.serveLog(request) }
            }
        case nil:
            break
        }
    }

    let mixtureReplies = MixtureReplies()
    let logFollowers = LogFollowers()

    // MARK: Attempts

    private func accept(_ assignment: Mixlab_V1_Assignment) async {
        guard let gpus = await state.reserve(assignment) else {
            // Draining, or the coordinator's view of our slots is behind: hand the run straight back.
            await state.report { seq in
                .with {
                    $0.finished = .with {
                        $0.seq = seq
                        $0.runID = assignment.runID
                        $0.token = assignment.token
                        $0.outcome = .failed
                        $0.cause = FailureCause.preempted.rawValue
                        $0.message = "the worker could not take the run (draining or no free slot); handed back"
                    }
                }
            }
            return
        }
        jobs.yield { await self.runAttempt(assignment, gpus: gpus) }
    }

    static func attemptDirectory(root: String, run: String, attempt: Int32) -> String {
        "\(root)/runs/\(run)/attempt-\(attempt)"
    }

    private func runAttempt(_ assignment: Mixlab_V1_Assignment, gpus: [Int]) async {
        let run = RunID(assignment.runID)
        let directory = Self.attemptDirectory(root: configuration.workDirectory, run: assignment.runID, attempt: assignment.attempt)
        var budget: [String: JSONValue] = [:]
        if case .object(let object)? = try? JSONValue.parse(assignment.budgetJson) { budget = object }
        var limits = AttemptSpec.Limits()
        if assignment.timeLimitSeconds > 0 { limits.wallClock = .milliseconds(Int64(assignment.timeLimitSeconds * 1000)) }
        if assignment.noReportTimeoutSeconds > 0 { limits.noReport = .milliseconds(Int64(assignment.noReportTimeoutSeconds * 1000)) }
        if assignment.killGraceSeconds > 0 { limits.killGrace = .milliseconds(Int64(assignment.killGraceSeconds * 1000)) }
        let order = assignment.mixture.keys.sorted()
        let spec = AttemptSpec(
            runID: run, sweepID: SweepID(assignment.sweepID), attempt: Int(assignment.attempt), seed: assignment.seed,
            domains: order.map { DomainData(name: $0, path: assignment.domains[$0] ?? "") }, mixture: assignment.mixture,
            budget: budget, command: assignment.command, environment: assignment.env, gpus: gpus, workDirectory: directory,
            limits: limits, evalDomains: assignment.evalDomains)
        let token = assignment.token
        let supervisor = AttemptSupervisor(spec: spec, logger: logger) { request in
            await self.requestMixture(run: run, token: token, step: request.step, losses: request.losses)
        }
        await state.started(assignment, supervisor: supervisor, gpus: gpus)
        var outcome: AttemptOutcome
        do {
            async let result = supervisor.run()
            for await event in supervisor.events {
                await forward(event, of: assignment)
            }
            outcome = try await result
        } catch {
            // A spec problem (bad placeholder) or a program that does not exist: retrying cannot help.
            outcome = .failed(
                AttemptFailure(cause: .protocolError, exitCode: nil, signal: nil, message: "the trainer did not start: \(error)", logTail: ""))
        }
        if case .failed(var failure) = outcome, failure.cause == .cancelled, await state.handingBack {
            // Stopped because this worker drains, not because anyone cancelled the run: retry elsewhere.
            failure.cause = .preempted
            failure.message = "handed back by a draining worker"
            outcome = .failed(failure)
        }
        await state.ended(run, cpus: Int(assignment.cpus), gpus: gpus) { seq in
            .with {
                $0.finished = .with {
                    $0.seq = seq
                    $0.runID = assignment.runID
                    $0.token = token
                    switch outcome {
                    case .succeeded:
                        $0.outcome = .succeeded
                    case .failed(let failure):
                        $0.outcome = .failed
                        $0.cause = failure.cause.rawValue
                        if let code = failure.exitCode { $0.exitCode = code }
                        if let signal = failure.signal { $0.signal = signal }
                        $0.message = failure.message
                        $0.logTail = failure.logTail
                    }
                }
            }
        }
    }

    private func forward(_ event: AttemptEvent, of assignment: Mixlab_V1_Assignment) async {
        switch event {
        case .started, .eval, .progress, .nextRequested, .replied:
            await state.noteActivity(RunID(assignment.runID))
        default:
            break
        }
        switch event {
        case .started(let pid, _, _):
            orphans.record(group: pid, run: assignment.runID)
            await state.report { seq in
                .with { $0.runStarted = .with { $0.seq = seq; $0.runID = assignment.runID; $0.token = assignment.token; $0.pid = pid } }
            }
        case .eval(let eval):
            await state.report { seq in
                .with {
                    $0.evals = .with {
                        $0.seq = seq
                        $0.runID = assignment.runID
                        $0.token = assignment.token
                        $0.points = eval.losses.sorted { $0.key < $1.key }.map { domain, loss in
                            .with { $0.step = eval.step; $0.tokens = eval.tokens; $0.domain = domain; $0.loss = loss }
                        }
                    }
                }
            }
        case .finished:
            orphans.forget(run: assignment.runID)
        default:
            break
        }
    }

    /// Asks the coordinator which segment comes next. When the session drops before the answer
    /// (a coordinator restart, a network cut) the same request is sent again on the next session,
    /// so an online run waits for its coordinator instead of stopping early; the coordinator
    /// answers a repeated request from its stored decision. The trainer is stopped only when the
    /// coordinator says so or takes the run back.
    private func requestMixture(run: RunID, token: Int64, step: Int64, losses: [String: Double]) async -> TrainerReply {
        while !Task.isCancelled, await state.holds(run) {
            let (seq, replies) = await mixtureReplies.open()
            let sent = await state.sendUnreliable(
                .with {
                    $0.mixtureRequest = .with {
                        $0.seq = seq
                        $0.runID = run.rawValue
                        $0.token = token
                        $0.step = step
                        $0.losses = losses
                    }
                })
            var answer: Mixlab_V1_MixtureReply?
            if sent {
                for await reply in replies {
                    answer = reply
                    break
                }
            }
            await mixtureReplies.forget(seq)
            if let answer {
                return answer.stop ? .stop : .mixture(weights: answer.weights, steps: answer.steps)
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return .stop
    }

    // MARK: Drain

    private func drain() async {
        await state.beginDrain()
        // Tell the coordinator at once, before any run is handed back: otherwise it would assign
        // the re-queued runs straight back to this worker until its next heartbeat.
        await sendHeartbeat()
        logger.info("draining", metadata: ["mixlab.policy": "\(configuration.drain.rawValue)"])
        switch configuration.drain {
        case .finish:
            let finished = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await self.state.waitUntilIdle(); return true }
                group.addTask { try? await Task.sleep(for: self.configuration.drainTimeout); return false }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            if !finished { await handBackAll() }
        case .handBack:
            await handBackAll()
        }
        await state.waitUntilIdle()
        // Give the session a moment to deliver the last reports; the outbox keeps anything unsent.
        for _ in 0..<50 where await state.pendingReports > 0 {
            try? await Task.sleep(for: .milliseconds(100))
        }
        await state.detach()
    }

    private func handBackAll() async {
        await state.beginHandBack()
        await state.cancelAll()
    }

    static func explain(_ error: any Error) -> String {
        if let rpc = error as? RPCError, rpc.code == .unavailable {
            return "\(rpc.message) (if the coordinator is up, check that this worker's certificate was issued by the coordinator's CA and is not expired)"
        }
        return "\(error)"
    }
}
