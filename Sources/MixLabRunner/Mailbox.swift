import Synchronization

/// An unbounded queue with one reader whose `next()` ignores task cancellation, so a supervisor
/// keeps handling its process's exit even while the task that runs it is being cancelled.
final class Mailbox<Message: Sendable>: Sendable {
    private struct State {
        var queue: [Message] = []
        var head = 0
        var reader: CheckedContinuation<Message, Never>?
    }

    private let state = Mutex(State())

    func post(_ message: Message) {
        let reader = state.withLock { state -> CheckedContinuation<Message, Never>? in
            if let reader = state.reader {
                state.reader = nil
                return reader
            }
            state.queue.append(message)
            return nil
        }
        reader?.resume(returning: message)
    }

    func next() async -> Message {
        await withCheckedContinuation { continuation in
            let message = state.withLock { state -> Message? in
                if state.head < state.queue.count {
                    let message = state.queue[state.head]
                    state.head += 1
                    if state.head > 1024 {
                        state.queue.removeFirst(state.head)
                        state.head = 0
                    }
                    return message
                }
                state.reader = continuation
                return nil
            }
            if let message { continuation.resume(returning: message) }
        }
    }
}
