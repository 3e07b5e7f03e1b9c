import MixLabCore

/// A domain of a run and where its data lives on the worker.
public struct DomainData: Sendable, Hashable, Codable {
    public var name: String
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// Everything needed to run one attempt of one proxy run, as the worker received it.
public struct AttemptSpec: Sendable, Hashable {
    public var runID: RunID
    public var sweepID: SweepID
    /// 1 for the first attempt, raised on every retry.
    public var attempt: Int
    /// The run's seed, substituted for `{seed}`.
    public var seed: Int64
    /// The run's domains and their data paths, in the sweep's order.
    public var domains: [DomainData]
    /// Names the trainer may report losses for besides the training domains (the sweep's
    /// `eval_domains`, e.g. evaluation-only test slices `code.test`).
    public var evalDomains: [String]
    /// The run's initial mixture: domain name → share.
    public var mixture: [String: Double]
    /// The run's budget as a JSON object (steps, tokens, model size, …); each key is also a placeholder.
    public var budget: [String: JSONValue]
    /// The command template, e.g. `["python3", "train.py", "--run", "{run_id}"]`.
    public var command: [String]
    /// Extra environment from the sweep spec; values may use placeholders.
    public var environment: [String: String]
    /// GPU ids assigned to this attempt (empty for a CPU slot); become `CUDA_VISIBLE_DEVICES`.
    public var gpus: [Int]
    /// The attempt's own directory: the log and (when the path is short enough) the control socket live here.
    public var workDirectory: String
    /// The trainer's working directory; `nil` keeps the worker's.
    public var currentDirectory: String?
    public var limits: Limits

    /// Time and size limits of an attempt.
    public struct Limits: Sendable, Hashable {
        /// The whole attempt may take at most this long; `nil` for no limit.
        public var wallClock: Duration?
        /// The attempt fails if this long passes without an `eval` or `progress` (a pending `next`
        /// counts as activity while the worker is answering it); `nil` for no watchdog.
        public var noReport: Duration?
        /// Time between SIGTERM and SIGKILL when the process group is stopped.
        public var killGrace: Duration
        public var maxLineBytes: Int
        /// How many lines of the log a failure carries.
        public var logTailLines: Int

        public init(
            wallClock: Duration? = nil, noReport: Duration? = nil, killGrace: Duration = .seconds(10),
            maxLineBytes: Int = TrainerLineCodec.defaultMaxLineBytes, logTailLines: Int = 200
        ) {
            self.wallClock = wallClock
            self.noReport = noReport
            self.killGrace = killGrace
            self.maxLineBytes = maxLineBytes
            self.logTailLines = logTailLines
        }
    }

    public init(
        runID: RunID, sweepID: SweepID, attempt: Int, seed: Int64 = 0, domains: [DomainData],
        mixture: [String: Double], budget: [String: JSONValue] = [:], command: [String],
        environment: [String: String] = [:], gpus: [Int] = [], workDirectory: String,
        currentDirectory: String? = nil, limits: Limits = Limits(), evalDomains: [String] = []
    ) {
        self.runID = runID
        self.sweepID = sweepID
        self.attempt = attempt
        self.seed = seed
        self.domains = domains
        self.evalDomains = evalDomains
        self.mixture = mixture
        self.budget = budget
        self.command = command
        self.environment = environment
        self.gpus = gpus
        self.workDirectory = workDirectory
        self.currentDirectory = currentDirectory
        self.limits = limits
    }
}
