import Foundation
public import MixLabCore

extension SQLStore {
    static let leased = "('assigned', 'running')"

    public func runs(in sweep: SweepID) async throws -> [RunRecord] {
        try await backend.execute("SELECT * FROM runs WHERE sweep_id = $1 ORDER BY run_index", [.text(sweep.rawValue)]).map(Self.runRecord)
    }

    public func run(_ id: RunID) async throws -> RunRecord? {
        try await backend.execute("SELECT * FROM runs WHERE id = $1", [.text(id.rawValue)]).first.map(Self.runRecord)
    }

    public func claimRun(_ request: ClaimRequest) async throws -> (run: RunRecord, lease: Lease)? {
        for _ in 0..<8 {
            let claimID = UUID().uuidString
            let binds: [SQLValue] = [
                .text(request.worker.rawValue), .integer(Int64(request.freeGPUs)), .integer(Int64(request.freeCPUs)),
                .real(Self.seconds(request.leaseDuration)), .text(request.host), .text(claimID),
            ]
            let rows: [SQLRow]
            switch dialect {
            case .postgres:
                rows = try await backend.execute(Self.postgresClaim, binds, ifCommitUnknown: Self.claimCommitted(claimID))
            case .sqlite:
                rows = try await sqliteClaim(binds)
            }
            guard let row = rows.first else { return nil }
            guard row["id"] != .null else {
                // A capped sweep filled up between finding a run and taking its slot: look again.
                if try row.int("candidates") > 0 { continue }
                return nil
            }
            let record = try Self.runRecord(row)
            guard let lease = record.lease else { throw StoreError(.connection, "claimed run \(record.id) came back without a lease") }
            return (record, lease)
        }
        return nil
    }

    /// PostgreSQL: the whole claim in one statement (one round trip, autocommit). Sweeps are
    /// visited in priority order and each one's first queued run is taken from the partial index,
    /// skipping rows other claimers hold; a capped sweep's slot is taken in its row, where the row
    /// lock makes concurrent claimers re-check the cap; the attempt row carries the claim id.
    /// `candidates` tells a lost race for a slot (1, no run) from an empty queue (0).
    static let postgresClaim = """
        WITH candidate AS (
            SELECT r.id, r.sweep_id, s.max_concurrent
            FROM (SELECT id, max_concurrent, leased_runs FROM sweeps WHERE state = 'active'
                  ORDER BY priority DESC, created_at, id) s
            CROSS JOIN LATERAL (
                SELECT r.id, r.sweep_id FROM runs r
                WHERE r.sweep_id = s.id AND r.state = 'queued' AND r.gpus <= $2 AND r.cpus <= $3
                ORDER BY r.run_index LIMIT 1 FOR UPDATE OF r SKIP LOCKED) r
            WHERE s.max_concurrent IS NULL OR s.leased_runs < s.max_concurrent
            LIMIT 1),
        slot AS (
            UPDATE sweeps s SET leased_runs = s.leased_runs + 1 FROM candidate c
            WHERE s.id = c.sweep_id AND s.max_concurrent IS NOT NULL AND s.leased_runs < s.max_concurrent
            RETURNING s.id),
        claimed AS (
            UPDATE runs r SET state = 'assigned', lease_owner = $1, lease_token = r.lease_token + 1,
                              lease_expires_at = \(SQLDialect.postgres.now) + $4, updated_at = \(SQLDialect.postgres.now)
            FROM candidate c
            WHERE r.id = c.id AND (c.max_concurrent IS NULL OR EXISTS (SELECT 1 FROM slot))
            RETURNING r.*),
        attempt AS (
            INSERT INTO run_attempts (run_id, attempt, lease_token, worker_id, host, started_at, claim_id)
            SELECT id, attempt, lease_token, $1, $5, \(SQLDialect.postgres.now), $6 FROM claimed)
        SELECT (SELECT COUNT(*) FROM candidate) AS candidates, claimed.* FROM (SELECT 1) AS one LEFT JOIN claimed ON TRUE
        """

