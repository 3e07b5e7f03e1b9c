import PostgresNIO
import Synchronization

/// A PostgreSQL operation attempt that did not finish within the backend's deadline.
struct DeadlineExpired: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within the \(limit) operation deadline" }
}

/// What one attempt of a PostgreSQL operation is doing, so that a passing deadline can close the
/// connection it holds and tell whether its write may already have committed.
///
/// The deadline counts only time spent waiting for the server (for a pooled connection, or for the
/// answer to a statement), not the client's own work between answers: decoding a large result on a
/// loaded machine can take longer than the deadline, and counting it made such a read expire on
/// every retry although the server had answered long before.
final class Attempt: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var writeSent = false
        var copying = false
        var abandoned = false
        /// Since when the attempt has been waiting for the server; nil while the client works.
        var waitingSince: ContinuousClock.Instant? = .now
    }
    private let state = Mutex(State())

    /// The attempt got `connection` from the pool; `sendsWrite` when its first statement may commit
    /// (autocommit). Throws when the deadline passed while it waited for the connection.
    func begin(on connection: PostgresConnection, sendsWrite: Bool) throws {
        try state.withLock { state in
            if state.abandoned { throw DeadlineExpired(limit: .zero) }
            state.connection = connection
            state.writeSent = sendsWrite
        }
    }

    /// Runs `request`, one round trip to the server, as time the deadline counts.
    func awaitingServer<R>(_ request: () async throws -> R) async throws -> R {
        try state.withLock { state in
            if state.abandoned { throw DeadlineExpired(limit: .zero) }
            state.waitingSince = .now
        }
        defer { state.withLock { $0.waitingSince = nil } }
        return try await request()
    }

    /// When the attempt expires unless the server answers first; nil while the client is working.
    func expiry(after limit: Duration) -> ContinuousClock.Instant? {
        state.withLock { $0.waitingSince.map { $0 + limit } }
    }

    /// COMMIT is about to be sent.
    func committing() { state.withLock { $0.writeSent = true } }

    /// The COPY's data is about to be written: from here until the COPY ends, closing the connection
    /// would trip a precondition in PostgresNIO 1.33.2, so a deadline passing meanwhile closes it
    /// afterwards. False when the deadline has already passed (the connection is being closed).
    func enterCopyData() -> Bool {
        state.withLock { state in
            if state.abandoned { return false }
            state.copying = true
            return true
        }
    }

    /// The COPY ended; a connection abandoned during it is closed now.
    func leaveCopy() {
        let closeNow: PostgresConnection? = state.withLock { state in
            defer { state.copying = false }
            return state.copying && state.abandoned ? state.connection : nil
        }
        if let closeNow { Self.close(closeNow) }
    }

    /// The deadline passed: closes the connection (unless COPY data is in flight) and returns
    /// whether the write may have committed.
    func abandon() -> Bool {
        let (connection, writeSent) = state.withLock { state in
            state.abandoned = true
            return (state.copying ? nil : state.connection, state.writeSent)
        }
        if let connection { Self.close(connection) }
        return writeSent
    }

    private static func close(_ connection: PostgresConnection) {
        let _: EventLoopFuture<Void> = connection.close()
    }
}

/// The attempt and the deadline timer of `PostgresBackend.withDeadline`: whichever finishes first
/// resumes the caller; the other is told to stop.
final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var finished = false
        var onFinish: (@Sendable () -> Void)?
        var onCancel: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.continuation = continuation } }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, onFinish) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            defer { state.continuation = nil }
            return (state.continuation, state.onFinish)
        }
        onFinish?()
        continuation?.resume(with: result)
    }

    /// Runs `action` when the race finishes (at once if it already has).
    func onFinish(_ action: @escaping @Sendable () -> Void) {
        let already = state.withLock { state in
            if state.finished { return true }
            state.onFinish = action
            return false
        }
        if already { action() }
    }

    /// Runs `action` when the caller is cancelled.
    func onCancel(_ action: @escaping @Sendable () -> Void) { state.withLock { $0.onCancel = action } }

    /// The caller was cancelled: the attempt is told to stop, and the caller gets its result (a
    /// cancellation error, or whatever it returns first).
    func cancel() { state.withLock { $0.onCancel }?() }
}
