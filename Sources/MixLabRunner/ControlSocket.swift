import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The Unix-domain socket a trainer connects to (`MIXLAB_CONTROL`).
///
/// One thread per socket polls the listener, the accepted connections and a wake-up pipe, splits
/// what it reads into lines and hands them to `onEvent`. Replies are written with ``send(_:to:)``
/// from any thread.
public final class ControlSocket: Sendable {
    /// What the socket thread reports.
    public enum Event: Sendable {
        case connected(connection: Int32)
        /// A complete line, without its newline.
        case line(connection: Int32, bytes: [UInt8])
        /// Bytes after the last newline when a connection ended (e.g. the trainer died mid-write).
        case unterminated(connection: Int32, bytes: [UInt8])
        /// A line grew past the limit before its newline; the connection has been closed.
        case oversized(connection: Int32, prefix: [UInt8], length: Int)
        case closed(connection: Int32)
        /// After ``finish()``: every connection has reached end of file and the thread has stopped.
        case finished
    }

    /// The longest socket path accepted (`sun_path` holds 108 bytes including the terminator).
    public static let maximumPathBytes = 100

    public let path: String
    private let listener: Int32
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let maxLineBytes: Int

    private struct State {
        var connections: Set<Int32> = []
        var finishRequested = false
        var closeRequested = false
        var threadDone = false
    }

    private let state = Mutex(State())

    /// Creates, binds and listens on a socket at `path` (an existing file there is replaced).
    public init(path: String, maxLineBytes: Int) throws(TrainerStartError) {
        guard path.utf8.count < ControlSocket.maximumPathBytes else {
            throw TrainerStartError(message: "control socket path \(path) is longer than "
                                        + "\(ControlSocket.maximumPathBytes - 1) bytes; use a shorter work directory")
        }
        self.path = path
        self.maxLineBytes = maxLineBytes
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
                                  | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard listener >= 0 else { throw TrainerStartError(message: "socket(): \(String(cString: strerror(errno)))") }
        unlink(path)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0, listen(listener, 16) == 0 else {
            let problem = String(cString: strerror(errno))
            Glibc.close(listener)
            throw TrainerStartError(message: "cannot listen on \(path): \(problem)")
        }
        var pipeEnds: [Int32] = [0, 0]
        let piped = descriptorCreationLock.withLock { _ -> Bool in
            guard pipe(&pipeEnds) == 0 else { return false }
            pipeEnds.forEach { setCloseOnExecAndNonBlocking($0) }
            return true
        }
        guard piped else {
            Glibc.close(listener)
            throw TrainerStartError(message: "pipe(): \(String(cString: strerror(errno)))")
        }
        self.listener = listener
        self.wakeRead = pipeEnds[0]
        self.wakeWrite = pipeEnds[1]
    }

    /// Starts the socket thread. `onEvent` is called on that thread, in order.
    public func start(onEvent: @escaping @Sendable (Event) -> Void) {
        let thread = Thread { self.run(onEvent: onEvent) }
        thread.name = "mixlab-control"
        thread.stackSize = 256 * 1024
        thread.start()
    }

