import Foundation
import MixLabTestSupport
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// grpc-swift-nio-transport accepts TLS 1.2; MixLab closes any connection that did not negotiate TLS 1.3.
@Suite struct TLSVersionTests {
    /// Connects with a valid client certificate, limited to `version`; returns whether the server
    /// closed the connection by itself within a few seconds of the handshake.
    static func serverCloses(cluster: LoopbackCluster, maximumVersion: TLSVersion) async throws -> Bool {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.maximumTLSVersion = maximumVersion
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(cluster.certs + "/ca.pem"))
        tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cluster.certs + "/alice.pem").map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: cluster.certs + "/alice.key", format: .pem))
        tls.applicationProtocols = ["h2"]
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                }
            }
            .connect(host: "127.0.0.1", port: cluster.port).get()
        let closed = channel.closeFuture
        let result = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask { try? await closed.get(); return true }
            group.addTask { try await Task.sleep(for: .seconds(5)); return false }
            let first = try await group.next()!
            // Waiting on a close future ignores cancellation: close it ourselves to end that task.
            try? await channel.close()
            group.cancelAll()
            return first
        }
        return result
    }

    @Test func tls12ConnectionsAreClosedAndTls13OnesKept() async throws {
        let cluster = try LoopbackCluster(workerNames: [])
        try await cluster.startCoordinator()
        #expect(try await Self.serverCloses(cluster: cluster, maximumVersion: .tlsv12))
        #expect(try await !Self.serverCloses(cluster: cluster, maximumVersion: .tlsv13))
    }
}
