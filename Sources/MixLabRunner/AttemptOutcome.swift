import MixLabCore

/// Something that happened during an attempt, in order. The last event is always ``finished(_:)``.
public enum AttemptEvent: Sendable, Hashable {
    /// The trainer process started.
    case started(pid: Int32, logPath: String, controlPath: String)
    /// A connection said hello.
    case hello(protocolVersion: Int)
    case eval(TrainerEval)
    case progress(step: Int64, tokens: Int64)
    /// The trainer asked for the next mixture; the `next` handler is being called.
    case nextRequested(step: Int64)
    /// The handler's answer was sent to the trainer.
    case replied(step: Int64, reply: TrainerReply)
    case done
    case finished(AttemptOutcome)
}

/// The result of a successful attempt.
public struct AttemptResult: Sendable, Hashable {
    /// The last eval before `done`: the run's result.
    public var finalEval: TrainerEval
    /// How many evals the trainer reported in all.
    public var evalCount: Int

    public init(finalEval: TrainerEval, evalCount: Int) {
        self.finalEval = finalEval
        self.evalCount = evalCount
    }
}

/// Why and how an attempt failed.
public struct AttemptFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var cause: FailureCause
    /// The trainer's exit status when it exited by itself or after being stopped.
    public var exitCode: Int32?
    public var signal: Int32?
    /// One line for people: what happened and, where there is one, what to fix.
    public var message: String
    /// The last lines of the attempt log (including MixLab's own `[mixlab]` notes).
    public var logTail: String

    public init(cause: FailureCause, exitCode: Int32?, signal: Int32?, message: String, logTail: String) {
        self.cause = cause
        self.exitCode = exitCode
        self.signal = signal
        self.message = message
        self.logTail = logTail
    }

    public var description: String { "\(cause.rawValue): \(message)" }
}

/// How an attempt ended.
public enum AttemptOutcome: Sendable, Hashable {
    /// Exit status 0 after `done`, with at least one eval.
    case succeeded(AttemptResult)
    case failed(AttemptFailure)

    public var failure: AttemptFailure? {
        if case .failed(let failure) = self { failure } else { nil }
    }

    public var result: AttemptResult? {
        if case .succeeded(let result) = self { result } else { nil }
    }
}