    /// SQLite (one writer at a time, so no locks to skip): the same steps as statements of one
    /// transaction.
    private func sqliteClaim(_ binds: [SQLValue]) async throws -> [SQLRow] {
        let now = self.now
        return try await backend.transaction { db in
            let claimed = try await db.execute(
                """
                UPDATE runs SET state = 'assigned', lease_owner = $1, lease_token = lease_token + 1,
                                lease_expires_at = \(now) + $4, updated_at = \(now)
                WHERE state = 'queued' AND id = (
                    SELECT r.id FROM runs r JOIN sweeps s ON s.id = r.sweep_id
                    WHERE r.state = 'queued' AND s.state = 'active' AND r.gpus <= $2 AND r.cpus <= $3
                      AND (s.max_concurrent IS NULL OR s.leased_runs < s.max_concurrent)
                    ORDER BY s.priority DESC, s.created_at, s.id, r.run_index
                    LIMIT 1)
                RETURNING *
                """, Array(binds[0..<4]))
            guard let row = claimed.first else { return [] }
            _ = try await db.execute(
                "UPDATE sweeps SET leased_runs = leased_runs + 1 WHERE id = $1 AND max_concurrent IS NOT NULL", [row["sweep_id"]])
            _ = try await db.execute(
                """
                INSERT INTO run_attempts (run_id, attempt, lease_token, worker_id, host, started_at, claim_id)
                VALUES ($1, $2, $3, $4, $5, \(now), $6)
                """, [row["id"], row["attempt"], row["lease_token"], binds[0], binds[4], binds[5]])
            return [row]
        }
    }

    /// After a lost COMMIT, whether the claim with this id committed: its run while that lease
    /// is still current, no rows when it committed but the lease has since ended, or nil when it
    /// never committed (so claiming again cannot take a second run).
    static func claimCommitted(_ claimID: String) -> CommitUncertainty<[SQLRow]> {
        .check { db in
            let rows = try await db.execute(
                """
                SELECT r.*, 1 AS candidates, (r.lease_token = a.lease_token AND r.state IN \(leased)) AS still_leased
                FROM run_attempts a JOIN runs r ON r.id = a.run_id WHERE a.claim_id = $1
                """, [.text(claimID)])
            guard let row = rows.first else { return nil }
            return row["still_leased"] == .integer(1) ? [row] : []
        }
    }

    /// A leased run of `sweep` ended its lease: give back its slot under the sweep's cap.
    static func releaseSlot(sweep: SQLValue, db: any SQLExecutor) async throws {
        _ = try await db.execute(
            "UPDATE sweeps SET leased_runs = leased_runs - 1 WHERE id = $1 AND max_concurrent IS NOT NULL", [sweep])
    }

    public func renewLease(run: RunID, worker: WorkerID, token: Int64, duration: Duration) async throws -> LeaseRenewal {
        let rows = try await backend.execute(
            """
            UPDATE runs SET lease_expires_at = \(now) + $4, updated_at = \(now)
            WHERE id = $1 AND lease_owner = $2 AND lease_token = $3 AND state IN \(Self.leased) AND lease_expires_at > \(now)
            RETURNING lease_expires_at
            """,
            [.text(run.rawValue), .text(worker.rawValue), .integer(token), .real(Self.seconds(duration))])
        guard let expiry = rows.first else { return .lost }
        return .renewed(expiresAt: Date(timeIntervalSince1970: try expiry.double("lease_expires_at")))
    }

    public func markRunning(run: RunID, worker: WorkerID, token: Int64) async throws {
        let rows = try await backend.execute(
            """
            UPDATE runs SET state = 'running', updated_at = \(now)
            WHERE id = $1 AND lease_owner = $2 AND lease_token = $3 AND state IN \(Self.leased)
            RETURNING id
            """, [.text(run.rawValue), .text(worker.rawValue), .integer(token)])
        if rows.isEmpty { throw try await refusal(run: run, token: token) }
    }

