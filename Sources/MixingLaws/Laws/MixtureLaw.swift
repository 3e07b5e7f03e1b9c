/// Proxy runs prepared for a mixing-law fit: each run's mixture and its measured losses on one or
/// more target validation sets, plus how those targets are aggregated into the objective.
public struct MixtureRuns: Sendable, Equatable {
    /// Training domains, the columns of ``mixtures``.
    public var domains: [String]
    /// One row per run; each row is a point of the simplex.
    public var mixtures: [[Double]]
    /// Validation targets, the columns of ``targetLosses``.
    public var targetNames: [String]
    /// One row per run, one loss per target.
    public var targetLosses: [[Double]]
    /// Non-negative weight of each target in the aggregated loss (explicit aggregation,
    /// `L = Σ_i s_i L_i`).
    public var targetWeights: [Double]

    public init(domains: [String], mixtures: [[Double]], targetNames: [String], targetLosses: [[Double]], targetWeights: [Double]? = nil) {
        precondition(mixtures.count == targetLosses.count, "one loss row per mixture")
        precondition(mixtures.allSatisfy { $0.count == domains.count }, "one share per domain")
        precondition(targetLosses.allSatisfy { $0.count == targetNames.count }, "one loss per target")
        self.domains = domains
        self.mixtures = mixtures
        self.targetNames = targetNames
        self.targetLosses = targetLosses
        self.targetWeights = targetWeights ?? Array(repeating: 1, count: targetNames.count)
        precondition(self.targetWeights.count == targetNames.count, "one weight per target")
    }

    public var count: Int { mixtures.count }

    /// The weighted loss of each run, `Σ_i s_i L_i`.
    public var aggregatedLosses: [Double] {
        targetLosses.map { row in zip(row, targetWeights).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    /// The losses of one target across runs.
    public func losses(ofTarget index: Int) -> [Double] { targetLosses.map { $0[index] } }

    /// The runs at `indices` (repeats allowed, for bootstrap resamples).
    public func subset(_ indices: [Int]) -> MixtureRuns {
        MixtureRuns(
            domains: domains, mixtures: indices.map { mixtures[$0] }, targetNames: targetNames,
            targetLosses: indices.map { targetLosses[$0] }, targetWeights: targetWeights)
    }
}

/// A fitted model of the aggregated target loss as a function of the mixture shares; what the
/// solvers minimise.
public protocol MixtureLossModel: Sendable {
    var domainCount: Int { get }
    /// The predicted (aggregated) loss at `shares`.
    func loss(_ shares: [Double]) -> Double
    /// ∂loss/∂shares, or nil when the model is not differentiable (tree ensembles), in which case
    /// only the derivative-free solvers apply.
    func gradient(_ shares: [Double]) -> [Double]?
}

/// A named recipe that fits a ``MixtureLossModel`` to proxy runs (`linear`, `dml`, ...).
public protocol MixtureLawFitter: Sendable {
    /// The name used on the command line and in sweep specs.
    var name: String { get }
    /// The smallest number of runs the fit is meaningful with, given the runs' shape.
    func minimumRuns(domains: Int, targets: Int) -> Int
    func fit(_ runs: MixtureRuns) throws -> FittedMixtureLaw
}

/// The result of a ``MixtureLawFitter``: named parameters and the model to predict and solve with.
public struct FittedMixtureLaw: Sendable {
    public var law: String
    /// Reported parameters, for example `pile_cc.c` or `pile_cc.t.arxiv`, in a stable order.
    public var parameters: [(name: String, value: Double)]
    public var model: any MixtureLossModel
    /// The training objective the fit reached (sum of Huber losses or of squares), when defined.
    public var objective: Double?

    public init(law: String, parameters: [(name: String, value: Double)], model: any MixtureLossModel, objective: Double?) {
        self.law = law
        self.parameters = parameters
        self.model = model
        self.objective = objective
    }

    public func predict(_ shares: [Double]) -> Double { model.loss(shares) }
}
