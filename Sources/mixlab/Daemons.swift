import ArgumentParser
import Foundation
import Logging
import MixLabCoordinator
import MixLabCore
import MixLabPKI
import MixLabSweeps
import MixLabStore
import MixLabWorker
import ServiceLifecycle
import Yams

extension MixLab {
    struct CoordinatorCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "coordinator",
            abstract: "Run the coordinator daemon: schedules proxy runs onto workers over mutual TLS and records results.")

        @Option(help: "YAML file with any of: listen, database, ca, cert, key, lease_seconds, heartbeat_seconds, quarantine_after, store_deadline_seconds (flags override it).")
        var config: String?
        @Option(help: "Address to listen on, HOST:PORT (port 0 picks one and prints it; default 0.0.0.0:7443).") var listen: String?
        @Option(help: "sqlite:PATH (default sqlite:mixlab.db) or postgres://user[:password]@host[:port]/db (env MIXLAB_DATABASE).")
        var database: String?
        @Option(help: "CA certificate.") var ca: String?
        @Option(help: "Coordinator certificate (role coordinator).") var cert: String?
        @Option(help: "Coordinator key (mode 0600).") var key: String?
        @Option(help: "Seconds a lease lasts without a heartbeat (default 30).") var leaseSeconds: Double?
        @Option(help: "Seconds between worker heartbeats (default 5).") var heartbeatSeconds: Double?
        @Option(help: "Quarantine a worker after this many failed attempts in a row (default 5).") var quarantineAfter: Int?
        @Option(help: "Seconds a PostgreSQL statement may wait for the server before its connection is dropped and it is retried (default 30).")
        var storeDeadlineSeconds: Double?

        func run() async throws {
            let file = try DaemonConfigFile(path: config)
            let listen = try self.listen ?? file.string("listen") ?? "0.0.0.0:7443"
            let database = try self.database ?? ProcessInfo.processInfo.environment["MIXLAB_DATABASE"] ?? file.string("database")
            let leaseSeconds = try self.leaseSeconds ?? file.number("lease_seconds") ?? 30
            let heartbeatSeconds = try self.heartbeatSeconds ?? file.number("heartbeat_seconds") ?? 5
            let quarantineAfter = try self.quarantineAfter ?? file.number("quarantine_after").map { Int($0) } ?? 5
            let storeDeadlineSeconds = try self.storeDeadlineSeconds ?? file.number("store_deadline_seconds") ?? 30
            var paths: [String] = []
            for name in ["ca", "cert", "key"] {
                let flag = name == "ca" ? ca : name == "cert" ? cert : key
                guard let path = try flag ?? file.string(name) else {
                    throw MixLabInputError(
                        field: "--\(name)", problem: "is required", fix: "pass --\(name) FILE or set `\(name):` in the --config file")
                }
                paths.append(path)
            }
            let (host, port) = try parseAddress(listen, field: "--listen")
            guard leaseSeconds > 0, heartbeatSeconds > 0, heartbeatSeconds < leaseSeconds else {
                throw MixLabInputError(
                    field: "--heartbeat-seconds \(heartbeatSeconds)", problem: "must be positive and shorter than --lease-seconds \(leaseSeconds)",
                    fix: "use a heartbeat of at most a third of the lease")
            }
            guard quarantineAfter >= 1 else {
                throw MixLabInputError(field: "--quarantine-after", problem: "must be at least 1", fix: "pass e.g. --quarantine-after 5")
            }
            guard storeDeadlineSeconds.isFinite, storeDeadlineSeconds >= 1 else {
                throw MixLabInputError(
                    field: "--store-deadline-seconds \(storeDeadlineSeconds)", problem: "must be at least 1 second",
                    fix: "pass e.g. --store-deadline-seconds 30 (or `store_deadline_seconds: 30` in the --config file)")
            }
            let databaseText = database ?? "sqlite:mixlab.db"
            let url = try storeURL(databaseText)
            let materials = try await TLSMaterials.load(
                TLSFiles(caPath: paths[0], certificatePath: paths[1], keyPath: paths[2]), expectedRole: .coordinator)
            var logger = Logger(label: "mixlab.coordinator")
            logger.logLevel = .info
            var configuration = CoordinatorConfiguration(host: host, port: port, databaseURL: databaseText, tls: materials)
            configuration.leaseDuration = .milliseconds(Int64(leaseSeconds * 1000))
            configuration.heartbeatInterval = .milliseconds(Int64(heartbeatSeconds * 1000))
            configuration.expiryInterval = .milliseconds(Int64(max(0.2, min(2, leaseSeconds / 5)) * 1000))
            configuration.quarantineAfter = quarantineAfter
            let daemonLogger = logger, daemonConfiguration = configuration
            let storeDeadline = Duration.milliseconds(Int64(storeDeadlineSeconds * 1000))
            try await SQLStore.with(url, logger: daemonLogger, operationDeadline: storeDeadline) { store in
                let logger = daemonLogger, configuration = daemonConfiguration
                let applied = try await store.migrate()
                if !applied.isEmpty { logger.info("migrated the store", metadata: ["mixlab.versions": "\(applied)"]) }
                let daemon = CoordinatorDaemon(store: store, configuration: configuration, logger: logger)
                let group = ServiceGroup(
                    configuration: .init(services: daemon.services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    tasks.addTask { try await group.run() }
                    tasks.addTask {
                        if let bound = try await daemon.listeningPort() {
                            // Unbuffered: scripts and tests wait for this line to learn the port.
                            FileHandle.standardOutput.write(Data("mixlab coordinator listening on \(host):\(bound) (store \(url))\n".utf8))
                        }
                    }
                    try await tasks.waitForAll()
                }
            }
        }
    }

    struct WorkerCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "worker", abstract: "Run a worker daemon: runs assigned proxy runs as subprocesses on its CPU/GPU slots.")

        @Option(help: "Coordinator address HOST:PORT.") var coordinator: String
        @Option(help: "CA certificate.") var ca: String
        @Option(help: "Worker certificate (role worker; its name is the worker id).") var cert: String
        @Option(help: "Worker key (mode 0600).") var key: String
        @Option(help: "CPU slots: runs asking for `cpus: n` take n of them.") var cpuSlots: Int = 1
        @Option(help: "GPU ids this worker may use, comma-separated (e.g. 0,1).") var gpus: String = ""
        @Option(help: "Directory for attempt logs, control sockets and the report outbox.") var workDir: String = "mixlab-worker"
        @Option(help: "On SIGTERM: finish (let running runs end) or hand-back (stop them; they are re-queued).")
        var drain: String = "finish"
        @Option(help: "Host name reported to the coordinator.") var host: String = ProcessInfo.processInfo.hostName
        @Option(help: "Exit after this long without a run (e.g. 15m), giving a batch allocation back once the sweeps are done.")
        var exitWhenIdle: String?

        func run() async throws {
            let (coordinatorHost, coordinatorPort) = try parseAddress(coordinator, field: "--coordinator")
            guard cpuSlots >= 0 else {
                throw MixLabInputError(field: "--cpu-slots \(cpuSlots)", problem: "is negative", fix: "pass the number of runs this box may run at once")
            }
            var gpuIDs: [Int] = []
            for part in gpus.split(separator: ",") {
                guard let id = Int(part.trimmingCharacters(in: .whitespaces)), id >= 0 else {
                    throw MixLabInputError(field: "--gpus \(gpus)", problem: "\(part) is not a GPU id", fix: "list ids like --gpus 0,1")
                }
                gpuIDs.append(id)
            }
            guard cpuSlots > 0 || !gpuIDs.isEmpty else {
                throw MixLabInputError(field: "--cpu-slots", problem: "the worker offers no slots", fix: "pass --cpu-slots N and/or --gpus IDS")
            }
            guard let policy = WorkerConfiguration.DrainPolicy(rawValue: drain) else {
                throw MixLabInputError(field: "--drain \(drain)", problem: "is not a drain policy", fix: "use finish or hand-back")
            }
            var idleLimit: Duration?
            if let exitWhenIdle {
                guard let seconds = DurationText.seconds(exitWhenIdle), seconds >= 1 else {
                    throw MixLabInputError(
                        field: "--exit-when-idle \(exitWhenIdle)", problem: "is not a duration of at least 1 s",
                        fix: "write e.g. 90s, 15m, 1h or a number of seconds")
                }
                idleLimit = .seconds(seconds)
            }
            let materials = try await TLSMaterials.load(TLSFiles(caPath: ca, certificatePath: cert, keyPath: key), expectedRole: .worker)
            let directory = URL(fileURLWithPath: workDir).standardizedFileURL.path
            var configuration = WorkerConfiguration(
                coordinatorHost: coordinatorHost, coordinatorPort: coordinatorPort, tls: materials, cpuSlots: cpuSlots, gpuIDs: gpuIDs,
                workDirectory: directory, host: host)
            configuration.drain = policy
            configuration.exitWhenIdle = idleLimit
            var logger = Logger(label: "mixlab.worker")
            logger.logLevel = .info
            logger[metadataKey: "mixlab.worker"] = "\(materials.identity.name)"
            let agent = try WorkerAgent(configuration: configuration, logger: logger)
            // The agent returns by itself after an idle exit: that ends the daemon cleanly.
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: agent, successTerminationBehavior: .gracefullyShutdownGroup)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

