import Foundation
public import MixLabCore

/// A worker daemon as the coordinator last saw it.
public struct WorkerRecord: Sendable, Equatable {
    public var id: WorkerID
    public var host: String
    public var cpuSlots: Int
    public var gpuIDs: [Int]
    public var version: String
    public var quarantined: Bool
    /// Failed attempts in a row on this worker (reset by a success).
    public var consecutiveFailures: Int
    /// On the database clock.
    public var lastSeen: Date
}

/// A worker's announcement of itself on (re)connection.
public struct WorkerRegistration: Sendable, Equatable {
    public var id: WorkerID
    public var host: String
    public var cpuSlots: Int
    public var gpuIDs: [Int]
    public var version: String

    public init(id: WorkerID, host: String, cpuSlots: Int, gpuIDs: [Int], version: String) {
        self.id = id
        self.host = host
        self.cpuSlots = cpuSlots
        self.gpuIDs = gpuIDs
        self.version = version
    }
}

/// One attempt of a run, as recorded in `run_attempts`.
public struct AttemptRecord: Sendable, Equatable {
    public var run: RunID
    public var attempt: Int
    public var token: Int64
    public var worker: WorkerID
    public var host: String
    public var startedAt: Date
    public var endedAt: Date?
    /// `succeeded`, `failed` or `lost`; nil while the attempt is live.
    public var outcome: String?
    public var cause: FailureCause?
    public var exitCode: Int32?
    public var signal: Int32?
    public var logTail: String?
}

extension SQLStore {
    // MARK: Workers

    public func registerWorker(_ registration: WorkerRegistration) async throws {
        _ = try await backend.execute(
            """
            INSERT INTO workers (id, host, gpus, cpus, gpu_ids, version, quarantined, consecutive_failures, last_seen, first_seen)
            VALUES ($1, $2, $3, $4, $5, $6, FALSE, 0, \(now), \(now))
            ON CONFLICT (id) DO UPDATE SET host = excluded.host, gpus = excluded.gpus, cpus = excluded.cpus,
                gpu_ids = excluded.gpu_ids, version = excluded.version, last_seen = excluded.last_seen
            """,
            [
                .text(registration.id.rawValue), .text(registration.host), .integer(Int64(registration.gpuIDs.count)),
                .integer(Int64(registration.cpuSlots)), .text(registration.gpuIDs.map(String.init).joined(separator: ",")),
                .text(registration.version),
            ])
    }

    public func touchWorker(_ id: WorkerID) async throws {
        _ = try await backend.execute("UPDATE workers SET last_seen = \(now) WHERE id = $1", [.text(id.rawValue)])
    }

    public func recordWorkerResult(_ id: WorkerID, succeeded: Bool, quarantineAfter limit: Int) async throws -> WorkerRecord? {
        let rows = try await backend.execute(
            """
            UPDATE workers SET consecutive_failures = CASE WHEN $2 = 1 THEN 0 ELSE consecutive_failures + 1 END,
                               quarantined = CASE WHEN $2 = 0 AND consecutive_failures + 1 >= $3 THEN TRUE ELSE quarantined END
            WHERE id = $1 RETURNING *
            """, [.text(id.rawValue), .integer(succeeded ? 1 : 0), .integer(Int64(max(1, limit)))],
            // A counter: never applied twice when a COMMIT's outcome is unknown.
            ifCommitUnknown: .fail)
        return try rows.first.map(Self.workerRecord)
    }

    public func setWorkerQuarantined(_ id: WorkerID, _ quarantined: Bool) async throws -> WorkerRecord {
        let rows = try await backend.execute(
            """
            UPDATE workers SET quarantined = \(quarantined ? "TRUE" : "FALSE"),
                               consecutive_failures = CASE WHEN \(quarantined ? "FALSE" : "TRUE") THEN 0 ELSE consecutive_failures END
            WHERE id = $1 RETURNING *
            """, [.text(id.rawValue)])
        guard let row = rows.first else {
            throw StoreError(.unknownWorker, "no worker \(id); `mixlab workers ls` lists the known ones")
        }
        return try Self.workerRecord(row)
    }

    public func workers() async throws -> [WorkerRecord] {
        try await backend.execute("SELECT * FROM workers ORDER BY id", []).map(Self.workerRecord)
    }

    public func worker(_ id: WorkerID) async throws -> WorkerRecord? {
        try await backend.execute("SELECT * FROM workers WHERE id = $1", [.text(id.rawValue)]).first.map(Self.workerRecord)
    }

