import Foundation
import Glibc
import Synchronization

/// A failure to start, or to hear from, a child process; the text names the command and shows the
/// end of its output.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A daemon or tool started as a real subprocess (by `mixlab demo` and the integration tests):
/// spawned with posix_spawn, its stdout and stderr appended to a log file, and reaped with
/// non-blocking `waitpid` polls so a caller never parks a Swift concurrency thread.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    public let logPath: String
    public let arguments: [String]
    private let exitStatus = Mutex<Int32?>(nil)

    /// Starts `executable` with `arguments`; `environment` is added to (and overrides) this process's.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logPath: String) throws(ChildProcessError) {
        self.logPath = logPath
        self.arguments = [executable] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = self.arguments.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var cEnvironment = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in cEnvironment { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else {
            throw ChildProcessError("cannot start \(executable): \(String(cString: strerror(spawned)))")
        }
        self.pid = pid
    }

    /// Everything the process printed so far.
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The raw wait status once the process has exited (nil while it runs).
    public func poll() -> Int32? {
        exitStatus.withLock { known in
            if let known { return known }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { known = status }
            return known
        }
    }

    /// Waits for the process to exit and returns its exit code (128 + signal when killed).
    @discardableResult
    public func wait(timeout: Duration = .seconds(120)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = poll() {
                return status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ChildProcessError("\(arguments.joined(separator: " ")) did not exit within \(timeout); output:\n\(output.suffix(3000))")
    }

    /// Sends `signal` unless the process has already exited.
    public func signal(_ signal: Int32) {
        if poll() == nil { kill(pid, signal) }
    }

    /// Asks the process to stop (SIGTERM) and waits up to `grace` for it; kills it (SIGKILL) after
    /// that. Returns the exit code and whether it stopped by itself.
    @discardableResult
    public func terminate(grace: Duration = .seconds(20)) async -> (status: Int32, graceful: Bool) {
        signal(SIGTERM)
        if let status = try? await wait(timeout: grace) { return (status, true) }
        signal(SIGKILL)
        return ((try? await wait(timeout: .seconds(10))) ?? 128 + SIGKILL, false)
    }

    /// Waits until the output contains `text`; fails with the output if the process exits or time runs out.
    public func waitForOutput(containing text: String, timeout: Duration = .seconds(60)) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = output
            if current.contains(text) { return current }
            if poll() != nil {
                throw ChildProcessError("\(arguments.joined(separator: " ")) exited before printing \"\(text)\":\n\(current.suffix(3000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ChildProcessError("\(arguments.joined(separator: " ")) did not print \"\(text)\" within \(timeout):\n\(output.suffix(3000))")
    }

    deinit {
        if poll() == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
    }
}
