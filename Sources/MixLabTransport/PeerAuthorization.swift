public import GRPCCore
import GRPCNIOTransportHTTP2
public import MixLabPKI

extension ServerContext {
    /// The verified identity of the caller, read from its client certificate.
    ///
    /// - Throws: `RPCError` `.unauthenticated` when the connection carries no certificate or the
    ///   certificate is not a MixLab one.
    public func peerIdentity() throws -> PeerIdentity {
        guard let context = transportSpecific as? HTTP2ServerTransport.Posix.Context,
            let certificate = context.peerCertificate
        else {
            throw RPCError(code: .unauthenticated, message: "no client certificate on this connection")
        }
        do {
            return try PeerIdentity(certificate: certificate)
        } catch {
            throw RPCError(code: .unauthenticated, message: "client certificate is not a MixLab certificate: \(error)")
        }
    }

    /// The caller's identity when its certificate carries one of `roles`.
    ///
    /// - Throws: `RPCError` `.permissionDenied` naming the role the call needs.
    public func requireRole(_ roles: MixLabRole..., for action: String) throws -> PeerIdentity {
        let identity = try peerIdentity()
        guard roles.contains(identity.role) else {
            let allowed = roles.map { "\($0)" }.joined(separator: " or ")
            throw RPCError(
                code: .permissionDenied,
                message: "\(action) needs a \(allowed) certificate; \(identity.name) presented a \(identity.role) certificate")
        }
        return identity
    }
}