    static func workerRecord(_ row: SQLRow) throws -> WorkerRecord {
        let quarantined: Bool
        switch row["quarantined"] {
        case .text(let text): quarantined = text == "t" || text == "true" || text == "1"
        default: quarantined = (row["quarantined"].int ?? 0) != 0
        }
        return WorkerRecord(
            id: WorkerID(try row.string("id")), host: try row.string("host"), cpuSlots: try row.int("cpus"),
            gpuIDs: (row["gpu_ids"].string ?? "").split(separator: ",").compactMap { Int($0) },
            version: row["version"].string ?? "", quarantined: quarantined,
            consecutiveFailures: row["consecutive_failures"].int ?? 0,
            lastSeen: Date(timeIntervalSince1970: try row.double("last_seen")))
    }

    /// Every live lease a worker holds.
    public func leases(of worker: WorkerID) async throws -> [Lease] {
        try await backend.execute(
            "SELECT * FROM runs WHERE lease_owner = $1 AND state IN \(Self.leased) ORDER BY id", [.text(worker.rawValue)]
        ).compactMap { try Self.runRecord($0).lease }
    }

    // MARK: Sweep operations

    /// Cancels every run of the sweep that has not ended and marks the sweep cancelled, in one
    /// transaction. Returns the leases that were live, so their workers can be told to stop; a
    /// later report or completion with those tokens is refused as stale. Cancelling a cancelled
    /// sweep changes nothing; a completed one is refused (`.sweepState`) and keeps its state.
    public func cancelSweep(_ id: SweepID) async throws -> [Lease] {
        let now = self.now, dialect = self.dialect
        return try await backend.transaction { db in
            // The runs are locked before the sweep's row, the order of claims, completions and
            // lease expiry, which lock a run and then its sweep; the other order can deadlock.
            let live = try await db.execute(
                "SELECT * FROM runs r WHERE r.sweep_id = $1 AND r.state IN ('queued', 'assigned', 'running') ORDER BY r.id \(dialect.forUpdate)",
                [.text(id.rawValue)])
            let sweep = try await db.execute(
                """
                UPDATE sweeps SET state = 'cancelled', leased_runs = 0, updated_at = \(now)
                WHERE id = $1 AND state IN ('active', 'paused') RETURNING id
                """, [.text(id.rawValue)])
            if sweep.isEmpty {
                let state = try await db.execute("SELECT state FROM sweeps WHERE id = $1", [.text(id.rawValue)]).first?["state"].string
                switch state {
                case nil: throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them")
                case SweepState.cancelled.rawValue: return []
                default:
                    throw StoreError(
                        .sweepState, "sweep \(id) is \(state!): every run has ended, so there is nothing to cancel (its results stay as they are)")
                }
            }
            let leases = try live.compactMap { try Self.runRecord($0).lease }
            for lease in leases { try await Self.endAttemptCancelled(lease, db: db, now: now) }
            _ = try await db.execute(
                """
                UPDATE runs SET state = 'cancelled', lease_expires_at = NULL, last_failure = 'cancelled', updated_at = \(now)
                WHERE sweep_id = $1 AND state IN ('queued', 'assigned', 'running')
                """, [.text(id.rawValue)])
            return leases
        }
    }

    /// Cancels one run in one transaction: its live attempt (if any) ends as cancelled, its sweep's
    /// slot is freed, and the sweep completes if this was its last unfinished run. Locks the run,
    /// then the sweep, like completions.
    public func cancelRun(_ id: RunID) async throws -> (cancelled: Bool, lease: Lease?) {
        let now = self.now, dialect = self.dialect
        return try await backend.transaction { db in
            guard let row = try await db.execute("SELECT * FROM runs r WHERE r.id = $1 \(dialect.forUpdate)", [.text(id.rawValue)]).first else {
                throw StoreError(.unknownRun, "no run \(id); `mixlab runs ls SWEEP` lists a sweep's runs")
            }
            let run = try Self.runRecord(row)
            switch run.state {
            case .cancelled:
                return (false, nil)
            case .succeeded, .failed:
                throw StoreError(.sweepState, "run \(id) has already \(run.state.rawValue); there is nothing to cancel")
            case .queued, .assigned, .running:
                break
            }
            if let lease = run.lease {
                try await Self.endAttemptCancelled(lease, db: db, now: now)
                try await Self.releaseSlot(sweep: row["sweep_id"], db: db)
            }
            _ = try await db.execute(
                "UPDATE runs SET state = 'cancelled', lease_expires_at = NULL, last_failure = 'cancelled', updated_at = \(now) WHERE id = $1",
                [.text(id.rawValue)])
            try await Self.completeSweepIfDone(run.sweep.rawValue, db: db, dialect: dialect, now: now)
            return (true, run.lease)
        }
    }

