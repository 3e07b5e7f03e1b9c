/// A sweep spec: the domains, the design of proxy mixtures, the trainer command, the budget, the
/// laws to fit and the objective and constraints of the final mixture.
///
/// Read one with ``SweepSpec/parse(yaml:file:knownLaws:)``, which checks every field and returns
/// the spec with its defaults filled in (the *resolved* spec); ``SweepSpec/resolve()`` expands it
/// into a ``SweepPlan``. `docs/sweep-spec.md` describes every field. Keys are snake_case in YAML
/// and JSON.
public struct SweepSpec: Sendable, Equatable, Codable {
    public var name: String
    public var description: String?
    /// Training domains, in the column order of every run's mixture.
    public var domains: [DomainSpec]
    /// Domains whose held-out loss trainers report (default: the training domains).
    public var evalDomains: [String]
    public var design: DesignSpec
    public var trainer: TrainerSpec
    /// The budget of every run; exactly one of ``budget`` and ``scales`` is set in a resolved spec.
    public var budget: BudgetSpec?
    /// Several budgets: every design point runs once at each scale.
    public var scales: [BudgetSpec]?
    /// How each run's seed is derived from its budget's seed.
    public var runSeeds: RunSeedPolicy
    /// Names of the laws to fit (see `mixlab fit --list-laws`).
    public var laws: [String]
    public var objective: ObjectiveSpec
    public var constraints: ConstraintsSpec
    /// Higher-priority sweeps are scheduled first.
    public var priority: Int
    /// At most this many runs of the sweep run at once (nil: no cap).
    public var maxConcurrentRuns: Int?
    /// Online mixing (Aioli): proportions adjusted during each run.
    public var online: OnlineSpec?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, domains, evalDomains = "eval_domains", design, trainer, budget, scales
        case runSeeds = "run_seeds", laws, objective, constraints, priority
        case maxConcurrentRuns = "max_concurrent_runs", online
    }

    /// Training domain names in order.
    public var domainNames: [String] { domains.map(\.name) }
}

/// One training domain.
public struct DomainSpec: Sendable, Equatable, Codable {
    /// Letters, digits, `_`, `-` and `.`; unique within the sweep.
    public var name: String
    /// Where the domain's data is on the workers (passed to trainers in `MIXLAB_DOMAINS`).
    public var path: String
    /// Tokens available in the domain: the RegMix prior and the epoch caps use it.
    public var tokens: Int?

    public init(name: String, path: String, tokens: Int? = nil) {
        self.name = name
        self.path = path
        self.tokens = tokens
    }
}

/// How a sweep chooses its mixtures; encoded with a `kind` key.
public enum DesignSpec: Sendable, Equatable, Codable {
    /// RegMix's tempered, capped Dirichlet sampler (`kind: dirichlet`).
    case dirichlet(DirichletDesign)
    /// Aioli's merged-Dirichlet cover of the simplex (`kind: dirichlet_cover`).
    case dirichletCover(DirichletCoverDesign)
    /// Every mixture on a lattice of step `1/k` (`kind: grid`).
    case grid(GridDesign)
    /// An explicit list of mixtures (`kind: list`).
    case list(ListDesign)
    /// D-CPT model size × tokens × ratio grid over a general and a domain corpus (`kind: dcpt`).
    case dcpt(DCPTDesign)

    /// The `kind` names, as written in specs.
    public static let kinds = ["dirichlet", "dirichlet_cover", "grid", "list", "dcpt"]

    public var kind: String {
        switch self {
        case .dirichlet: "dirichlet"
        case .dirichletCover: "dirichlet_cover"
        case .grid: "grid"
        case .list: "list"
        case .dcpt: "dcpt"
        }
    }

    private enum KindKey: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: KindKey.self).decode(String.self, forKey: .kind)
        switch kind {
        case "dirichlet": self = .dirichlet(try DirichletDesign(from: decoder))
        case "dirichlet_cover": self = .dirichletCover(try DirichletCoverDesign(from: decoder))
        case "grid": self = .grid(try GridDesign(from: decoder))
        case "list": self = .list(try ListDesign(from: decoder))
        case "dcpt": self = .dcpt(try DCPTDesign(from: decoder))
        default:
            throw DecodingError.dataCorrupted(
                .init(codingPath: [KindKey.kind], debugDescription: "unknown design kind \(kind); use one of \(Self.kinds)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: KindKey.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .dirichlet(let design): try design.encode(to: encoder)
        case .dirichletCover(let design): try design.encode(to: encoder)
        case .grid(let design): try design.encode(to: encoder)
        case .list(let design): try design.encode(to: encoder)
        case .dcpt(let design): try design.encode(to: encoder)
        }
    }
}