    /// Writes one line (a newline is added) to a connection without blocking; `false` if it could not.
    @discardableResult
    public func send(_ line: String, to connection: Int32) -> Bool {
        let bytes = Array((line + "\n").utf8)
        return state.withLock { state in
            guard state.connections.contains(connection) else { return false }
            let written = bytes.withUnsafeBytes {
                Glibc.send(connection, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
            }
            return written == bytes.count
        }
    }

    /// Stops accepting new connections (after taking any already queued) and reports
    /// ``Event/finished`` once every connection has reached end of file.
    public func finish() {
        state.withLock { $0.finishRequested = true }
        wake()
    }

    /// Closes the descriptors of a socket whose thread was never started.
    public func discard() {
        Glibc.close(listener)
        unlink(path)
        state.withLock { state in
            state.threadDone = true
            Glibc.close(wakeRead)
            Glibc.close(wakeWrite)
        }
    }

    /// Closes everything now; the thread stops soon after and no more events are reported.
    public func close() {
        state.withLock { $0.closeRequested = true }
        wake()
    }

    private func wake() {
        state.withLock { state in
            guard !state.threadDone else { return }
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    private func run(onEvent: @Sendable (Event) -> Void) {
        var splitters: [Int32: LineSplitter] = [:]
        var listening = true
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)

        func closeConnection(_ connection: Int32) {
            state.withLock { state in
                state.connections.remove(connection)
                Glibc.close(connection)
            }
            splitters[connection] = nil
        }

        func acceptPending() {
            while true {
                let connection = descriptorCreationLock.withLock { _ -> Int32 in
                    let connection = accept(listener, nil, nil)
                    if connection >= 0 { setCloseOnExecAndNonBlocking(connection) }
                    return connection
                }
                guard connection >= 0 else { return }
                state.withLock { _ = $0.connections.insert(connection) }
                splitters[connection] = LineSplitter(maxLineBytes: maxLineBytes)
                onEvent(.connected(connection: connection))
            }
        }

        loop: while true {
            let (finishRequested, closeRequested) = state.withLock { ($0.finishRequested, $0.closeRequested) }
            if closeRequested { break loop }
            if finishRequested, listening {
                acceptPending()
                Glibc.close(listener)
                unlink(path)
                listening = false
            }
            if finishRequested, splitters.isEmpty {
                onEvent(.finished)
                break loop
            }
            var pollSet = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
            if listening { pollSet.append(pollfd(fd: listener, events: Int16(POLLIN), revents: 0)) }
            let connections = splitters.keys.sorted()
            pollSet += connections.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollSet, nfds_t(pollSet.count), 1000)
            if ready < 0 {
                if errno == EINTR { continue }
                break loop
            }
            if pollSet[0].revents != 0 {
                var drain = [UInt8](repeating: 0, count: 64)
                while read(wakeRead, &drain, drain.count) > 0 {}
            }
            if listening, pollSet[1].revents != 0 { acceptPending() }
            for entry in pollSet.dropFirst(listening ? 2 : 1) where entry.revents != 0 {
                let connection = entry.fd
                let count = read(connection, &buffer, buffer.count)
                if count < 0, errno == EAGAIN || errno == EINTR { continue }
                if count <= 0 {
                    if let rest = splitters[connection]?.finish() {
                        onEvent(.unterminated(connection: connection, bytes: rest))
                    }
                    closeConnection(connection)
                    onEvent(.closed(connection: connection))
                    continue
                }
                for piece in splitters[connection, default: LineSplitter(maxLineBytes: maxLineBytes)]
                    .append(buffer[0..<count]) {
                    switch piece {
                    case .line(let bytes):
                        onEvent(.line(connection: connection, bytes: bytes))
                    case .oversized(let prefix, let length):
                        onEvent(.oversized(connection: connection, prefix: prefix, length: length))
                        closeConnection(connection)
                        onEvent(.closed(connection: connection))
                    }
                }
            }
        }
        if listening {
            Glibc.close(listener)
            unlink(path)
        }
        for connection in splitters.keys { closeConnection(connection) }
        Glibc.close(wakeRead)
        state.withLock { state in
            state.threadDone = true
            Glibc.close(wakeWrite)
        }
    }
}

/// Held while a descriptor is created without `O_CLOEXEC` and until the flag is set, and while a
/// trainer is spawned, so no trainer inherits another attempt's pipe or connection.
/// (`pipe2` and `accept4`, which set the flag atomically, are not visible to Swift through Glibc.)
let descriptorCreationLock = Mutex(())

func setCloseOnExecAndNonBlocking(_ descriptor: Int32) {
    _ = fcntl(descriptor, F_SETFD, fcntl(descriptor, F_GETFD) | FD_CLOEXEC)
    _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
}
