import GRPCCore
public import GRPCNIOTransportHTTP2
public import MixLabPKI
public import MixLabRPC

extension MixLabTLS {
    /// Runs `body` with an admin client of the coordinator at `host:port`, over mutual TLS with a
    /// client certificate; the connection is closed when `body` returns.
    public static func withAdminClient<Result: Sendable>(
        host: String, port: Int, materials: TLSMaterials,
        _ body: (Mixlab_V1_Admin.Client<HTTP2ClientTransport.Posix>) async throws -> Result
    ) async throws -> Result {
        let transport = try clientTransport(host: host, port: port, materials: materials)
        return try await withGRPCClient(transport: transport) { client in
            try await body(Mixlab_V1_Admin.Client(wrapping: client))
        }
    }
}