/// RegMix's sampler settings (laws.md §3.2); the defaults are RegMix's.
public struct DirichletDesign: Sendable, Equatable, Codable {
    public var runs: Int
    /// Seed of the draw; the same seed gives the same mixtures on every machine.
    public var seed: Int
    /// Token share per domain that centres the draws; defaults to the domains' `tokens` when every
    /// domain gives them, else equal weights.
    public var prior: [String: Double]
    /// Exponent applied to the prior before centring (RegMix `TEMP`).
    public var temperature: Double
    /// Dirichlet concentrations, one picked per draw.
    public var strengths: [Double]
    /// A domain gets at most `min(maximum_usage · prior share, 1)`.
    public var maximumUsage: Double
    /// Shares below this are zeroed.
    public var minimumShare: Double
    /// Rounding step of the shares; `1 / precision` is a whole number.
    public var precision: Double

    enum CodingKeys: String, CodingKey, CaseIterable {
        case runs, seed, prior, temperature, strengths, maximumUsage = "maximum_usage"
        case minimumShare = "minimum_share", precision
    }
}

/// Aioli's Dirichlet cover settings (aioli.md §1.5).
public struct DirichletCoverDesign: Sendable, Equatable, Codable {
    public var runs: Int
    public var seed: Int
    /// Dirichlet concentration per domain (default 1: uniform on the simplex).
    public var concentration: [String: Double]
    /// Draws per returned mixture before merging.
    public var oversampling: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case runs, seed, concentration, oversampling }
}

/// A full-factorial lattice design.
public struct GridDesign: Sendable, Equatable, Codable {
    /// Lattice resolution: shares are multiples of `1/k` (a spec may give `step` instead).
    public var k: Int
    /// Allowed share range per domain; domains not listed may take any share.
    public var bounds: [String: ShareBounds]

    enum CodingKeys: String, CodingKey, CaseIterable { case k, bounds }
}

/// A closed range of shares.
public struct ShareBounds: Sendable, Equatable, Codable {
    public var min: Double
    public var max: Double

    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }
}

/// An explicit list of mixtures; a resolved spec lists every domain in every mixture.
public struct ListDesign: Sendable, Equatable, Codable {
    public var mixtures: [[String: Double]]

    enum CodingKeys: String, CodingKey, CaseIterable { case mixtures }
}

/// The D-CPT grid (laws.md §1.4): every model size × domain ratio × token count.
public struct DCPTDesign: Sendable, Equatable, Codable {
    /// Model sizes `N` (parameters); each run's budget gets its `model_size`.
    public var modelSizes: [Int]
    /// Training tokens `D`; each run's budget gets its `tokens` (or, with ``checkpoints``, the
    /// evaluation points of one run).
    public var tokens: [Int]
    /// Shares `r` of the domain corpus; the general corpus gets `1 − r`.
    public var ratios: [Double]
    /// The general corpus (default: the first domain).
    public var general: String
    /// The domain corpus (default: the second domain).
    public var domain: String
    /// When true, `tokens` are checkpoints of one run per (size, ratio): the run trains for the
    /// largest count and its budget lists all of them as `eval_tokens`.
    public var checkpoints: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case modelSizes = "model_sizes", tokens, ratios, general, domain, checkpoints
    }
}

/// How to run the trainer of each run.
public struct TrainerSpec: Sendable, Equatable, Codable {
    /// Program and arguments; `{run_id}`, `{sweep_id}`, `{attempt}`, `{seed}`, `{work_dir}` and
    /// the budget's keys (`{steps}`, `{tokens}`, …) are substituted.
    public var command: [String]
    public var resources: ResourceSpec
    /// Extra environment variables (names must not start with `MIXLAB_`).
    public var env: [String: String]
    /// Wall-clock limit per attempt in seconds (nil: none).
    public var timeLimit: Int?
    /// An attempt that reports nothing for this many seconds is failed (nil: never).
    public var noReportTimeout: Int?
    /// Attempts per run before it is failed.
    public var maxAttempts: Int
    /// Times a run may be handed back by a draining worker (`preempted`) without using up one of
    /// its attempts (nil: ``TrainerSpec/defaultMaxPreemptions``).
    public var maxPreemptions: Int?
    /// Only these exit codes are retried (nil: any failure is retried).
    public var retryOnExitCodes: [Int]?
    /// An attempt whose log matches one of these regular expressions is not retried (e.g. `CUDA out of memory`).
    public var noRetryOnLogRegex: [String]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case command, resources, env, timeLimit = "time_limit", noReportTimeout = "no_report_timeout"
        case maxAttempts = "max_attempts", maxPreemptions = "max_preemptions", retryOnExitCodes = "retry_on_exit_codes"
        case noRetryOnLogRegex = "no_retry_on_log_regex"
    }
}

