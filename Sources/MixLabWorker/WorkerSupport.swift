import Foundation
import Glibc
import MixLabRPC

/// Pairs a trainer's `next` with the coordinator's `MixtureReply`.
actor MixtureReplies {
    private var waiting: [UInt64: AsyncStream<Mixlab_V1_MixtureReply>.Continuation] = [:]
    private var counter: UInt64 = 0

    /// A request number and the stream its reply arrives on (it ends without one if the session drops).
    func open() -> (UInt64, AsyncStream<Mixlab_V1_MixtureReply>) {
        counter += 1
        let (stream, continuation) = AsyncStream.makeStream(of: Mixlab_V1_MixtureReply.self, bufferingPolicy: .bufferingNewest(1))
        waiting[counter] = continuation
        return (counter, stream)
    }

    func deliver(_ reply: Mixlab_V1_MixtureReply) {
        waiting[reply.seq]?.yield(reply)
    }

    func forget(_ seq: UInt64) {
        waiting.removeValue(forKey: seq)?.finish()
    }

    /// Ends every pending request (the session that would have answered is gone).
    func abandonAll() {
        for continuation in waiting.values { continuation.finish() }
        waiting.removeAll()
    }
}

/// Log streams the coordinator asked to follow, so they can be cancelled by request id.
actor LogFollowers {
    private var cancelled: Set<String> = []

    func cancel(_ id: String) { cancelled.insert(id) }

    func isCancelled(_ id: String) -> Bool { cancelled.contains(id) }

    func forget(_ id: String) { cancelled.remove(id) }
}

/// Remembers the process group of every running trainer in a file, so a worker that was killed
/// (and so could not stop its trainers) stops the leftovers when it starts again: no orphans.
struct OrphanRegister: Sendable {
    let directory: String

    init(directory: String) {
        self.directory = directory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    private func file(_ run: String) -> String { "\(directory)/" + run.replacingOccurrences(of: "/", with: "_") }

    func record(group: Int32, run: String) {
        _ = FileManager.default.createFile(atPath: file(run), contents: Data("\(group)\n".utf8))
    }

    func forget(run: String) {
        try? FileManager.default.removeItem(atPath: file(run))
    }

    /// Kills every recorded group that still exists; returns how many there were.
    func reapLeftovers() -> Int {
        var reaped = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            let path = "\(directory)/\(name)"
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                let group = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), group > 1,
                kill(-group, 0) == 0
            {
                kill(-group, SIGKILL)
                reaped += 1
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        return reaped
    }
}
