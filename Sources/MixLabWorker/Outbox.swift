import Foundation
import MixLabRPC
import SwiftProtobuf

/// Reports the coordinator has not acknowledged yet, kept on disk (one file per report, named by
/// its sequence number) so that a disconnect or a worker restart loses none of them. Replayed in
/// order on every (re)connection; the store deduplicates replays.
///
/// Not thread-safe on its own: owned by ``WorkerState``.
struct Outbox {
    let directory: String
    let limit: Int
    private(set) var pending: [UInt64: Mixlab_V1_WorkerMessage] = [:]
    private(set) var nextSeq: UInt64 = 1
    private(set) var dropped = 0

    init(directory: String, limit: Int) throws {
        self.directory = directory
        self.limit = limit
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasSuffix(".pb") {
            guard let seq = UInt64(name.dropLast(3)),
                let data = FileManager.default.contents(atPath: path(seq)),
                let message = try? Mixlab_V1_WorkerMessage(serializedBytes: data)
            else { continue }
            pending[seq] = message
            nextSeq = max(nextSeq, seq + 1)
        }
    }

    private func path(_ seq: UInt64) -> String { "\(directory)/\(seq).pb" }

    /// Numbers the report, writes it to disk and returns it with its sequence number set.
    mutating func add(_ make: (UInt64) -> Mixlab_V1_WorkerMessage) throws -> Mixlab_V1_WorkerMessage {
        if pending.count >= limit, let oldest = pending.filter({ if case .evals = $0.value.kind { true } else { false } }).keys.min() {
            remove(oldest)
            dropped += 1
        }
        let seq = nextSeq
        nextSeq += 1
        let message = make(seq)
        let data: Data = try message.serializedBytes()
        guard FileManager.default.createFile(atPath: path(seq), contents: data) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path(seq)])
        }
        pending[seq] = message
        return message
    }

    mutating func remove(_ seq: UInt64) {
        guard pending.removeValue(forKey: seq) != nil else { return }
        try? FileManager.default.removeItem(atPath: path(seq))
    }

    /// Everything unacknowledged, oldest first.
    var replay: [Mixlab_V1_WorkerMessage] { pending.keys.sorted().compactMap { pending[$0] } }
}