    public func expireLeases() async throws -> [ExpiredLease] {
        let now = self.now, dialect = self.dialect
        let expired: [ExpiredLease] = try await backend.transaction { db in
            let due = try await db.execute(
                """
                SELECT r.id, r.lease_owner, r.lease_token, r.attempt, r.sweep_id FROM runs r
                WHERE r.state IN \(Self.leased) AND r.lease_expires_at <= \(now) ORDER BY r.id \(dialect.forUpdate)
                """, [])
            var result: [ExpiredLease] = []
            var sweeps = Set<String>()
            for lease in due {
                let updated = try await db.execute(
                    """
                    UPDATE runs SET state = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,
                                    attempt = CASE WHEN attempt >= max_attempts THEN attempt ELSE attempt + 1 END,
                                    lease_owner = NULL, lease_expires_at = NULL, last_failure = 'lost', updated_at = \(now)
                    WHERE id = $1 AND lease_token = $2 AND state IN \(Self.leased)
                    RETURNING state
                    """, [lease["id"], lease["lease_token"]])
                guard let state = updated.first else { continue }
                _ = try await db.execute(
                    "UPDATE run_attempts SET ended_at = \(now), outcome = 'lost', cause = 'lost' WHERE run_id = $1 AND lease_token = $2",
                    [lease["id"], lease["lease_token"]])
                try await Self.releaseSlot(sweep: lease["sweep_id"], db: db)
                result.append(ExpiredLease(
                    run: RunID(try lease.string("id")), worker: WorkerID(try lease.string("lease_owner")), attempt: try lease.int("attempt"),
                    newState: RunState(rawValue: try state.string("state")) ?? .queued))
                sweeps.insert(try lease.string("sweep_id"))
            }
            for sweep in sweeps { try await Self.completeSweepIfDone(sweep, db: db, dialect: dialect, now: now) }
            return result
        }
        return expired
    }

    public func reportEvals(_ report: EvalReport) async throws -> EvalIngest {
        for point in report.points {
            guard point.loss.isFinite, point.loss >= 0, point.loss <= EvalPoint.maximumLoss else {
                throw StoreError(.invalidEval, "run \(report.run) step \(point.step) domain \(point.domain): loss \(point.loss) is not a finite value in [0, \(EvalPoint.maximumLoss)]")
            }
            guard point.step >= 0, point.tokens >= 0 else {
                throw StoreError(.invalidEval, "run \(report.run) step \(point.step): steps and tokens must be non-negative")
            }
        }
        let dialect = self.dialect
        if dialect == .postgres, report.points.count >= Self.copyThreshold {
            // Large batches: COPY into a staging table, then one INSERT … SELECT, under the lease.
            if let ingest = try await copyEvalsUnderLease(report) { return ingest }
        } else if dialect == .postgres, let domains = cachedEvalDomains(of: report.run) {
            try Self.checkDomains(report, domains)
            // One round trip: the lease check and the insert in one statement. Nothing inserted
            // means a replay or a stale lease; the checked path below tells which.
            let inserted = try await Self.insertEvalsUnderLease(report, db: backend)
            if inserted > 0 { return EvalIngest(inserted: inserted, duplicates: report.points.count - inserted) }
        }
        do {
            return try await backend.transaction { db in
                let rows = try await db.execute(
                    """
                    SELECT r.state, r.lease_owner, r.lease_token, r.attempt, s.eval_domains_json
                    FROM runs r JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = $1 \(dialect.forShare)
                    """, [.text(report.run.rawValue)])
                guard let run = rows.first else { throw StoreError(.unknownRun, "no run \(report.run)") }
                guard try run.int64("lease_token") == report.token, run["lease_owner"].string == report.worker.rawValue,
                    [RunState.assigned, .running].contains(RunState(rawValue: try run.string("state")))
                else {
                    throw StoreError(.staleLease, "run \(report.run): token \(report.token) of \(report.worker) is not the current lease")
                }
                let domainList: [String] = try Self.decode(run.string("eval_domains_json"))
                let domains = Set(domainList)
                self.cacheEvalDomains(domains, of: report.run)
                try Self.checkDomains(report, domains)
                let inserted = try await Self.insertEvals(report, attempt: try run.int("attempt"), db: db, dialect: dialect)
                return EvalIngest(inserted: inserted, duplicates: report.points.count - inserted)
            }
        } catch let error as StoreError where error.code == .staleLease {
            countStaleReport()
            throw error
        }
    }

    /// Eval batches at least this large go through COPY on PostgreSQL; smaller ones through one
    /// `UNNEST` statement (measured: COPY's extra round trips cost more than they save below it).
    static let copyThreshold = 1_000

