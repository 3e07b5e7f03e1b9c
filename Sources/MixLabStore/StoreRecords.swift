public import Foundation
public import MixLabCore

/// A sweep to create: its resolved spec and every run its design expanded to, written in one
/// transaction by ``MixLabStore/createSweep(_:)``.
public struct NewSweep: Sendable, Equatable {
    public var id: SweepID
    public var name: String
    /// A key chosen by the client; submitting again with the same key returns the first sweep.
    public var clientKey: String?
    /// The resolved sweep spec as JSON, stored verbatim.
    public var specJSON: String
    /// A hash of the resolved spec (hex), to tell identical resubmissions apart from edits.
    public var specHash: String
    /// Training domains, the columns of every run's mixture.
    public var domains: [String]
    /// Names a trainer may report losses for (validation sets); usually the training domains.
    public var evalDomains: [String]
    /// Higher runs first.
    public var priority: Int
    /// Attempts a run gets before it is failed.
    public var maxAttempts: Int
    /// At most this many runs of the sweep leased at once (nil: no cap).
    public var maxConcurrentRuns: Int?
    public var runs: [NewRun]

    public init(
        id: SweepID, name: String, clientKey: String? = nil, specJSON: String, specHash: String, domains: [String],
        evalDomains: [String]? = nil, priority: Int = 0, maxAttempts: Int = 3, maxConcurrentRuns: Int? = nil, runs: [NewRun]
    ) {
        self.id = id
        self.name = name
        self.clientKey = clientKey
        self.specJSON = specJSON
        self.specHash = specHash
        self.domains = domains
        self.evalDomains = evalDomains ?? domains
        self.priority = priority
        self.maxAttempts = maxAttempts
        self.maxConcurrentRuns = maxConcurrentRuns
        self.runs = runs
    }
}

/// One run of a new sweep.
public struct NewRun: Sendable, Equatable {
    /// Position in the design, 0-based and unique within the sweep.
    public var index: Int
    /// One share per sweep domain, in the sweep's domain order.
    public var shares: [Double]
    /// The run's budget (steps/tokens, model size, seed, ...) as JSON, passed to the trainer.
    public var budgetJSON: String
    /// Slots the run needs on a worker.
    public var gpus: Int
    public var cpus: Int

    public init(index: Int, shares: [Double], budgetJSON: String = "{}", gpus: Int = 0, cpus: Int = 1) {
        self.index = index
        self.shares = shares
        self.budgetJSON = budgetJSON
        self.gpus = gpus
        self.cpus = cpus
    }
}

/// A stored sweep with its run counts.
public struct SweepRecord: Sendable, Equatable {
    public var id: SweepID
    public var name: String
    public var clientKey: String?
    public var specJSON: String
    public var specHash: String
    public var domains: [String]
    public var evalDomains: [String]
    public var state: SweepState
    public var priority: Int
    public var maxAttempts: Int
    public var maxConcurrentRuns: Int?
    public var createdAt: Date
    public var updatedAt: Date
    /// Number of runs in each state (states with no runs are absent).
    public var runCounts: [RunState: Int]
}

/// A stored run.
public struct RunRecord: Sendable, Equatable {
    /// `<sweep id>/<index>`.
    public var id: RunID
    public var sweep: SweepID
    public var index: Int
    public var shares: [Double]
    public var budgetJSON: String
    public var gpus: Int
    public var cpus: Int
    public var state: RunState
    /// 1 for the first attempt; raised each time a lease is lost or a retry is granted.
    public var attempt: Int
    public var maxAttempts: Int
    /// The current lease, when ``state`` is assigned or running.
    public var lease: Lease?
    /// Why the last attempt ended, if it did not succeed.
    public var lastFailure: FailureCause?
}

/// A run leased to a worker. The fencing ``token`` grows with every lease of the run, so a report
/// or completion carrying an older token is recognisably stale.
public struct Lease: Sendable, Equatable {
    public var run: RunID
    public var worker: WorkerID
    public var attempt: Int
    public var token: Int64
    /// Computed on the database clock.
    public var expiresAt: Date
}

/// What a worker offers when it asks for work.
public struct ClaimRequest: Sendable, Equatable {
    public var worker: WorkerID
    public var host: String
    public var freeGPUs: Int
    public var freeCPUs: Int
    public var leaseDuration: Duration

    public init(worker: WorkerID, host: String, freeGPUs: Int, freeCPUs: Int, leaseDuration: Duration) {
        self.worker = worker
        self.host = host
        self.freeGPUs = freeGPUs
        self.freeCPUs = freeCPUs
        self.leaseDuration = leaseDuration
    }
}

