/// Where a proxy run is in its life. Terminal states are ``succeeded``, ``failed`` and
/// ``cancelled``; a run whose lease expired goes back to ``queued`` with its attempt number raised
/// (the expired attempt is recorded with cause `lost`) until it runs out of attempts.
public enum RunState: String, Sendable, Codable, CaseIterable {
    case queued
    /// Leased to a worker; the assignment may not have reached it yet.
    case assigned
    /// The worker reported that the trainer process started.
    case running
    case succeeded
    case failed
    case cancelled

    public var isTerminal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

/// Why an attempt of a run ended other than by success.
public enum FailureCause: String, Sendable, Codable, CaseIterable {
    /// The trainer exited non-zero.
    case exitCode = "exit_code"
    /// The trainer was killed by a signal.
    case signal
    /// The kernel's OOM killer ended it (or it hit a memory limit).
    case outOfMemory = "oom"
    /// The lease expired: the worker stopped heart-beating (crash, partition).
    case lost
    /// The trainer broke the trainer protocol (e.g. exited 0 without `done`).
    case protocolError = "protocol_error"
    /// The per-run wall-clock limit or the no-report watchdog fired.
    case timeout
    case cancelled
    /// The worker gave the run back without it failing: it was draining (a batch allocation's time
    /// limit, a shutdown) or could not take the assignment. Not the run's fault, nor the worker's:
    /// the run is re-queued without using up an attempt, up to `trainer.max_preemptions` times.
    case preempted
}

/// Where a sweep is in its life.
public enum SweepState: String, Sendable, Codable, CaseIterable {
    case active
    case paused
    /// Every run is terminal.
    case completed
    case cancelled
}
