import Dispatch
import Foundation
import Logging
import MixLabCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs one attempt of a proxy run: starts the trainer in its own process group with the run's
/// command and environment, serves its control socket, enforces the protocol and the time limits,
/// and reports what happens as ``events`` and, at the end, an ``AttemptOutcome``.
///
/// Whatever the trainer does (bad lines, hangs, crashes, children left behind), the supervisor
/// returns an outcome and the trainer's whole process group is gone by then.
///
/// ```swift
/// let supervisor = AttemptSupervisor(spec: spec, logger: logger) { request in
///     await controller.nextMixture(after: step)        // only for online methods
/// }
/// async let outcome = supervisor.run()
/// for await event in supervisor.events { forward(event) }
/// switch try await outcome { … }
/// ```
public final class AttemptSupervisor: Sendable {
    /// A trainer's `next`: its step, and the losses of its latest eval when that eval was at this
    /// step (empty otherwise), so an online method decides from exactly what the trainer saw.
    public struct NextRequest: Sendable, Equatable {
        public var step: Int64
        public var losses: [String: Double]

        public init(step: Int64, losses: [String: Double]) {
            self.step = step
            self.losses = losses
        }
    }

    /// Answers a trainer's `next`. Called in a child task that is cancelled when the attempt ends.
    public typealias NextHandler = @Sendable (_ request: NextRequest) async -> TrainerReply

    /// How long after the trainer exits its connections may stay open before they are closed.
    static let drainTimeout: Duration = .seconds(3)
    static let tickInterval: Duration = .milliseconds(200)

    public let spec: AttemptSpec
    /// Everything that happens, in order, ending with ``AttemptEvent/finished(_:)``. Buffered without
    /// bound, so a slow reader loses nothing; read it once.
    public let events: AsyncStream<AttemptEvent>
    /// The trainer's log file: `<workDirectory>/trainer.log`.
    public let log: AttemptLog

    private let eventSink: AsyncStream<AttemptEvent>.Continuation
    private let nextHandler: NextHandler
    private let logger: Logger
    private let mailbox = Mailbox<Signal>()
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle {
        var runCalled = false
        var cancelRequested = false
    }

    private enum Signal: Sendable {
        case socket(ControlSocket.Event)
        case exited(TrainerExitStatus)
        case tick
        case cancel
        case reply(connection: Int32, step: Int64, reply: TrainerReply)
    }

    /// - Parameters:
    ///   - spec: the attempt to run; nothing happens until ``run()``.
    ///   - logger: gets the run id and attempt as metadata; logs start, stop reasons and the outcome.
    ///   - next: answers the trainer's `next` requests (online methods); the default answers `stop`.
    public init(spec: AttemptSpec, logger: Logger = Logger(label: "mixlab.runner"),
                next: @escaping NextHandler = { _ in .stop }) {
        self.spec = spec
        var logger = logger
        logger[metadataKey: "run_id"] = "\(spec.runID)"
        logger[metadataKey: "attempt"] = "\(spec.attempt)"
        self.logger = logger
        self.nextHandler = next
        self.log = AttemptLog(path: (spec.workDirectory as NSString).appendingPathComponent("trainer.log"))
        (events, eventSink) = AsyncStream.makeStream(of: AttemptEvent.self, bufferingPolicy: .unbounded)
    }

    /// Where the control socket of an attempt in `workDirectory` goes: `<workDirectory>/control.sock`.
    /// When that path is 100 bytes or longer (too long for a Unix socket), a fresh directory under
    /// `/tmp` is used instead (its path is in ``AttemptEvent/started(pid:logPath:controlPath:)``).
    public static func preferredControlPath(workDirectory: String) -> String {
        (workDirectory as NSString).appendingPathComponent("control.sock")
    }

    /// Stops the attempt: the trainer's group gets SIGTERM, then SIGKILL after the kill grace, and
    /// the outcome is a failure with cause `cancelled` (unless it had already ended). Safe to call
    /// at any time, from anywhere, more than once. Cancelling the task that runs ``run()`` does the same.
    public func cancel() {
        lifecycle.withLock { $0.cancelRequested = true }
        mailbox.post(.cancel)
    }

    /// Runs the attempt to its end. Call once.
    ///
    /// - Returns: how it ended; failures are outcomes, not errors.
    /// - Throws: ``TrainerStartError`` when the trainer never started (a bad placeholder, an unusable
    ///   work directory, a program that does not exist); ``events`` then ends without `finished`.
    public func run() async throws(TrainerStartError) -> AttemptOutcome {
        let (alreadyRan, cancelledEarly) = lifecycle.withLock { state in
            defer { state.runCalled = true }
            return (state.runCalled, state.cancelRequested)
        }
        guard !alreadyRan else { throw TrainerStartError(message: "AttemptSupervisor.run() was called twice") }
        do {
            let outcome = try await withTaskCancellationHandler {
                try await supervise(cancelledEarly: cancelledEarly)
            } onCancel: {
                self.cancel()
            }
            eventSink.yield(.finished(outcome))
            eventSink.finish()
            return outcome
        } catch let error as TrainerStartError {
            log.appendNote("could not start the trainer: \(error.message)")
            logger.error("trainer did not start", metadata: ["error": "\(error.message)"])
            eventSink.finish()
            throw error
        } catch {
            eventSink.finish()
            throw TrainerStartError(message: "\(error)")
        }
    }

