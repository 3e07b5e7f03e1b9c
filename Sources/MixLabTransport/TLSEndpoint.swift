import GRPCCore
public import GRPCNIOTransportHTTP2
public import MixLabPKI
import NIOCore
import NIOSSL
import NIOTLS

/// Builds the gRPC transports MixLab speaks: HTTP/2 over mutually authenticated TLS 1.3, trusting
/// only the MixLab CA. There is no plaintext mode.
///
/// grpc-swift-nio-transport hard-codes TLS 1.2 as the minimum version, so the server adds a
/// ``TLSVersionGuard`` to every accepted connection that closes it when the handshake settled on
/// anything older than TLS 1.3.
public enum MixLabTLS {
    /// The coordinator's listening transport: client certificates are required and must chain to
    /// the CA; a client certificate's host name is not checked (workers roam).
    public static func serverTransport(
        host: String, port: Int, materials: TLSMaterials
    ) -> HTTP2ServerTransport.Posix {
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                // Right behind the TLS handler, so it sees the handshake event before HTTP/2 does.
                let tls = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)
                try channel.pipeline.syncOperations.addHandler(TLSVersionGuard(), position: .after(tls))
            }
        }
        config.connection.maxIdleTime = nil
        return HTTP2ServerTransport.Posix(
            address: .ipv4(host: host, port: port),
            transportSecurity: .mTLS(
                certificateChain: [.bytes(Array(materials.certificatePEM.utf8), format: .pem)],
                privateKey: .bytes(Array(materials.privateKeyPEM.utf8), format: .pem)
            ) { tls in
                tls.trustRoots = .certificates([.bytes(Array(materials.caPEM.utf8), format: .pem)])
                tls.clientCertificateVerification = .noHostnameVerification
            },
            config: config)
    }

    /// A client transport to the coordinator at `host:port`, presenting `materials`' certificate
    /// and verifying the coordinator's certificate (including its host name) against the CA.
    public static func clientTransport(
        host: String, port: Int, materials: TLSMaterials
    ) throws -> HTTP2ClientTransport.Posix {
        try clientTransport(
            host: host, port: port, caPEM: materials.caPEM, certificatePEM: materials.certificatePEM,
            privateKeyPEM: materials.privateKeyPEM)
    }

    /// A client transport from PEM text, unchecked: for tools and tests that need to present a
    /// certificate ``TLSMaterials`` would refuse (`certificatePEM` nil presents none).
    public static func clientTransport(
        host: String, port: Int, caPEM: String, certificatePEM: String?, privateKeyPEM: String?
    ) throws -> HTTP2ClientTransport.Posix {
        // An IP literal is dialled directly (an IP is no TLS server name); the chain is still
        // verified against the MixLab CA and must carry the serverAuth usage of a coordinator.
        let target: any ResolvableTarget
        if host.split(separator: ".").count == 4, host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) {
            target = ResolvableTargets.IPv4(addresses: [SocketAddress.IPv4(host: host, port: port)])
        } else if host.contains(":") {
            target = ResolvableTargets.IPv6(addresses: [SocketAddress.IPv6(host: host, port: port)])
        } else {
            target = ResolvableTargets.DNS(host: host, port: port)
        }
        var config = HTTP2ClientTransport.Posix.Config.defaults
        config.backoff = .init(initial: .milliseconds(200), max: .seconds(5), multiplier: 1.6, jitter: 0.2)
        return try HTTP2ClientTransport.Posix(
            target: target,
            transportSecurity: .tls(
                .init(
                    certificateChain: certificatePEM.map { [.bytes(Array($0.utf8), format: .pem)] } ?? [],
                    privateKey: privateKeyPEM.map { .bytes(Array($0.utf8), format: .pem) },
                    serverCertificateVerification: .fullVerification,
                    trustRoots: .certificates([.bytes(Array(caPEM.utf8), format: .pem)]))),
            config: config)
    }
}

/// Closes a server connection whose TLS handshake negotiated a version older than TLS 1.3.
final class TLSVersionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let version = try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).tlsVersion
            if version != .tlsv13 {
                context.close(promise: nil)
                return
            }
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }
}
