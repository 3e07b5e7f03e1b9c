public import MixLabPKI

/// Everything a worker daemon needs to start.
public struct WorkerConfiguration: Sendable {
    /// What a worker does with its running attempts when asked to stop (SIGTERM).
    public enum DrainPolicy: String, Sendable, CaseIterable {
        /// Take no new runs, let the running ones finish and report, then exit.
        case finish
        /// Stop the running attempts now and hand them back to the coordinator, which re-queues them.
        case handBack = "hand-back"
    }

    public var coordinatorHost: String
    public var coordinatorPort: Int
    public var tls: TLSMaterials
    public var cpuSlots: Int
    public var gpuIDs: [Int]
    /// Attempt directories (logs, control sockets), the report outbox and the orphan register.
    public var workDirectory: String
    public var drain: DrainPolicy = .finish
    /// How long a `finish` drain waits for running attempts before handing them back.
    public var drainTimeout: Duration = .seconds(3600)
    /// Exit (drain, then stop) after this long without a run, so a batch allocation is given back
    /// once the sweeps are done (nil: run until stopped).
    public var exitWhenIdle: Duration?
    /// At most this many unacknowledged reports are kept; beyond it the oldest eval batches are dropped.
    public var outboxLimit = 10_000
    /// Reconnect backoff: first delay, cap, and ± jitter fraction.
    public var reconnectInitial: Duration = .milliseconds(200)
    public var reconnectMaximum: Duration = .seconds(10)
    public var reconnectJitter = 0.25
    public var host: String

    public init(
        coordinatorHost: String, coordinatorPort: Int, tls: TLSMaterials, cpuSlots: Int, gpuIDs: [Int], workDirectory: String,
        host: String
    ) {
        self.coordinatorHost = coordinatorHost
        self.coordinatorPort = coordinatorPort
        self.tls = tls
        self.cpuSlots = cpuSlots
        self.gpuIDs = gpuIDs
        self.workDirectory = workDirectory
        self.host = host
    }
}