/// The outcome of a lease renewal.
public enum LeaseRenewal: Sendable, Equatable {
    case renewed(expiresAt: Date)
    /// The lease is no longer the caller's (expired and reassigned, cancelled, completed).
    case lost
}

/// A run whose lease expired, and what became of it.
public struct ExpiredLease: Sendable, Equatable {
    public var run: RunID
    public var worker: WorkerID
    /// The attempt that was lost.
    public var attempt: Int
    /// `queued` (retried) or `failed` (out of attempts).
    public var newState: RunState

    public init(run: RunID, worker: WorkerID, attempt: Int, newState: RunState) {
        self.run = run
        self.worker = worker
        self.attempt = attempt
        self.newState = newState
    }
}

/// One per-domain held-out loss reported by a trainer.
public struct EvalPoint: Sendable, Equatable {
    public var step: Int64
    public var tokens: Int64
    public var domain: String
    /// Mean cross-entropy in nats; must be finite, non-negative and below ``EvalPoint/maximumLoss``.
    public var loss: Double

    /// Losses above this are refused as corrupt (ln 256 ≈ 5.5 is a byte-level uniform guess).
    public static let maximumLoss = 1e4

    public init(step: Int64, tokens: Int64, domain: String, loss: Double) {
        self.step = step
        self.tokens = tokens
        self.domain = domain
        self.loss = loss
    }
}

/// A batch of evals from the holder of a lease; stored idempotently per (run, attempt, step, domain).
public struct EvalReport: Sendable, Equatable {
    public var run: RunID
    public var worker: WorkerID
    public var token: Int64
    public var points: [EvalPoint]

    public init(run: RunID, worker: WorkerID, token: Int64, points: [EvalPoint]) {
        self.run = run
        self.worker = worker
        self.token = token
        self.points = points
    }
}

/// What an eval report changed.
public struct EvalIngest: Sendable, Equatable {
    public var inserted: Int
    /// Points already stored (a replay), left untouched.
    public var duplicates: Int

    public init(inserted: Int, duplicates: Int) {
        self.inserted = inserted
        self.duplicates = duplicates
    }
}

/// How the holder of a lease says its run ended.
public struct RunCompletion: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case succeeded
        case failed(cause: FailureCause, exitCode: Int32?, signal: Int32?)
    }

    public var run: RunID
    public var worker: WorkerID
    public var token: Int64
    public var outcome: Outcome
    /// The last lines of the trainer's log (for failures).
    public var logTail: String?
    /// Whether a failure may be retried when attempts are left (false: the sweep's retry policy
    /// rules it out, e.g. an exit code not in `retry_on_exit_codes` or a CUDA OOM in the log).
    public var retryable: Bool
    /// How many `preempted` attempts of the run are re-queued without using up an attempt; a
    /// preemption beyond that counts like any failure.
    public var preemptionAllowance: Int

    public init(
        run: RunID, worker: WorkerID, token: Int64, outcome: Outcome, logTail: String? = nil, retryable: Bool = true,
        preemptionAllowance: Int = 0
    ) {
        self.run = run
        self.worker = worker
        self.token = token
        self.outcome = outcome
        self.logTail = logTail
        self.retryable = retryable
        self.preemptionAllowance = preemptionAllowance
    }
}

/// A stored eval row.
public struct EvalRecord: Sendable, Equatable {
    public var run: RunID
    public var attempt: Int
    public var step: Int64
    public var tokens: Int64
    public var domain: String
    public var loss: Double
}

/// A stored law fit for a sweep.
public struct FitRecord: Sendable, Equatable {
    public var sweep: SweepID
    public var law: String
    /// The fit report (parameters, metrics) as JSON.
    public var reportJSON: String
    public var createdAt: Date?

    public init(sweep: SweepID, law: String, reportJSON: String, createdAt: Date? = nil) {
        self.sweep = sweep
        self.law = law
        self.reportJSON = reportJSON
        self.createdAt = createdAt
    }
}

/// A stored recommendation (the mixture report) for a sweep.
public struct RecommendationRecord: Sendable, Equatable {
    public var sweep: SweepID
    public var law: String
    public var shares: [Double]
    public var predictedLoss: Double
    /// The full recommendation report (interval, constraints, warnings) as JSON.
    public var reportJSON: String
    public var createdAt: Date?

    public init(sweep: SweepID, law: String, shares: [Double], predictedLoss: Double, reportJSON: String, createdAt: Date? = nil) {
        self.sweep = sweep
        self.law = law
        self.shares = shares
        self.predictedLoss = predictedLoss
        self.reportJSON = reportJSON
        self.createdAt = createdAt
    }
}
