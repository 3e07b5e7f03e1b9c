public import MixLabPKI

/// Everything a coordinator daemon needs to start.
public struct CoordinatorConfiguration: Sendable {
    /// Address to listen on (`0.0.0.0` for every interface).
    public var host: String
    /// Port to listen on; 0 picks a free one (see ``Coordinator/listeningPort()``).
    public var port: Int
    /// `postgres://…` or `sqlite:PATH`.
    public var databaseURL: String
    public var tls: TLSMaterials
    /// How long a lease lasts without a heartbeat.
    public var leaseDuration: Duration = .seconds(30)
    /// How often workers are asked to heartbeat (well under ``leaseDuration``).
    public var heartbeatInterval: Duration = .seconds(5)
    /// How often expired leases are looked for.
    public var expiryInterval: Duration = .seconds(2)
    /// A worker whose attempts fail this many times in a row is quarantined.
    public var quarantineAfter: Int = 5
    /// How often the scheduler looks for work when nothing woke it.
    public var scheduleInterval: Duration = .seconds(1)
    /// Whether to fit the sweep's laws when it completes.
    public var fitOnCompletion: Bool = true

    public init(host: String, port: Int, databaseURL: String, tls: TLSMaterials) {
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.tls = tls
    }
}
