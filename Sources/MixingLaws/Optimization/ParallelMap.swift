import Dispatch

/// Runs independent, deterministic jobs (fit starts, bootstrap resamples, folds) on all cores and
/// returns their results in index order, so reductions over them do not depend on scheduling.
public enum ParallelMap {
    public static func map<T: Sendable>(count: Int, parallel: Bool = true, _ body: @Sendable (Int) -> T) -> [T] {
        guard count > 0 else { return [] }
        if !parallel || count == 1 { return (0..<count).map(body) }
        let slots = ResultSlots<T>(count: count)
        defer { slots.deallocate() }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: count) { index in
                slots.store(body(index), at: index)
            }
        }
        return slots.collect()
    }
}

/// Write-once slots, one per job; each index is written by exactly one job, so no lock is needed.
private final class ResultSlots<T>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    func store(_ value: T, at index: Int) { buffer[index] = value }
    func collect() -> [T] { buffer.map { $0! } }
    func deallocate() {
        _ = buffer.deinitialize()
        buffer.deallocate()
    }
}
