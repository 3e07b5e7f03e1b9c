import MixLabCore

/// The rules of one attempt as a value type: it takes what happened (socket lines, the process's
/// exit, clock ticks, cancellation, handler replies) and returns what to do. ``AttemptSupervisor``
/// only carries the actions out.
struct AttemptStateMachine: Sendable {
    enum Action: Sendable, Equatable {
        case emit(AttemptEvent)
        case callNextHandler(connection: Int32, step: Int64)
        case send(TrainerReply, connection: Int32, step: Int64)
        /// Stop the process group (SIGTERM, grace, SIGKILL); the text goes into the log first.
        case terminate(note: String)
        /// The trainer has exited: take queued connections, read them to end of file.
        case finishSocket
        /// The drain timed out: close the connections now.
        case closeSocket
        case note(String)
    }

    /// Why the supervisor decided to stop the trainer.
    struct StopReason: Sendable, Equatable {
        var cause: FailureCause
        var message: String
    }

    let codec: TrainerLineCodec
    let limits: AttemptSpec.Limits
    let startedAt: ContinuousClock.Instant

    private(set) var stopReason: StopReason?
    private(set) var exitStatus: TrainerExitStatus?
    private(set) var doneReceived = false
    private(set) var finalEval: TrainerEval?
    private(set) var evalCount = 0
    private var lastEval: TrainerEval?
    private var greetedConnections: Set<Int32> = []
    private var lastReport: ContinuousClock.Instant
    private var pendingNextRequests = 0
    private var drainDeadline: ContinuousClock.Instant?
    private var socketFinished = false

    init(spec: AttemptSpec, startedAt: ContinuousClock.Instant) {
        codec = TrainerLineCodec(domains: Set(spec.domains.map(\.name)).union(spec.evalDomains), maxLineBytes: spec.limits.maxLineBytes)
        limits = spec.limits
        self.startedAt = startedAt
        lastReport = startedAt
    }

    /// The trainer has exited and its socket is drained (or given up on): the outcome can be decided.
    var isFinished: Bool { exitStatus != nil && socketFinished }

    mutating func socketEvent(_ event: ControlSocket.Event, now: ContinuousClock.Instant) -> [Action] {
        switch event {
        case .connected, .closed:
            return []
        case .unterminated(_, let bytes):
            return [.note("ignored an unterminated last line (every line must end with a newline): "
                              + TrainerProtocolError.excerpt(bytes))]
        case .finished:
            socketFinished = true
            return []
        case .oversized(_, let prefix, let length):
            let error = TrainerProtocolError(
                kind: .oversizedLine,
                message: "a line grew to \(length) bytes without a newline; the limit is \(codec.maxLineBytes) bytes",
                line: prefix)
            return protocolError(error)
        case .line(let connection, let bytes):
            guard stopReason == nil else { return [] }
            do {
                return try handle(try codec.decode(line: bytes), connection: connection, line: bytes, now: now)
            } catch {
                return protocolError(error)
            }
        }
    }

    private mutating func handle(
        _ message: TrainerMessage, connection: Int32, line: [UInt8], now: ContinuousClock.Instant
    ) throws(TrainerProtocolError) -> [Action] {
        guard greetedConnections.contains(connection) else {
            guard case .hello(let version) = message else {
                throw TrainerProtocolError(
                    kind: .unexpectedMessage,
                    message: "\(message.typeName) before hello; the first line on a connection must be "
                        + "{\"type\":\"hello\",\"protocol\":\(trainerProtocolVersion)}",
                    line: line)
            }
            greetedConnections.insert(connection)
            return [.emit(.hello(protocolVersion: version))]
        }
        if doneReceived {
            return [.note("ignored a \"\(message.typeName)\" line after done")]
        }
        switch message {
        case .hello:
            return []
        case .eval(let eval):
            lastEval = eval
            evalCount += 1
            lastReport = now
            return [.emit(.eval(eval))]
        case .progress(let step, let tokens):
            lastReport = now
            return [.emit(.progress(step: step, tokens: tokens))]
        case .next(let step):
            pendingNextRequests += 1
            lastReport = now
            return [.emit(.nextRequested(step: step)), .callNextHandler(connection: connection, step: step)]
        case .done:
            doneReceived = true
            finalEval = lastEval
            return [.emit(.done)]
        }
    }

    private mutating func protocolError(_ error: TrainerProtocolError) -> [Action] {
        stop(StopReason(cause: .protocolError, message: "protocol error (\(error.kind.rawValue)): \(error.message)"),
             note: "protocol error (\(error.kind.rawValue)): \(error.message)\noffending line: \(error.line)")
    }

    private mutating func stop(_ reason: StopReason, note: String) -> [Action] {
        guard stopReason == nil else { return [] }
        stopReason = reason
        if exitStatus == nil { return [.terminate(note: note)] }
        return [.note(note)]
    }

    mutating func replyReady(
        connection: Int32, step: Int64, reply: TrainerReply, now: ContinuousClock.Instant
    ) -> [Action] {
        pendingNextRequests -= 1
        lastReport = now
        guard stopReason == nil, exitStatus == nil else { return [] }
        return [.send(reply, connection: connection, step: step)]
    }

    mutating func processExited(_ status: TrainerExitStatus, now: ContinuousClock.Instant) -> [Action] {
        exitStatus = status
        drainDeadline = now + AttemptSupervisor.drainTimeout
        return [.finishSocket]
    }

    mutating func cancel() -> [Action] {
        stop(StopReason(cause: .cancelled, message: "cancelled by the worker"), note: "cancelled by the worker")
    }

    mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        if exitStatus != nil {
            if !socketFinished, let drainDeadline, now >= drainDeadline {
                socketFinished = true
                return [.closeSocket]
            }
            return []
        }
        guard stopReason == nil else { return [] }
        if let wallClock = limits.wallClock, now - startedAt > wallClock {
            let message = "the wall-clock limit of \(wallClock) was exceeded; "
                + "raise trainer.time_limit or shrink the budget"
            return stop(StopReason(cause: .timeout, message: message), note: message)
        }
        if let noReport = limits.noReport, pendingNextRequests == 0, now - lastReport > noReport {
            let message = "no eval or progress for \(noReport); report progress more often or raise the watchdog"
            return stop(StopReason(cause: .timeout, message: message), note: message)
        }
        return []
    }
}
