import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MixLabPKI
import MixLabRPC
import MixLabTestSupport
import MixLabTransport
import Testing

/// Mutual TLS is not optional: every connection must present a certificate from the MixLab CA,
/// valid now, with a role allowed to make the call.
@Suite(.serialized) struct SecurityTests {
    /// Calls `ListSweeps` presenting the given certificate (nil: none).
    static func listSweeps(_ cluster: LoopbackCluster, certificatePEM: String?, keyPEM: String?) async throws {
        let ca = try String(contentsOfFile: cluster.certs + "/ca.pem", encoding: .utf8)
        let transport = try MixLabTLS.clientTransport(
            host: "127.0.0.1", port: cluster.port, caPEM: ca, certificatePEM: certificatePEM, privateKeyPEM: keyPEM)
        try await withGRPCClient(transport: transport) { client in
            var options = CallOptions.defaults
            options.timeout = .seconds(20)
            _ = try await Mixlab_V1_Admin.Client(wrapping: client).listSweeps(.init(), options: options)
        }
    }

    static func pem(_ cluster: LoopbackCluster, _ name: String) throws -> (String, String) {
        (try String(contentsOfFile: "\(cluster.certs)/\(name).pem", encoding: .utf8),
         try String(contentsOfFile: "\(cluster.certs)/\(name).key", encoding: .utf8))
    }

    @Test func refusesConnectionsWithoutAValidClientCertificate() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try await cluster.startCoordinator()

        let (alice, aliceKey) = try Self.pem(cluster, "alice")
        try await Self.listSweeps(cluster, certificatePEM: alice, keyPEM: aliceKey)  // the valid client is served

        await #expect(throws: RPCError.self, "no client certificate") {
            try await Self.listSweeps(cluster, certificatePEM: nil, keyPEM: nil)
        }

        let foreign = try CertificateAuthority.create(commonName: "Someone Else's CA")
        let impostor = try foreign.issue(role: .client, name: "alice")
        await #expect(throws: RPCError.self, "a certificate from a foreign CA") {
            try await Self.listSweeps(cluster, certificatePEM: impostor.certificatePEM, keyPEM: impostor.privateKeyPEM)
        }

        let ca = try CertificateAuthority.load(directory: cluster.certs)
        let past = Date().addingTimeInterval(-10 * 86_400)
        let expired = try ca.issue(
            role: .client, name: "alice", validity: CertificateValidity(notValidBefore: past, notValidAfter: past.addingTimeInterval(86_400)))
        await #expect(throws: RPCError.self, "an expired certificate") {
            try await Self.listSweeps(cluster, certificatePEM: expired.certificatePEM, keyPEM: expired.privateKeyPEM)
        }
    }

    @Test func rolesAreCheckedOnEveryCall() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        try await cluster.startCoordinator()
        let ca = try String(contentsOfFile: cluster.certs + "/ca.pem", encoding: .utf8)
        let (worker, workerKey) = try Self.pem(cluster, "worker-1")
        let transport = try MixLabTLS.clientTransport(
            host: "127.0.0.1", port: cluster.port, caPEM: ca, certificatePEM: worker, privateKeyPEM: workerKey)
        try await withGRPCClient(transport: transport) { client in
            let admin = Mixlab_V1_Admin.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                _ = try await admin.submitSweep(.with { $0.specYaml = "name: x" })
            }
            #expect(error?.code == .permissionDenied)
            #expect(error?.message.contains("worker") == true)
            let cancel = await #expect(throws: RPCError.self) {
                _ = try await admin.cancelSweep(.with { $0.sweepID = "anything" })
            }
            #expect(cancel?.code == .permissionDenied)
        }

        // A client certificate cannot open a worker session.
        let (alice, aliceKey) = try Self.pem(cluster, "alice")
        let clientTransport = try MixLabTLS.clientTransport(
            host: "127.0.0.1", port: cluster.port, caPEM: ca, certificatePEM: alice, privateKeyPEM: aliceKey)
        try await withGRPCClient(transport: clientTransport) { client in
            let session = Mixlab_V1_WorkerSession.Client(wrapping: client)
            let error = await #expect(throws: RPCError.self) {
                try await session.connect(requestProducer: { writer in
                    try await writer.write(.with { $0.register = .with { $0.host = "x"; $0.cpuSlots = 1 } })
                }) { response in
                    for try await _ in response.messages {}
                }
            }
            #expect(error?.code == .permissionDenied)
        }
    }

    @Test func refusesToStartWithAReadableKey() async throws {
        let cluster = try LoopbackCluster(workerNames: [])
        chmod(cluster.certs + "/coordinator.key", 0o644)
        let process = try ChildProcess(
            LoopbackCluster.executable,
            [
                "coordinator", "--listen", "127.0.0.1:0", "--database", cluster.databaseURL, "--ca", cluster.certs + "/ca.pem",
                "--cert", cluster.certs + "/coordinator.pem", "--key", cluster.certs + "/coordinator.key",
            ], logPath: cluster.directory + "/refused.log")
        let status = try await process.wait()
        #expect(status == 2)
        #expect(process.output.contains("chmod 600"), "\(process.output)")
        #expect(!process.output.contains("PRIVATE KEY"))
    }
}
