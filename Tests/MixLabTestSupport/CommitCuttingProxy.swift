import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP proxy on 127.0.0.1 in front of a PostgreSQL server that can lose a COMMIT's answer: once
/// armed, it forwards the next message containing `COMMIT` (or another marker, for a statement
/// that commits on its own) to the server, throws away everything the server sends back on that
/// connection and then closes it. The write commits; the client only sees its connection drop, the
/// way it would if the network failed at that moment.
public final class CommitCuttingProxy: Sendable {
    /// The port clients connect to.
    public let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var armed: [UInt8]?
        var stall = false
        var cuts = 0
        var stopped = false
    }

    /// Starts listening; connections are forwarded to `127.0.0.1:upstreamPort`.
    public init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw PostgresTestCluster.ClusterError("proxy: socket() failed: errno \(errno)") }
        var address = CommitCuttingProxy.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw PostgresTestCluster.ClusterError("proxy: cannot listen on 127.0.0.1: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in
            // Polls rather than blocking in accept(), so the thread ends soon after stop() and
            // never keeps the test process alive.
            defer { close(listener) }
            while !self.state.withLock({ $0.stopped }) {
                var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
                guard poll(&ready, 1, 100) > 0 else { continue }
                let client = accept(listener, nil, nil)
                if client >= 0 { self.serve(client) }
            }
        }.start()
    }

    /// Makes the proxy lose the answer to the next message containing `marker` (by default the
    /// next COMMIT). With `stall` the connection is then kept open and silent instead of closed,
    /// until the client closes it.
    public func armCutAfterNextCommit(marker: String = "COMMIT", stall: Bool = false) {
        state.withLock {
            $0.armed = Array(marker.utf8)
            $0.stall = stall
        }
    }

    /// How many COMMIT answers the proxy has thrown away.
    public var cuts: Int { state.withLock { $0.cuts } }

    /// Stops accepting connections (open ones end when either side closes).
    public func stop() { state.withLock { $0.stopped = true } }

    private func serve(_ client: Int32) {
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: upstreamPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard upstream >= 0, connected == 0 else {
            close(client)
            if upstream >= 0 { close(upstream) }
            return
        }
        let link = Link(client: client, upstream: upstream)
        Thread { [self] in
            self.forwardUntilCut(from: client, to: upstream, link: link)
            link.finish()
        }.start()
        Thread {
            CommitCuttingProxy.forwardUnlessMuted(from: upstream, to: client, link: link)
            link.finish()
        }.start()
    }

    /// Disarms and counts a cut when the proxy is armed and `chunk` carries the marker.
    private func takeArm(ifMarkerIn chunk: [UInt8]) -> (cut: Bool, stall: Bool) {
        state.withLock { state in
            guard let marker = state.armed, Self.contains(chunk, marker) else { return (false, false) }
            state.armed = nil
            state.cuts += 1
            return (true, state.stall)
        }
    }

    /// Client → server. A COMMIT while armed mutes the answers, is still forwarded (the server
    /// commits) and then, once the server has had time to answer, the connection is closed.
    private func forwardUntilCut(from source: Int32, to destination: Int32, link: Link) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            let chunk = Array(buffer[0..<count])
            let (cut, stall) = takeArm(ifMarkerIn: chunk)
            if cut { link.muted.store(true, ordering: .sequentiallyConsistent) }
            guard Self.sendAll(chunk, to: destination) else { return }
            if cut, !stall {
                usleep(500_000)
                return
            }
        }
    }

    /// Server → client, dropping everything once the link is muted.
    private static func forwardUnlessMuted(from source: Int32, to destination: Int32, link: Link) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            if link.muted.load(ordering: .sequentiallyConsistent) { continue }
            guard sendAll(Array(buffer[0..<count]), to: destination) else { return }
        }
    }

    private static func sendAll(_ bytes: [UInt8], to socket: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(socket, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// One proxied connection: both sockets close when both directions have ended.
    private final class Link: Sendable {
        let client: Int32
        let upstream: Int32
        let muted = Atomic(false)
        private let ended = Atomic(0)

        init(client: Int32, upstream: Int32) {
            self.client = client
            self.upstream = upstream
        }

        func finish() {
            shutdown(client, Int32(SHUT_RDWR))
            shutdown(upstream, Int32(SHUT_RDWR))
            if ended.add(1, ordering: .sequentiallyConsistent).newValue == 2 {
                close(client)
                close(upstream)
            }
        }
    }
}
