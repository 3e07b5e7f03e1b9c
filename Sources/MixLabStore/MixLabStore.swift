public import MixLabCore

/// The coordinator's durable state: sweeps, runs, leases, evals, fits and recommendations.
///
/// Every method that changes state returns only after the change is committed, so an
/// acknowledgement sent after it survives any crash. State transitions are single compare-and-set
/// statements or transactions; lease expiry is judged on the database clock, never the caller's.
/// Two implementations share one body of logic and SQL (``SQLStore``): PostgreSQL for multi-node
/// use and an embedded SQLite file for one box.
public protocol MixLabStore: Sendable {
    /// Applies pending migrations; returns the versions applied.
    ///
    /// - Throws: ``StoreError`` `.schemaTooNew` when the database was migrated by a newer MixLab.
    func migrate() async throws -> [Int]
    /// The highest applied migration (0 for an empty database).
    func schemaVersion() async throws -> Int

    /// Writes the sweep and all its runs in one transaction; with a `clientKey` already used,
    /// returns the existing sweep instead (and writes nothing).
    func createSweep(_ sweep: NewSweep) async throws -> SweepRecord
    func sweep(_ id: SweepID) async throws -> SweepRecord?
    func sweeps() async throws -> [SweepRecord]
    func runs(in sweep: SweepID) async throws -> [RunRecord]
    func run(_ id: RunID) async throws -> RunRecord?
    func setSweepState(_ id: SweepID, to state: SweepState) async throws

    /// Leases the next queued run the worker can hold (by sweep priority, then age, then index;
    /// honouring slots and each sweep's concurrency cap) with a new fencing token; nil when none.
    func claimRun(_ request: ClaimRequest) async throws -> (run: RunRecord, lease: Lease)?
    /// Extends the lease only when worker and token still match.
    func renewLease(run: RunID, worker: WorkerID, token: Int64, duration: Duration) async throws -> LeaseRenewal
    /// Marks a leased run as running (the trainer started); refused for a stale token.
    func markRunning(run: RunID, worker: WorkerID, token: Int64) async throws
    /// Moves every run whose lease is past expiry back to queued with attempt + 1 (cause `lost`),
    /// or to failed when it has used its attempts, in one statement.
    func expireLeases() async throws -> [ExpiredLease]
    /// Stores evals idempotently keyed by (run, attempt, step, domain).
    ///
    /// - Throws: ``StoreError`` `.staleLease` for an old token (counted, nothing written),
    ///   `.unknownRun`, `.invalidEval` (NaN, negative or oversized loss, unknown domain, negative
    ///   step) — a batch is all or nothing.
    func reportEvals(_ report: EvalReport) async throws -> EvalIngest
    /// Ends the current attempt; a second completion of the same attempt returns the first
    /// outcome and changes nothing. A failure with attempts left re-queues the run.
    func completeRun(_ completion: RunCompletion) async throws -> RunRecord
    /// Reports refused because their token was stale, since the store was opened.
    func staleReportCount() async -> Int

    func evals(in sweep: SweepID) async throws -> [EvalRecord]
    func recordFit(_ fit: FitRecord) async throws
    func fits(in sweep: SweepID) async throws -> [FitRecord]
    func recordRecommendation(_ recommendation: RecommendationRecord) async throws
    func recommendations(in sweep: SweepID) async throws -> [RecommendationRecord]
    /// Appends to the audit trail.
    func recordEvent(sweep: SweepID?, run: RunID?, kind: String, detail: String) async throws

    /// Records a worker's (re)connection; keeps its quarantine state and failure count.
    func registerWorker(_ registration: WorkerRegistration) async throws
    /// Stamps the worker's last heartbeat with the database clock.
    func touchWorker(_ id: WorkerID) async throws
    /// Counts a finished attempt against the worker: a success resets the run of failures, the
    /// `limit`-th failure in a row quarantines it. Returns the updated worker.
    func recordWorkerResult(_ id: WorkerID, succeeded: Bool, quarantineAfter limit: Int) async throws -> WorkerRecord?
    func setWorkerQuarantined(_ id: WorkerID, _ quarantined: Bool) async throws -> WorkerRecord
    func workers() async throws -> [WorkerRecord]
    func worker(_ id: WorkerID) async throws -> WorkerRecord?
    /// Every live lease a worker holds.
    func leases(of worker: WorkerID) async throws -> [Lease]
    /// Cancels every unfinished run and the sweep; returns the leases that were live. A cancelled
    /// sweep is left as it is; a completed one is refused with `.sweepState`.
    func cancelSweep(_ id: SweepID) async throws -> [Lease]
    /// Cancels one run that has not ended; says whether it did and returns the run's live lease,
    /// if any. Cancelling a cancelled run changes nothing; one that succeeded or failed is refused
    /// with `.sweepState`.
    func cancelRun(_ id: RunID) async throws -> (cancelled: Bool, lease: Lease?)
    /// Re-queues failed (and optionally cancelled) runs with a fresh allowance of attempts.
    func retryRuns(in id: SweepID, includeCancelled: Bool) async throws -> Int
    func attempts(of run: RunID) async throws -> [AttemptRecord]
    /// Appends runs after the sweep's last one and reactivates it.
    func addRuns(to id: SweepID, runs: [NewRun]) async throws -> SweepRecord

    /// The online controller's decisions for one attempt of a run, in order.
    func onlineDecisions(run: RunID, attempt: Int) async throws -> [OnlineDecisionRecord]
    /// Stores an online decision while `token` is the run's lease; idempotent per (run, attempt, seq).
    func recordOnlineDecision(_ record: OnlineDecisionRecord, token: Int64) async throws
}