/// A daemon's `--config` YAML file: a flat mapping whose keys are the long flags in snake_case.
struct DaemonConfigFile {
    static let keys: Set<String> = [
        "listen", "database", "ca", "cert", "key", "lease_seconds", "heartbeat_seconds", "quarantine_after",
        "store_deadline_seconds",
    ]
    let path: String
    let values: [String: Any]

    init(path: String?) throws {
        self.path = path ?? ""
        guard let path else {
            values = [:]
            return
        }
        let text = try readSpecText(path)
        let loaded: Any?
        do {
            loaded = try Yams.load(yaml: text)
        } catch {
            throw MixLabInputError(field: "--config \(path)", problem: "is not valid YAML (\(error))", fix: "fix the file")
        }
        guard let mapping = loaded as? [String: Any] else {
            throw MixLabInputError(field: "--config \(path)", problem: "is not a mapping of settings", fix: "write `key: value` lines, e.g. `listen: 0.0.0.0:7443`")
        }
        for key in mapping.keys where !Self.keys.contains(key) {
            throw MixLabInputError(
                field: "--config \(path): \(key)", problem: "is not a coordinator setting",
                fix: "use one of \(Self.keys.sorted().joined(separator: ", "))")
        }
        values = mapping
    }

    func string(_ key: String) throws -> String? {
        guard let value = values[key] else { return nil }
        if let text = value as? String { return text }
        throw MixLabInputError(field: "--config \(path): \(key)", problem: "must be a string", fix: "quote it")
    }

    func number(_ key: String) throws -> Double? {
        guard let value = values[key] else { return nil }
        if let number = value as? Double { return number }
        if let number = value as? Int { return Double(number) }
        throw MixLabInputError(field: "--config \(path): \(key)", problem: "must be a number", fix: "write e.g. `\(key): 30`")
    }
}
