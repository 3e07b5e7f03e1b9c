import Dispatch
import Foundation
import MixLabCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a trainer process ended.
public enum TrainerExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(code: Int32)
    case signaled(signal: Int32)
    /// The process was reaped by someone else (e.g. the worker ignores SIGCHLD, which makes the
    /// kernel reap children itself), so its status is unknown.
    case unavailable

    public var exitCode: Int32? {
        if case .exited(let code) = self { code } else { nil }
    }

    public var signal: Int32? {
        if case .signaled(let signal) = self { signal } else { nil }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "killed by signal \(signal) (\(signalName(signal)))"
        case .unavailable: "gone with an unknown exit status"
        }
    }

    /// Decodes a `waitpid` status word.
    init(waitStatus status: Int32) {
        let terminatingSignal = status & 0x7f
        if terminatingSignal == 0 {
            self = .exited(code: (status >> 8) & 0xff)
        } else {
            self = .signaled(signal: terminatingSignal)
        }
    }
}

/// The conventional name of a signal number, e.g. `SIGKILL`.
public func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGHUP: "SIGHUP"
    case SIGINT: "SIGINT"
    case SIGQUIT: "SIGQUIT"
    case SIGILL: "SIGILL"
    case SIGABRT: "SIGABRT"
    case SIGBUS: "SIGBUS"
    case SIGFPE: "SIGFPE"
    case SIGKILL: "SIGKILL"
    case SIGSEGV: "SIGSEGV"
    case SIGPIPE: "SIGPIPE"
    case SIGALRM: "SIGALRM"
    case SIGTERM: "SIGTERM"
    case SIGUSR1: "SIGUSR1"
    case SIGUSR2: "SIGUSR2"
    default: "signal \(signal)"
    }
}

/// A trainer could not be started at all (the program does not exist, the log cannot be opened, …).
public struct TrainerStartError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Set when the cause is the sweep spec (e.g. an unknown placeholder), so callers can report it as bad input.
    public var inputError: MixLabInputError?

    public init(message: String, inputError: MixLabInputError? = nil) {
        self.message = message
        self.inputError = inputError
    }

    public var description: String { message }
}

/// A trainer process running in its own process group (its pgid is its pid), with stdin from
/// `/dev/null` and stdout and stderr appended to a log file.
///
/// A dedicated thread waits for the process. When it exits, every process left in its group is
/// killed with SIGKILL before the exit is reaped, so nothing the trainer started outlives it and
/// the group id cannot be reused while this object may still signal it.
public final class TrainerProcess: Sendable {
    /// The process id, which is also the process group id.
    public let pid: pid_t

    private struct State {
        var status: TrainerExitStatus?
        var sentSIGKILL = false
        var waiters: [CheckedContinuation<TrainerExitStatus, Never>] = []
    }

    private let state = Mutex(State())

    private init(pid: pid_t) {
        self.pid = pid
    }

    /// Starts `invocation` with posix_spawn in a new process group.
    ///
    /// - Parameters:
    ///   - environment: the complete environment of the new process.
    ///   - logPath: stdout and stderr are appended to this file (created with mode 0644 if missing).
    ///   - currentDirectory: the process's working directory; `nil` keeps this process's.
    public static func start(
        arguments: [String], environment: [String: String], logPath: String, currentDirectory: String? = nil
    ) throws(TrainerStartError) -> TrainerProcess {
        guard let program = arguments.first, !program.isEmpty else {
            throw TrainerStartError(message: "the command is empty")
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        posix_spawnattr_setpgroup(&attributes, 0)
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM] {
            sigaddset(&defaultSignals, signal)
        }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)

        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, logPath, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        // posix_spawn_file_actions_addchdir_np is not visible through Glibc: a shell changes directory, then execs.
        let spawned = currentDirectory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0] + arguments }
            ?? arguments

        let argv = spawned.map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let result = descriptorCreationLock.withLock { _ in
            posix_spawnp(&pid, spawned[0], &fileActions, &attributes, argv, envp)
        }
        guard result == 0 else {
            throw TrainerStartError(message: "cannot start \(program): \(String(cString: strerror(result)))"
                                        + (result == ENOENT ? " (not found in PATH or no such file)" : ""))
        }
        let process = TrainerProcess(pid: pid)
        let waiter = Thread { process.waitUntilExit() }
        waiter.name = "mixlab-wait-\(pid)"
        waiter.stackSize = 256 * 1024
        waiter.start()
        return process
    }

    /// Blocks the waiter thread until the process exits, kills what is left of its group, then reaps it.
    private func waitUntilExit() {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        typealias Waiter = CheckedContinuation<TrainerExitStatus, Never>
        let (status, waiters) = state.withLock { state -> (TrainerExitStatus, [Waiter]) in
            kill(-pid, SIGKILL)
            var waitStatus: Int32 = 0
            var reaped: pid_t
            repeat {
                reaped = waitpid(pid, &waitStatus, 0)
            } while reaped < 0 && errno == EINTR
            let status = reaped == pid ? TrainerExitStatus(waitStatus: waitStatus) : .unavailable
            state.status = status
            let waiters = state.waiters
            state.waiters = []
            return (status, waiters)
        }
        waiters.forEach { $0.resume(returning: status) }
    }

    /// The exit status once the process has exited and been reaped; `nil` while it runs.
    public var exitStatus: TrainerExitStatus? { state.withLock { $0.status } }

    /// Whether this object sent SIGKILL to the group while the trainer was still running
    /// (so a SIGKILL death was ours, not the OOM killer's).
    public var sentSIGKILL: Bool { state.withLock { $0.sentSIGKILL } }

    /// Waits (without blocking a thread of the cooperative pool) until the process has exited.
    public func waitForExit() async -> TrainerExitStatus {
        await withCheckedContinuation { continuation in
            let status: TrainerExitStatus? = state.withLock { state in
                if let status = state.status { return status }
                state.waiters.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// Sends `signal` to every process in the group; `false` when the trainer has already been reaped.
    @discardableResult
    public func signalGroup(_ signal: Int32) -> Bool {
        state.withLock { state in
            guard state.status == nil else { return false }
            if signal == SIGKILL { state.sentSIGKILL = true }
            return kill(-pid, signal) == 0
        }
    }

    /// Stops the whole group: SIGTERM, then SIGKILL once `grace` has passed if the trainer has not
    /// exited. Returns when the trainer has exited; whatever else was in the group is killed too.
    /// The grace is kept even when the calling task is cancelled.
    @discardableResult
    public func terminateGroup(grace: Duration) async -> TrainerExitStatus {
        if let status = exitStatus { return status }
        signalGroup(SIGTERM)
        let deadline = ContinuousClock.now + grace
        while exitStatus == nil, ContinuousClock.now < deadline {
            await sleepIgnoringCancellation(.milliseconds(50))
        }
        if exitStatus == nil { signalGroup(SIGKILL) }
        return await waitForExit()
    }
}

/// Sleeps for `duration` even if the current task is cancelled (used where a deadline must hold
/// while a worker shuts down).
func sleepIgnoringCancellation(_ duration: Duration) async {
    let (seconds, attoseconds) = duration.components
    let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) {
            continuation.resume()
        }
    }
}
