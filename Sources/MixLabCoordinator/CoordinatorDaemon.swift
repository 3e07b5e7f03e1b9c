import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
public import MixLabStore
import MixLabTransport
public import ServiceLifecycle

/// The coordinator daemon as ServiceLifecycle services: the gRPC server, the scheduler and the
/// lease sweeper, sharing one ``Coordinator``. Runs until SIGTERM/SIGINT, then stops accepting,
/// lets in-flight calls finish and exits; every acknowledged state is already in the store.
public struct CoordinatorDaemon: Sendable {
    public let coordinator: Coordinator
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    public init(store: any MixLabStore, configuration: CoordinatorConfiguration, logger: Logger) {
        coordinator = Coordinator(store: store, configuration: configuration, logger: logger)
        server = GRPCServer(
            transport: MixLabTLS.serverTransport(host: configuration.host, port: configuration.port, materials: configuration.tls),
            services: [WorkerSessionService(coordinator: coordinator), AdminService(coordinator: coordinator)])
    }

    /// The services in start order (shutdown runs in reverse).
    public var services: [any Service] {
        [
            SchedulerService(coordinator: coordinator), LeaseExpiryService(coordinator: coordinator), FitService(coordinator: coordinator),
            GRPCServerService(server: server),
        ]
    }

    /// The bound port, once the server listens (useful with port 0).
    public func listeningPort() async throws -> Int? {
        try await server.listeningAddress?.ipv4?.port
    }
}

/// Runs a `GRPCServer` as a ServiceLifecycle service with graceful shutdown.
struct GRPCServerService<Transport: ServerTransport>: Service {
    let server: GRPCServer<Transport>

    /// How long in-flight calls get after SIGTERM before the server is cancelled. Worker sessions
    /// never end by themselves, so without this a coordinator with connected workers would not exit.
    var drainTime: Duration = .seconds(2)

    func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withGracefulShutdownHandler {
                    try await server.serve()
                } onGracefulShutdown: {
                    server.beginGracefulShutdown()
                }
            }
            group.addTask {
                try await gracefulShutdown()
                try await Task.sleep(for: drainTime)
            }
            _ = try await group.next()
            group.cancelAll()
        }
    }
}

/// Wakes on demand (new worker, finished run, submitted sweep) or every `scheduleInterval`, and
/// hands queued runs to workers with free slots.
struct SchedulerService: Service {
    let coordinator: Coordinator

    func run() async throws {
        let interval = coordinator.configuration.scheduleInterval
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: interval)
                    coordinator.wakeScheduler()
                }
            }
            for await _ in coordinator.wakeupStream.cancelOnGracefulShutdown() {
                await coordinator.schedulePass()
            }
            group.cancelAll()
        }
    }
}

/// Looks for expired leases every `expiryInterval`, judged on the database clock.
struct LeaseExpiryService: Service {
    let coordinator: Coordinator

    func run() async throws {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await coordinator.expireLeases()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: coordinator.configuration.expiryInterval) }
        }
    }
}

/// Fits completed sweeps one at a time, so a slow fit never delays a worker's session.
struct FitService: Service {
    let coordinator: Coordinator

    func run() async throws {
        // Sweeps that completed while no coordinator was there to fit them (a restart mid-fit).
        for sweep in (try? await coordinator.store.sweeps()) ?? [] where sweep.state == .completed {
            let store = coordinator.store
            if (try? await store.fits(in: sweep.id).isEmpty) == true, (try? await store.recommendations(in: sweep.id).isEmpty) == true {
                coordinator.requestFit(sweep.id)
            }
        }
        for await sweep in coordinator.fitRequestStream.cancelOnGracefulShutdown() {
            await coordinator.fit(sweep)
        }
    }
}