    /// PostgreSQL, large batches: in one transaction, lock the run while the caller holds its lease
    /// (nil when it does not: the checked path then says why), COPY the points into a session-local
    /// staging table, and insert them from there. The insert skips `ON CONFLICT` (speculative
    /// insertion costs more than the insert) when no stored eval of this attempt falls in the
    /// batch's step range and the batch repeats no key; the row lock keeps another report of the
    /// same run from racing in between.
    func copyEvalsUnderLease(_ report: EvalReport) async throws -> EvalIngest? {
        let steps = report.points.map(\.step)
        let repeatsAKey = Set(report.points.map { "\($0.step)\u{0}\($0.domain)" }).count != report.points.count
        let text = Self.copyText(report.points)
        return try await backend.transaction { db in
            guard let db = db as? PostgresBackend.ConnectionExecutor else { return nil }
            guard let lease = try await db.execute(
                """
                SELECT r.attempt, s.eval_domains_json,
                       EXISTS (SELECT 1 FROM evals e WHERE e.run_id = r.id AND e.attempt = r.attempt AND e.step BETWEEN $4 AND $5)
                           AS overlaps
                FROM runs r JOIN sweeps s ON s.id = r.sweep_id
                WHERE r.id = $1 AND r.lease_token = $2 AND r.lease_owner = $3 AND r.state IN \(Self.leased)
                FOR NO KEY UPDATE OF r
                """,
                [
                    .text(report.run.rawValue), .integer(report.token), .text(report.worker.rawValue),
                    .integer(steps.min() ?? 0), .integer(steps.max() ?? 0),
                ]
            ).first else { return nil }
            let domainList: [String] = try Self.decode(lease.string("eval_domains_json"))
            let domains = Set(domainList)
            self.cacheEvalDomains(domains, of: report.run)
            try Self.checkDomains(report, domains)
            _ = try await db.execute(
                """
                CREATE TEMP TABLE IF NOT EXISTS mixlab_eval_stage (step BIGINT, tokens BIGINT, domain TEXT, loss DOUBLE PRECISION)
                ON COMMIT DELETE ROWS
                """, [])
            try await db.copy(into: "mixlab_eval_stage", columns: ["step", "tokens", "domain", "loss"], text: text)
            let mayConflict = lease["overlaps"] == .integer(1) || repeatsAKey
            let inserted = try await db.executeCountingRows(
                """
                INSERT INTO evals (run_id, attempt, step, tokens, domain, loss)
                SELECT $1, $2, step, tokens, domain, loss FROM mixlab_eval_stage
                \(mayConflict ? "ON CONFLICT DO NOTHING" : "")
                """, [.text(report.run.rawValue), lease["attempt"]])
            return EvalIngest(inserted: inserted, duplicates: report.points.count - inserted)
        }
    }

    /// The points in COPY's text format.
    static func copyText(_ points: [EvalPoint]) -> String {
        var text = ""
        text.reserveCapacity(points.count * 40)
        for point in points {
            text += "\(point.step)\t\(point.tokens)\t"
            for character in point.domain.unicodeScalars {
                switch character {
                case "\\": text += "\\\\"
                case "\t": text += "\\t"
                case "\n": text += "\\n"
                case "\r": text += "\\r"
                default: text.unicodeScalars.append(character)
                }
            }
            text += "\t\(point.loss)\n"
        }
        return text
    }

    static func checkDomains(_ report: EvalReport, _ domains: Set<String>) throws {
        if let unknown = report.points.first(where: { !domains.contains($0.domain) }) {
            throw StoreError(.invalidEval, "run \(report.run): domain \"\(unknown.domain)\" is not an eval domain of its sweep (\(domains.sorted().joined(separator: ", ")))")
        }
    }

    /// PostgreSQL: inserts the points only while the reporter holds the run's current lease.
    static func insertEvalsUnderLease(_ report: EvalReport, db: any SQLExecutor) async throws -> Int {
        try await db.execute(
            """
            WITH lease AS (
                SELECT r.attempt FROM runs r
                WHERE r.id = $1 AND r.lease_token = $2 AND r.lease_owner = $3 AND r.state IN \(leased) FOR SHARE OF r),
            inserted AS (
                INSERT INTO evals (run_id, attempt, step, tokens, domain, loss)
                SELECT $1, lease.attempt, u.step, u.tokens, u.domain, u.loss
                FROM lease, UNNEST($4::int8[], $5::int8[], $6::text[], $7::float8[]) AS u(step, tokens, domain, loss)
                ON CONFLICT DO NOTHING RETURNING 1)
            SELECT COUNT(*) AS n FROM inserted
            """,
            [
                .text(report.run.rawValue), .integer(report.token), .text(report.worker.rawValue), .integers(report.points.map(\.step)),
                .integers(report.points.map(\.tokens)), .texts(report.points.map(\.domain)), .reals(report.points.map(\.loss)),
            ]
        ).first?.int("n") ?? 0
    }