    /// Ends the lease's attempt as cancelled (unless it has already ended).
    static func endAttemptCancelled(_ lease: Lease, db: any SQLExecutor, now: String) async throws {
        _ = try await db.execute(
            "UPDATE run_attempts SET ended_at = \(now), outcome = 'failed', cause = 'cancelled' WHERE run_id = $1 AND lease_token = $2 AND ended_at IS NULL",
            [.text(lease.run.rawValue), .integer(lease.token)])
    }

    /// Puts the sweep's failed runs (and with `includeCancelled`, its cancelled ones) back in the
    /// queue with a fresh allowance of the sweep's `max_attempts`; reactivates the sweep.
    public func retryRuns(in id: SweepID, includeCancelled: Bool) async throws -> Int {
        let now = self.now
        let states = includeCancelled ? "('failed', 'cancelled')" : "('failed')"
        return try await backend.transaction { db in
            let sweep = try await db.execute("SELECT max_attempts FROM sweeps WHERE id = $1", [.text(id.rawValue)])
            guard let allowance = try sweep.first?.int("max_attempts") else {
                throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them")
            }
            let requeued = try await db.execute(
                """
                UPDATE runs SET state = 'queued', attempt = attempt + 1, max_attempts = attempt + $2, lease_owner = NULL,
                                lease_expires_at = NULL, updated_at = \(now)
                WHERE sweep_id = $1 AND state IN \(states) RETURNING id
                """, [.text(id.rawValue), .integer(Int64(allowance))])
            if !requeued.isEmpty {
                _ = try await db.execute("UPDATE sweeps SET state = 'active', updated_at = \(now) WHERE id = $1", [.text(id.rawValue)])
            }
            return requeued.count
        }
    }

    /// Appends runs to a sweep (numbered after its last run) and makes it active again, in one
    /// transaction. The runs' shares must follow the sweep's domain order.
    public func addRuns(to id: SweepID, runs: [NewRun]) async throws -> SweepRecord {
        let now = self.now
        try await backend.transaction(ifCommitUnknown: .fail) { db in
            let rows = try await db.execute("SELECT state, max_attempts, domains_json FROM sweeps WHERE id = $1", [.text(id.rawValue)])
            guard let sweep = rows.first else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
            guard try sweep.string("state") != SweepState.cancelled.rawValue else {
                throw StoreError(.invalidSweep, "sweep \(id) is cancelled; submit a new sweep instead")
            }
            let domains: [String] = try Self.decode(sweep.string("domains_json"))
            for run in runs where run.shares.count != domains.count || !run.shares.allSatisfy({ $0.isFinite && $0 >= 0 }) {
                throw StoreError(.invalidSweep, "an added run needs \(domains.count) finite, non-negative shares (\(domains.joined(separator: ", ")))")
            }
            let last = try await db.execute("SELECT COALESCE(MAX(run_index), -1) AS last FROM runs WHERE sweep_id = $1", [.text(id.rawValue)])
            let first = try (last.first?.int("last") ?? -1) + 1
            let numbered = runs.enumerated().map { offset, run in
                var run = run
                run.index = first + offset
                return run
            }
            try await Self.insertRuns(numbered, of: id, maxAttempts: try sweep.int("max_attempts"), db: db, now: now)
            _ = try await db.execute("UPDATE sweeps SET state = 'active', updated_at = \(now) WHERE id = $1", [.text(id.rawValue)])
        }
        guard let record = try await sweep(id) else { throw StoreError(.unknownSweep, "sweep \(id) vanished") }
        return record
    }

    /// The attempts of a run, oldest first.
    public func attempts(of run: RunID) async throws -> [AttemptRecord] {
        try await backend.execute("SELECT * FROM run_attempts WHERE run_id = $1 ORDER BY lease_token", [.text(run.rawValue)]).map {
            AttemptRecord(
                run: run, attempt: try $0.int("attempt"), token: try $0.int64("lease_token"), worker: WorkerID(try $0.string("worker_id")),
                host: try $0.string("host"), startedAt: Date(timeIntervalSince1970: try $0.double("started_at")),
                endedAt: $0["ended_at"].double.map(Date.init(timeIntervalSince1970:)), outcome: $0["outcome"].string,
                cause: $0["cause"].string.flatMap(FailureCause.init(rawValue:)), exitCode: $0["exit_code"].int.map { Int32($0) },
                signal: $0["signal"].int.map { Int32($0) }, logTail: $0["log_tail"].string)
        }
    }
}
