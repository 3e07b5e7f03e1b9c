import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import MixLabPKI
import MixLabProcess
import MixLabRPC
import MixLabTransport

/// The demo's deployment on loopback: a throwaway CA, a coordinator and workers as separate
/// `mixlab` processes (the real daemons, talking mutual TLS), and an admin client for the demo.
final class DemoCluster: Sendable {
    let coordinator: ChildProcess
    let workers: [ChildProcess]
    let port: Int
    let logDirectory: String
    private let clientMaterials: TLSMaterials

    private init(coordinator: ChildProcess, workers: [ChildProcess], port: Int, logDirectory: String, clientMaterials: TLSMaterials) {
        self.coordinator = coordinator
        self.workers = workers
        self.port = port
        self.logDirectory = logDirectory
        self.clientMaterials = clientMaterials
    }

    /// Issues certificates under `directory/certs`, starts the coordinator on a free loopback port
    /// and the workers, and returns once the coordinator listens.
    static func start(_ configuration: DemoConfiguration, directory: String) async throws -> DemoCluster {
        let certs = directory + "/certs"
        let logs = directory + "/logs"
        // A fresh throwaway CA every time: the previous demo's daemons are gone with their certificates.
        try? FileManager.default.removeItem(atPath: certs)
        // The previous run's logs are kept one generation back; the coordinator's port is read from a fresh log.
        try? FileManager.default.removeItem(atPath: logs + ".previous")
        try? FileManager.default.moveItem(atPath: logs, toPath: logs + ".previous")
        for folder in [certs, logs] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let ca = try CertificateAuthority.create(commonName: "MixLab demo CA")
        try ca.write(toDirectory: certs)
        try ca.issue(role: .coordinator, name: "coordinator").write(toDirectory: certs)
        let client = try ca.issue(role: .client, name: "demo")
        try client.write(toDirectory: certs)
        let workerNames = (1...configuration.workers).map { "worker-\($0)" }
        for name in workerNames { try ca.issue(role: .worker, name: name).write(toDirectory: certs) }
        let clientMaterials = try await TLSMaterials.load(
            TLSFiles(caPath: "\(certs)/ca.pem", certificatePath: "\(certs)/demo.pem", keyPath: "\(certs)/demo.key"), expectedRole: .client)

        let coordinator = try ChildProcess(
            configuration.executable,
            [
                "coordinator", "--listen", "127.0.0.1:0", "--database", configuration.resolvedDatabaseURL, "--ca", "\(certs)/ca.pem",
                "--cert", "\(certs)/coordinator.pem", "--key", "\(certs)/coordinator.key", "--lease-seconds", "20", "--heartbeat-seconds", "2",
            ],
            logPath: "\(logs)/coordinator.log")
        let port: Int
        do {
            let output = try await coordinator.waitForOutput(containing: "listening on", timeout: .seconds(120))
            port = try listeningPort(in: output)
        } catch {
            await coordinator.terminate(grace: .seconds(5))
            throw DemoError("the coordinator did not start: \(error)")
        }
        var workers: [ChildProcess] = []
        do {
            for name in workerNames {
                workers.append(
                    try ChildProcess(
                        configuration.executable,
                        [
                            "worker", "--coordinator", "127.0.0.1:\(port)", "--ca", "\(certs)/ca.pem", "--cert", "\(certs)/\(name).pem",
                            "--key", "\(certs)/\(name).key", "--cpu-slots", "\(configuration.slotsPerWorker)",
                            "--work-dir", "\(directory)/work/\(name)", "--host", name, "--drain", "hand-back",
                        ],
                        logPath: "\(logs)/\(name).log"))
            }
        } catch {
            for worker in workers { await worker.terminate(grace: .seconds(5)) }
            await coordinator.terminate(grace: .seconds(5))
            throw error
        }
        return DemoCluster(coordinator: coordinator, workers: workers, port: port, logDirectory: logs, clientMaterials: clientMaterials)
    }

    static func listeningPort(in output: String) throws -> Int {
        guard let line = output.split(separator: "\n").last(where: { $0.contains("listening on") }),
            let address = line.split(separator: " ").first(where: { $0.hasPrefix("127.0.0.1:") }),
            let port = Int(address.split(separator: ":")[1])
        else { throw DemoError("cannot read the coordinator's port from: \(output.suffix(500))") }
        return port
    }

    /// Runs `body` with an admin client; a daemon that died is reported with its log.
    func admin<Result: Sendable>(_ body: (Mixlab_V1_Admin.Client<HTTP2ClientTransport.Posix>) async throws -> Result) async throws -> Result {
        try checkAlive()
        do {
            return try await MixLabTLS.withAdminClient(host: "127.0.0.1", port: port, materials: clientMaterials, body)
        } catch let error as RPCError {
            try checkAlive()
            throw DemoError("coordinator: \(error.code): \(error.message)", code: error.code)
        }
    }

    /// Throws when the coordinator or a worker has exited, with the end of its log.
    func checkAlive() throws {
        for (name, process) in [("coordinator", coordinator)] + workers.enumerated().map({ ("worker-\($0.offset + 1)", $0.element) })
        where process.poll() != nil {
            throw DemoError("the \(name) exited unexpectedly; the end of \(process.logPath):\n\(process.output.suffix(2000))")
        }
    }

    /// Stops the workers, then the coordinator, with SIGTERM (their graceful shutdown); returns
    /// the processes that had to be killed.
    func shutdown() async -> [String] {
        var forced: [String] = []
        await withTaskGroup(of: String?.self) { group in
            for (index, worker) in workers.enumerated() {
                group.addTask { await worker.terminate(grace: .seconds(30)).graceful ? nil : "worker-\(index + 1)" }
            }
            for await name in group { if let name { forced.append(name) } }
        }
        if await !coordinator.terminate(grace: .seconds(30)).graceful { forced.append("coordinator") }
        return forced
    }
}

/// A demo failure that is not the user's input: a daemon that died, a sweep that failed, a fit
/// that could not be made. The text says what happened and where the logs are.
public struct DemoError: Error, CustomStringConvertible {
    public let description: String
    /// The coordinator's status code, when the failure was an RPC.
    let code: RPCError.Code?

    public init(_ description: String) {
        self.description = description
        code = nil
    }

    init(_ description: String, code: RPCError.Code) {
        self.description = description
        self.code = code
    }
}