    static func insertEvals(_ report: EvalReport, attempt: Int, db: any SQLExecutor, dialect: SQLDialect) async throws -> Int {
        guard !report.points.isEmpty else { return 0 }
        switch dialect {
        case .postgres:
            return try await db.execute(
                """
                INSERT INTO evals (run_id, attempt, step, tokens, domain, loss)
                SELECT $1, $2, * FROM UNNEST($3::int8[], $4::int8[], $5::text[], $6::float8[])
                ON CONFLICT DO NOTHING RETURNING 1 AS inserted
                """,
                [
                    .text(report.run.rawValue), .integer(Int64(attempt)), .integers(report.points.map(\.step)),
                    .integers(report.points.map(\.tokens)), .texts(report.points.map(\.domain)), .reals(report.points.map(\.loss)),
                ]
            ).count
        case .sqlite:
            var inserted = 0
            for chunk in stride(from: 0, to: report.points.count, by: 1000) {
                let points = report.points[chunk..<min(chunk + 1000, report.points.count)]
                var values: [String] = []
                var binds: [SQLValue] = [.text(report.run.rawValue), .integer(Int64(attempt))]
                for point in points {
                    let base = binds.count
                    values.append("($1, $2, $\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4))")
                    binds += [.integer(point.step), .integer(point.tokens), .text(point.domain), .real(point.loss)]
                }
                inserted += try await db.execute(
                    """
                    INSERT INTO evals (run_id, attempt, step, tokens, domain, loss) VALUES \(values.joined(separator: ", "))
                    ON CONFLICT DO NOTHING RETURNING 1 AS inserted
                    """, binds
                ).count
            }
            return inserted
        }
    }

    public func completeRun(_ completion: RunCompletion) async throws -> RunRecord {
        let now = self.now, dialect = self.dialect
        let row: SQLRow = try await backend.transaction { db in
            guard let run = try await db.execute("SELECT * FROM runs r WHERE r.id = $1 \(dialect.forUpdate)", [.text(completion.run.rawValue)]).first
            else { throw StoreError(.unknownRun, "no run \(completion.run)") }
            guard try run.int64("lease_token") == completion.token else {
                throw StoreError(.staleLease, "run \(completion.run): token \(completion.token) is not the current lease")
            }
            let state = RunState(rawValue: try run.string("state"))
            guard [RunState.assigned, .running].contains(state), run["lease_owner"].string == completion.worker.rawValue else {
                // A repeated completion of the attempt that already ended returns that outcome.
                let attempt = try await db.execute(
                    "SELECT outcome FROM run_attempts WHERE run_id = $1 AND lease_token = $2", [.text(completion.run.rawValue), .integer(completion.token)])
                if let outcome = attempt.first?["outcome"].string, outcome != "lost" { return run }
                throw StoreError(.staleLease, "run \(completion.run): the lease with token \(completion.token) was lost")
            }
            let (newState, cause, exitCode, signal): (RunState, FailureCause?, Int32?, Int32?)
            var attemptIsFree = false
            switch completion.outcome {
            case .succeeded:
                (newState, cause, exitCode, signal) = (.succeeded, nil, 0, nil)
            case .failed(let failure, let code, let sig):
                if failure == .preempted {
                    let earlier = try await db.execute(
                        "SELECT COUNT(*) AS n FROM run_attempts WHERE run_id = $1 AND cause = 'preempted'", [.text(completion.run.rawValue)])
                    attemptIsFree = try (earlier.first?.int("n") ?? 0) < completion.preemptionAllowance
                }
                let attemptsLeft = try attemptIsFree || (run.int("attempt") < run.int("max_attempts") && completion.retryable)
                let next: RunState = failure == .cancelled ? .cancelled : (attemptsLeft ? .queued : .failed)
                (newState, cause, exitCode, signal) = (next, failure, code, sig)
            }
            // A free re-queue raises the allowance with the attempt number, so the run keeps every
            // attempt it had left.
            let updated = try await db.execute(
                """
                UPDATE runs SET state = $2, attempt = CASE WHEN $2 = 'queued' THEN attempt + 1 ELSE attempt END,
                                max_attempts = CASE WHEN $4 = 1 THEN max_attempts + 1 ELSE max_attempts END,
                                lease_owner = CASE WHEN $2 = 'queued' THEN NULL ELSE lease_owner END,
                                lease_expires_at = NULL, last_failure = $3, updated_at = \(now)
                WHERE id = $1 RETURNING *
                """,
                [
                    .text(completion.run.rawValue), .text(newState.rawValue), cause.map { .text($0.rawValue) } ?? .null,
                    .integer(attemptIsFree ? 1 : 0),
                ])
            _ = try await db.execute(
                """
                UPDATE run_attempts SET ended_at = \(now), outcome = $3, cause = $4, exit_code = $5, signal = $6, log_tail = $7
                WHERE run_id = $1 AND lease_token = $2
                """,
                [
                    .text(completion.run.rawValue), .integer(completion.token), .text(cause == nil ? "succeeded" : "failed"),
                    cause.map { .text($0.rawValue) } ?? .null, exitCode.map { .integer(Int64($0)) } ?? .null,
                    signal.map { .integer(Int64($0)) } ?? .null, completion.logTail.map(SQLValue.text) ?? .null,
                ])
            try await Self.releaseSlot(sweep: run["sweep_id"], db: db)
            try await Self.completeSweepIfDone(try run.string("sweep_id"), db: db, dialect: dialect, now: now)
            return updated[0]
        }
        return try Self.runRecord(row)
    }

