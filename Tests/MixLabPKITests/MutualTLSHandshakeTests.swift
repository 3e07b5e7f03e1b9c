import Foundation
import MixLabPKI
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import X509

/// Real TLS 1.3 handshakes over loopback with swift-nio-ssl, configured the way the daemons are: our CA is the
/// only trust root and the server requires a client certificate.
@Suite("Mutual TLS over loopback")
struct MutualTLSHandshakeTests {
    /// What one connection attempt produced on each side.
    struct Outcome: Sendable {
        /// The server saw the client's request (so the handshake, client certificate included, succeeded).
        var serverReceived: String?
        var serverError: String?
        /// The identity the server read from the verified peer certificate.
        var peer: PeerIdentity?
        var tlsVersion: TLSVersion?
        var clientReceived: String?
        var clientError: String?

        var accepted: Bool { serverReceived == "ping" && clientReceived == "pong" && serverError == nil }
    }

    @Test("A valid worker certificate is accepted over TLS 1.3, and the server reads its role")
    func acceptsWorker() async throws {
        let pki = try PKIFixture()
        let server = try await serverMaterials(pki)
        let (worker, _) = try pki.issue(.worker, "w1")
        let outcome = try await exchange(server: server, client: worker, trusting: pki.authority.certificatePEM)
        #expect(outcome.accepted, "\(outcome)")
        #expect(outcome.peer == PeerIdentity(name: "w1", role: .worker))
        #expect(outcome.tlsVersion == .tlsv13)
    }

    @Test("No client certificate is refused")
    func refusesMissingClientCertificate() async throws {
        let pki = try PKIFixture()
        let server = try await serverMaterials(pki)
        let outcome = try await exchange(server: server, client: nil, trusting: pki.authority.certificatePEM)
        expectRefused(outcome, server: "PEER_DID_NOT_RETURN_A_CERTIFICATE", client: "CERTIFICATE_REQUIRED")
    }

    @Test("A client certificate from a foreign CA is refused")
    func refusesForeignCertificate() async throws {
        let pki = try PKIFixture(), foreign = try PKIFixture()
        let server = try await serverMaterials(pki)
        let (stranger, _) = try foreign.issue(.worker, "w1")
        let outcome = try await exchange(server: server, client: stranger, trusting: pki.authority.certificatePEM)
        expectRefused(outcome, server: "CERTIFICATE_VERIFY_FAILED", client: "UNKNOWN_CA")
    }

    @Test("An expired client certificate from our CA is refused")
    func refusesExpiredCertificate() async throws {
        let pki = try PKIFixture()
        let server = try await serverMaterials(pki)
        let (expired, _) = try pki.issue(.worker, "old", validity: expiredValidity)
        let outcome = try await exchange(server: server, client: expired, trusting: pki.authority.certificatePEM)
        expectRefused(outcome, server: "CERTIFICATE_VERIFY_FAILED", client: "CERTIFICATE_EXPIRED")
    }

    /// The server never saw the request and failed the handshake for the stated reason (BoringSSL's error name),
    /// and the client's exchange failed. In TLS 1.3 the client finishes its side first, so it learns of the
    /// refusal either as the server's alert (the `client` reason, usually) or as "I/O on closed channel" when
    /// the server has already closed; only the server's reason is deterministic.
    private func expectRefused(
        _ outcome: Outcome, server serverReason: String, client clientReason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(outcome.serverReceived == nil, "\(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.serverError?.contains(serverReason) == true, "\(outcome)", sourceLocation: sourceLocation)
        let clientSawRefusal = outcome.clientError.map { $0.contains(clientReason) || $0.contains("closed channel") }
        #expect(clientSawRefusal == true, "\(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.clientReceived != "pong", "\(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.peer == nil, sourceLocation: sourceLocation)
    }

    private func serverMaterials(_ pki: PKIFixture) async throws -> TLSMaterials {
        let (_, files) = try pki.issue(.coordinator, "head")
        return try await TLSMaterials.load(files, expectedRole: .coordinator)
    }

    /// Serves exactly one connection and runs one client against it: the client sends "ping", the server
    /// answers "pong". Either side's failure is recorded, not thrown.
    private func exchange(server: TLSMaterials, client: IssuedCertificate?, trusting caPEM: String) async throws
        -> Outcome
    {
        let roots = NIOSSLTrustRoots.certificates(try NIOSSLCertificate.fromPEMBytes(Array(caPEM.utf8)))
        var serverConfiguration = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(server.certificatePEM.utf8)).map {
                .certificate($0)
            },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(server.privateKeyPEM.utf8), format: .pem)),
            trustRoots: roots)
        serverConfiguration.minimumTLSVersion = .tlsv13
        let serverContext = try NIOSSLContext(configuration: serverConfiguration)

        var clientConfiguration = TLSConfiguration.makeClientConfiguration()
        clientConfiguration.minimumTLSVersion = .tlsv13
        clientConfiguration.trustRoots = roots
        if let client {
            clientConfiguration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(client.certificatePEM.utf8))
                .map { .certificate($0) }
            clientConfiguration.privateKey = .privateKey(
                try NIOSSLPrivateKey(bytes: Array(client.privateKeyPEM.utf8), format: .pem))
        }
        let clientContext = try NIOSSLContext(configuration: clientConfiguration)

        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let port = try #require(listener.channel.localAddress?.port)

        return try await withTimeout(seconds: 60) {
            async let served = Self.serveOne(listener)
            async let answered = Self.request(port: port, context: clientContext)
            var outcome = await served
            (outcome.clientReceived, outcome.clientError) = await answered
            return outcome
        }
    }

    private static func serveOne(
        _ listener: NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>
    ) async -> Outcome {
        var outcome = Outcome()
        do {
            try await listener.executeThenClose { connections in
                for try await connection in connections {
                    do {
                        try await connection.executeThenClose { inbound, outbound in
                            for try await chunk in inbound {
                                outcome.serverReceived = (outcome.serverReceived ?? "") + String(buffer: chunk)
                                guard outcome.serverReceived == "ping" else { continue }
                                let peer = try await connection.channel.nioSSL_peerCertificate().get()
                                if let peer {
                                    outcome.peer = try PeerIdentity(
                                        certificate: Certificate(derEncoded: peer.toDERBytes()))
                                }
                                outcome.tlsVersion = try await connection.channel.nioSSL_tlsVersion().get()
                                try await outbound.write(ByteBuffer(string: "pong"))
                                break
                            }
                        }
                    } catch {
                        outcome.serverError = "\(error)"
                    }
                    return
                }
            }
        } catch {
            outcome.serverError = "listener: \(error)"
        }
        return outcome
    }

    private static func request(port: Int, context: NIOSSLContext) async -> (String?, String?) {
        var received: String?
        do {
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(string: "ping"))
                for try await chunk in inbound {
                    received = (received ?? "") + String(buffer: chunk)
                    if received == "pong" { break }
                }
            }
            return (received, nil)
        } catch {
            return (received, "\(error)")
        }
    }
}

/// Runs `body`, failing instead of hanging if it takes longer than `seconds` (a guard, not a timing assertion).
func withTimeout<T: Sendable>(seconds: Int, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw TimeoutError(seconds: seconds)
        }
        return value
    }
}

struct TimeoutError: Error, CustomStringConvertible {
    var seconds: Int
    var description: String { "gave up after \(seconds) s" }
}