    private func prepare() throws(TrainerStartError) -> (socket: ControlSocket, temporaryDirectory: String?) {
        do {
            try FileManager.default.createDirectory(atPath: spec.workDirectory, withIntermediateDirectories: true)
        } catch {
            throw TrainerStartError(message: "cannot create work directory \(spec.workDirectory): \(error)")
        }
        try log.create()
        let preferred = Self.preferredControlPath(workDirectory: spec.workDirectory)
        if preferred.utf8.count < ControlSocket.maximumPathBytes {
            return (try ControlSocket(path: preferred, maxLineBytes: spec.limits.maxLineBytes), nil)
        }
        var template = Array("/tmp/mixlab-XXXXXX".utf8CString)
        guard let directory = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) })
            .map({ String(cString: $0) }) else {
            throw TrainerStartError(message: "cannot create a directory under /tmp for the control socket")
        }
        logger.notice("work directory too deep for a Unix socket path; control socket placed under /tmp",
                      metadata: ["control": "\(directory)/control.sock"])
        do {
            return (try ControlSocket(path: directory + "/control.sock", maxLineBytes: spec.limits.maxLineBytes),
                    directory)
        } catch {
            rmdir(directory)
            throw error
        }
    }

    private func supervise(cancelledEarly: Bool) async throws(TrainerStartError) -> AttemptOutcome {
        let (socket, temporaryDirectory) = try prepare()
        defer {
            if let temporaryDirectory {
                unlink(socket.path)
                rmdir(temporaryDirectory)
            }
        }
        let invocation: TrainerInvocation
        do {
            invocation = try TrainerCommand.render(spec, controlPath: socket.path)
        } catch {
            socket.discard()
            throw TrainerStartError(message: error.description, inputError: error)
        }
        if cancelledEarly {
            socket.discard()
            log.appendNote("attempt \(spec.attempt) of run \(spec.runID) cancelled before it started")
            return .failed(AttemptFailure(cause: .cancelled, exitCode: nil, signal: nil,
                                          message: "cancelled before the trainer started", logTail: ""))
        }
        log.appendNote("attempt \(spec.attempt) of run \(spec.runID) (sweep \(spec.sweepID)) starting\n"
                           + invocation.logText(sweepVariables: Set(spec.environment.keys)))
        let oomKillsBefore = OOMKillCounter.read()
        let process: TrainerProcess
        do {
            process = try TrainerProcess.start(
                arguments: invocation.arguments, environment: invocation.fullEnvironment(), logPath: log.path,
                currentDirectory: spec.currentDirectory)
        } catch {
            socket.discard()
            throw error
        }
        let mailbox = self.mailbox
        socket.start { mailbox.post(.socket($0)) }
        logger.info("trainer started", metadata: ["pid": "\(process.pid)", "log": "\(log.path)"])
        eventSink.yield(.started(pid: process.pid, logPath: log.path, controlPath: socket.path))

        let ticking = TickSwitch()
        return await withTaskGroup(of: Void.self, returning: AttemptOutcome.self) { group in
            group.addTask {
                mailbox.post(.exited(await process.waitForExit()))
            }
            group.addTask {
                while await ticking.sleep(Self.tickInterval) {
                    mailbox.post(.tick)
                }
            }
            var machine = AttemptStateMachine(spec: spec, startedAt: .now)
            var lastEval: TrainerEval?
            while !machine.isFinished {
                let signal = await mailbox.next()
                let actions: [AttemptStateMachine.Action]
                switch signal {
                case .socket(let event): actions = machine.socketEvent(event, now: .now)
                case .exited(let status): actions = machine.processExited(status, now: .now)
                case .tick: actions = machine.tick(now: .now)
                case .cancel: actions = machine.cancel()
                case .reply(let connection, let step, let reply):
                    actions = machine.replyReady(connection: connection, step: step, reply: reply, now: .now)
                }
                for action in actions {
                    switch action {
                    case .emit(let event):
                        if case .eval(let eval) = event {
                            // One checkpoint may come in several eval lines; they add up.
                            lastEval = lastEval?.step == eval.step
                                ? TrainerEval(step: eval.step, tokens: eval.tokens, losses: lastEval!.losses.merging(eval.losses) { $1 })
                                : eval
                        }
                        eventSink.yield(event)
                    case .callNextHandler(let connection, let step):
                        let handler = nextHandler
                        let request = NextRequest(step: step, losses: lastEval?.step == step ? lastEval!.losses : [:])
                        group.addTask {
                            let reply = await handler(request)
                            mailbox.post(.reply(connection: connection, step: step, reply: reply))
                        }
                    case .send(let reply, let connection, let step):
                        if socket.send(reply.encoded(), to: connection) {
                            eventSink.yield(.replied(step: step, reply: reply))
                        } else {
                            logger.warning("could not send a reply to the trainer", metadata: ["step": "\(step)"])
                        }
                    case .terminate(let note):
                        log.appendNote(note)
                        logger.warning("stopping trainer", metadata: ["reason": "\(note)"])
                        let grace = spec.limits.killGrace
                        group.addTask { await process.terminateGroup(grace: grace) }
                    case .finishSocket:
                        socket.finish()
                    case .closeSocket:
                        log.appendNote("connections still open \(Self.drainTimeout) after the trainer exited; closed")
                        socket.close()
                    case .note(let note):
                        log.appendNote(note)
                    }
                }
            }
            ticking.stop()
            group.cancelAll()
            let outcome = conclude(machine: machine, process: process, oomKillsBefore: oomKillsBefore)
            if case .failed(let failure) = outcome {
                logger.warning("attempt failed", metadata: ["cause": "\(failure.cause.rawValue)",
                                                            "message": "\(failure.message)"])
            } else {
                logger.info("attempt succeeded")
            }
            return outcome
        }
    }

    private func conclude(
        machine: AttemptStateMachine, process: TrainerProcess, oomKillsBefore: Int?
    ) -> AttemptOutcome {
        let status = machine.exitStatus ?? .signaled(signal: SIGKILL)
        var cause: FailureCause
        var message: String
        if let stop = machine.stopReason {
            (cause, message) = (stop.cause, stop.message)
        } else {
            switch status {
            case .exited(code: 0):
                if machine.doneReceived, let finalEval = machine.finalEval {
                    let result = AttemptResult(finalEval: finalEval, evalCount: machine.evalCount)
                    log.appendNote("attempt \(spec.attempt) succeeded: final eval at step \(finalEval.step)")
                    return .succeeded(result)
                }
                cause = .protocolError
                message = machine.doneReceived
                    ? "the trainer sent done without any eval before it; send an eval with the final losses first"
                    : "the trainer exited with status 0 without sending done; send {\"type\":\"done\"} before exiting"
            case .exited(let code):
                cause = .exitCode
                message = "the trainer exited with status \(code)"
            case .unavailable:
                cause = .exitCode
                message = "the trainer's exit status was lost (another part of the process reaped it; "
                    + "is SIGCHLD ignored?)"
            case .signaled(let signal):
                let oomKillsAfter = OOMKillCounter.read()
                if signal == SIGKILL, !process.sentSIGKILL, let before = oomKillsBefore, let after = oomKillsAfter,
                   after > before {
                    cause = .outOfMemory
                    message = "the trainer was killed by the OOM killer (SIGKILL; oom_kill count rose by "
                        + "\(after - before)); lower the batch or model size, or give the slot more memory"
                } else {
                    cause = .signal
                    message = "the trainer was \(status)"
                }
            }
        }
        log.appendNote("attempt \(spec.attempt) failed (\(cause.rawValue)): \(message); trainer \(status)")
        return .failed(AttemptFailure(
            cause: cause, exitCode: status.exitCode, signal: status.signal, message: message,
            logTail: log.tail(lines: spec.limits.logTailLines)))
    }
}

