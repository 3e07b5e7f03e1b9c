import Synchronization

/// A test step that did not finish in time.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    public let limit: Duration
    public var description: String { "did not finish within \(limit); the step was abandoned (a hang, not a slow run)" }
}

/// Runs `operation` but stops waiting for it after `limit`, so a hang (a driver that never fails a
/// query whose connection dropped) fails the test instead of stalling the whole test run.
///
/// The operation runs as an unstructured task on purpose: a child task that never returns would
/// keep its task group, and so the test, waiting forever. On timeout it is cancelled and left behind.
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = Race<T>()
    return try await withCheckedThrowingContinuation { continuation in
        race.pending.withLock { $0 = continuation }
        race.work.withLock {
            $0 = Task {
                do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
            }
        }
        Task {
            try? await Task.sleep(for: limit)
            race.finish(.failure(DeadlineExceeded(limit: limit)))
            race.work.withLock { $0?.cancel() }
        }
    }
}

/// The operation and the timer of ``withDeadline(_:_:)``: whichever finishes first resumes the caller.
private final class Race<T: Sendable>: Sendable {
    let pending = Mutex<CheckedContinuation<T, any Error>?>(nil)
    let work = Mutex<Task<Void, Never>?>(nil)

    func finish(_ result: Result<T, any Error>) {
        pending.withLock { waiting in
            waiting?.resume(with: result)
            waiting = nil
        }
    }
}
