import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The per-attempt log file: the trainer's stdout and stderr, plus lines MixLab adds, each
/// starting with ``marker`` so they stand out from the trainer's own output.
public struct AttemptLog: Sendable, Hashable {
    /// The prefix of every line MixLab writes into a trainer's log.
    public static let marker = "[mixlab]"

    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Creates the file if it is missing (mode 0644), keeping anything already in it.
    public func create() throws(TrainerStartError) {
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TrainerStartError(message: "cannot open log \(path): \(String(cString: strerror(errno)))")
        }
        close(descriptor)
    }

    /// Appends MixLab's own lines, each prefixed with ``marker``.
    public func appendNote(_ text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.map { "\(AttemptLog.marker) \($0)\n" }.joined()
        let descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        let bytes = Array(body.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// The last `lines` lines of the log (reading at most the final `maxBytes` of the file).
    public func tail(lines: Int, maxBytes: Int = 256 * 1024) -> String {
        guard lines > 0, let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        guard let size = try? handle.seekToEnd() else { return "" }
        let start = size > UInt64(maxBytes) ? size - UInt64(maxBytes) : 0
        try? handle.seek(toOffset: start)
        guard let data = try? handle.readToEnd() else { return "" }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        var all = text.split(separator: "\n", omittingEmptySubsequences: false)
        if start > 0, !all.isEmpty { all.removeFirst() }
        return all.suffix(lines).joined(separator: "\n")
    }
}

/// How many processes the OOM killer has killed, from the memory cgroup this process is in when
/// that is readable (cgroup v2 `memory.events`, v1 `memory.oom_control`), else system-wide
/// (`/proc/vmstat`). Compared before and after a trainer's SIGKILL to tell OOM from other kills.
enum OOMKillCounter {
    static func read() -> Int? {
        for candidate in candidates() {
            guard let text = try? String(contentsOfFile: candidate, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                if fields.count == 2, fields[0] == "oom_kill", let count = Int(fields[1]) { return count }
            }
        }
        return nil
    }

    private static func candidates() -> [String] {
        var paths: [String] = []
        if let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                if parts[0] == "0", parts[1].isEmpty {
                    paths.append("/sys/fs/cgroup\(parts[2])/memory.events")
                } else if parts[1].split(separator: ",").contains("memory") {
                    paths.append("/sys/fs/cgroup/memory\(parts[2])/memory.oom_control")
                }
            }
        }
        return paths + ["/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control", "/proc/vmstat"]
    }
}
