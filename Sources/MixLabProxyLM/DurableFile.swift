import Foundation

/// Replaces a file so that readers see the old or the new contents whole, and the new contents
/// are on disk before the call returns (POSIX: write a temporary file, fsync it, rename it over the
/// target, fsync the folder).
enum DurableFile {
    /// A failed system call: what was being done and the system's reason.
    struct Failure: Error {
        var step: String
        var reason: String

        init(_ step: String, errorNumber: Int32 = errno) {
            self.step = step
            self.reason = String(cString: strerror(errorNumber))
        }
    }

    static func replace(_ path: String, with bytes: [UInt8]) throws(Failure) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        // A UUID, not the process id: two hosts writing to shared storage can share a process id.
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
        let file = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw Failure("creating \(temporary)") }
        do throws(Failure) {
            try writeAll(bytes, to: file)
            guard fsync(file) == 0 else { throw Failure("flushing \(temporary)") }
        } catch {
            close(file)
            unlink(temporary)
            throw error
        }
        guard close(file) == 0 else {
            let failure = Failure("closing \(temporary)")
            unlink(temporary)
            throw failure
        }
        guard rename(temporary, path) == 0 else {
            let failure = Failure("renaming \(temporary)")
            unlink(temporary)
            throw failure
        }
        try syncFolder(folder)
    }

    private static func writeAll(_ bytes: [UInt8], to file: Int32) throws(Failure) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in write(file, buffer.baseAddress! + written, buffer.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure("writing")
            }
            written += count
        }
    }

    /// Makes the rename itself durable.
    private static func syncFolder(_ folder: String) throws(Failure) {
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard directory >= 0 else { throw Failure("opening folder \(folder) to flush it") }
        defer { close(directory) }
        // Some file systems cannot flush a folder (EINVAL); their renames are as durable as they get.
        guard fsync(directory) == 0 || errno == EINVAL else { throw Failure("flushing folder \(folder)") }
    }
}