    public func evals(in sweep: SweepID) async throws -> [EvalRecord] {
        try await backend.execute(
            """
            SELECT e.run_id, e.attempt, e.step, e.tokens, e.domain, e.loss FROM evals e JOIN runs r ON r.id = e.run_id
            WHERE r.sweep_id = $1 ORDER BY r.run_index, e.attempt, e.step, e.domain
            """, [.text(sweep.rawValue)]
        ).map {
            EvalRecord(
                run: RunID(try $0.string("run_id")), attempt: try $0.int("attempt"), step: try $0.int64("step"),
                tokens: try $0.int64("tokens"), domain: try $0.string("domain"), loss: try $0.double("loss"))
        }
    }

    /// Why an operation on a lease was refused: the run does not exist, or the token is stale.
    private func refusal(run: RunID, token: Int64) async throws -> StoreError {
        guard try await self.run(run) != nil else { return StoreError(.unknownRun, "no run \(run)") }
        return StoreError(.staleLease, "run \(run): token \(token) is not the current lease")
    }

    /// Marks the sweep completed when none of its runs is left to end. On PostgreSQL the sweep's
    /// row is locked first: two transactions ending a sweep's last runs at once would otherwise
    /// each see the other's run still going (neither has committed) and both leave the sweep active.
    /// With the lock, the second waits for the first to commit and then sees its run ended. The
    /// lock comes after the run's, the order claims and lease expiry use too.
    static func completeSweepIfDone(_ sweep: String, db: any SQLExecutor, dialect: SQLDialect, now: String) async throws {
        if dialect == .postgres {
            _ = try await db.execute("SELECT id FROM sweeps WHERE id = $1 FOR UPDATE", [.text(sweep)])
        }
        _ = try await db.execute(
            """
            UPDATE sweeps SET state = 'completed', updated_at = \(now)
            WHERE id = $1 AND state = 'active'
              AND NOT EXISTS (SELECT 1 FROM runs WHERE sweep_id = $1 AND state NOT IN ('succeeded', 'failed', 'cancelled'))
            """, [.text(sweep)])
    }

    static func runRecord(_ row: SQLRow) throws -> RunRecord {
        let id = RunID(try row.string("id"))
        let state = RunState(rawValue: try row.string("state")) ?? .queued
        var lease: Lease?
        if [.assigned, .running].contains(state), let owner = row["lease_owner"].string, let expiry = row["lease_expires_at"].double {
            lease = Lease(
                run: id, worker: WorkerID(owner), attempt: try row.int("attempt"), token: try row.int64("lease_token"),
                expiresAt: Date(timeIntervalSince1970: expiry))
        }
        return RunRecord(
            id: id, sweep: SweepID(try row.string("sweep_id")), index: try row.int("run_index"), shares: try decode(row.string("shares_json")),
            budgetJSON: try row.string("budget_json"), gpus: try row.int("gpus"), cpus: try row.int("cpus"), state: state,
            attempt: try row.int("attempt"), maxAttempts: try row.int("max_attempts"), lease: lease,
            lastFailure: row["last_failure"].string.flatMap(FailureCause.init(rawValue:)))
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }
}