extension TrainerSpec {
    /// Free re-queues of a preempted run when the spec gives no `max_preemptions`.
    public static let defaultMaxPreemptions = 10
}

/// Slots a run needs on a worker.
public struct ResourceSpec: Sendable, Equatable, Codable {
    public var cpus: Int
    public var gpus: Int

    public init(cpus: Int = 1, gpus: Int = 0) {
        self.cpus = cpus
        self.gpus = gpus
    }
}

/// How run seeds are derived from a budget's `seed`.
public enum RunSeedPolicy: String, Sendable, Equatable, Codable, CaseIterable {
    /// Design point `p` gets `seed + p`: every mixture its own seed, the same at every scale.
    case distinct
    /// Every run gets the budget's `seed` (common random numbers across mixtures).
    case shared
}

/// Objective of the final mixture: minimise the weighted sum of the target domains' losses.
public struct ObjectiveSpec: Sendable, Equatable, Codable {
    /// Evaluation domain → weight (default: equal weights over the eval domains, summing to 1).
    public var targets: [String: Double]

    public init(targets: [String: Double]) { self.targets = targets }
}

/// Constraints on the final mixture.
public struct ConstraintsSpec: Sendable, Equatable, Codable {
    /// Smallest share per domain (absent: 0).
    public var min: [String: Double]
    /// Largest share per domain (absent: 1).
    public var max: [String: Double]
    /// A domain may be repeated at most this many times in the final run (needs domain `tokens`).
    public var maxEpochs: Double?
    /// Tokens of the final run, for the epoch caps (may also be given when asking for the mixture).
    public var targetTokens: Int?

    public init(min: [String: Double] = [:], max: [String: Double] = [:], maxEpochs: Double? = nil, targetTokens: Int? = nil) {
        self.min = min
        self.max = max
        self.maxEpochs = maxEpochs
        self.targetTokens = targetTokens
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case min, max, maxEpochs = "max_epochs", targetTokens = "target_tokens"
    }
}

/// Online mixing settings. Only `aioli` exists; the controller's knobs are passed through `params`.
public struct OnlineSpec: Sendable, Equatable, Codable {
    public var method: String
    /// Rounds `T` of the controller (nil: the controller's default).
    public var rounds: Int?
    /// Steps trained on the run's initial mixture before the controller takes over (restricted Aioli).
    public var initSteps: Int?
    /// Controller hyper-parameters by name (for example `eta`, `delta`, `sweeps`, `epsilon`).
    public var params: [String: Double]
    /// The online runs' trainer command (nil: `trainer.command`); static comparison runs use `trainer.command`.
    public var command: [String]?
    /// Static baseline runs added to the sweep at the same budgets and seeds (nil: none).
    public var compare: CompareSpec?

    public static let methods = ["aioli"]

    public init(
        method: String, rounds: Int? = nil, initSteps: Int? = nil, params: [String: Double] = [:], command: [String]? = nil,
        compare: CompareSpec? = nil
    ) {
        self.method = method
        self.rounds = rounds
        self.initSteps = initSteps
        self.params = params
        self.command = command
        self.compare = compare
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case method, rounds, initSteps = "init_steps", params, command, compare
    }
}

/// The static baselines an online sweep runs next to its online runs, at every budget and seed
/// the online runs use, so `mixlab sweep compare` can set them side by side.
public struct CompareSpec: Sendable, Equatable, Codable {
    /// One run at equal shares per budget and seed.
    public var stratified: Bool
    /// Runs of a grid search per budget and seed (nil: none): the points of Aioli's Dirichlet
    /// cover of the simplex; the method's result is the best of them by the objective.
    public var grid: Int?
    /// Seed of the grid's cover.
    public var gridSeed: Int

    public init(stratified: Bool = false, grid: Int? = nil, gridSeed: Int = 0) {
        self.stratified = stratified
        self.grid = grid
        self.gridSeed = gridSeed
    }

    /// Static runs added per budget and seed of the online runs.
    public var runsPerSeed: Int { (stratified ? 1 : 0) + (grid ?? 0) }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case stratified, grid, gridSeed = "grid_seed"
    }
}