/// The supervisor's clock: sleeps between ticks until ``stop()``, which also ends a sleep in
/// progress (so an attempt ends without waiting out a tick). Task cancellation does not stop it:
/// the supervisor needs its clock while it winds down a cancelled attempt.
private final class TickSwitch: Sendable {
    private struct State {
        var isOn = true
        var sleeper: CheckedContinuation<Bool, Never>?
        var generation = 0
    }

    private let state = Mutex(State())

    /// Waits `interval`; `false` once stopped.
    func sleep(_ interval: Duration) async -> Bool {
        await withCheckedContinuation { continuation in
            let generation: Int? = state.withLock { state in
                guard state.isOn else { return nil }
                state.generation += 1
                state.sleeper = continuation
                return state.generation
            }
            guard let generation else {
                continuation.resume(returning: false)
                return
            }
            let (seconds, attoseconds) = interval.components
            let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
            DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
                let sleeper = self.state.withLock { state -> CheckedContinuation<Bool, Never>? in
                    guard state.generation == generation else { return nil }
                    defer { state.sleeper = nil }
                    return state.sleeper
                }
                sleeper?.resume(returning: true)
            }
        }
    }

    func stop() {
        let sleeper = state.withLock { state -> CheckedContinuation<Bool, Never>? in
            state.isOn = false
            defer { state.sleeper = nil }
            return state.sleeper
        }
        sleeper?.resume(returning: false)
    }
}
