import Foundation
import Logging
public import MixLabCore
import Synchronization

/// The one implementation of ``MixLabStore``: all logic and SQL written once over a
/// ``SQLBackend``, diverging only where PostgreSQL and SQLite must (clock expression, row locks,
/// batch insert).
///
/// Open one with ``openSQLite(path:logger:)`` or ``withPostgres(_:logger:_:)``.
public final class SQLStore: MixLabStore {
    let backend: any SQLBackend
    let logger: Logger
    private let staleReports = Mutex(0)
    /// Eval domains by run (they never change once a sweep exists), so the PostgreSQL ingest path
    /// can validate a batch without reading the sweep.
    private let evalDomainsByRun = Mutex<[RunID: Set<String>]>([:])

    init(backend: any SQLBackend, logger: Logger) {
        self.backend = backend
        self.logger = logger
    }

    var dialect: SQLDialect { backend.dialect }
    var now: String { backend.dialect.now }

    public func staleReportCount() async -> Int { staleReports.withLock { $0 } }

    func countStaleReport() { staleReports.withLock { $0 += 1 } }

    func cachedEvalDomains(of run: RunID) -> Set<String>? { evalDomainsByRun.withLock { $0[run] } }

    func cacheEvalDomains(_ domains: Set<String>, of run: RunID) { evalDomainsByRun.withLock { $0[run] = domains } }

    // MARK: Migrations

    public func schemaVersion() async throws -> Int {
        _ = try await backend.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)", [])
        let rows = try await backend.execute("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations", [])
        return try rows.first?.int("version") ?? 0
    }

    public func migrate() async throws -> [Int] {
        let known = dialect == .postgres ? Migrations.postgres : Migrations.sqlite
        let current = try await schemaVersion()
        let newest = known.map(\.version).max() ?? 0
        guard current <= newest else {
            throw StoreError(
                .schemaTooNew,
                "the database is at schema version \(current) but this MixLab knows versions up to \(newest); upgrade MixLab (never downgrade a database)")
        }
        var applied: [Int] = []
        for migration in known where migration.version > current {
            let statements = Self.statements(migration.sql)
            let now = self.now
            let version = Int64(migration.version)
            let migrationCommitted = CommitUncertainty<Void>.check { db in
                let rows = try await db.execute("SELECT 1 AS applied FROM schema_migrations WHERE version = $1", [.integer(version)])
                return rows.isEmpty ? nil : ()
            }
            try await backend.transaction(ifCommitUnknown: migrationCommitted) { db in
                for statement in statements { _ = try await db.execute(statement, []) }
                _ = try await db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, \(now))",
                    [.integer(Int64(migration.version)), .text(migration.name)])
            }
            logger.info("applied migration", metadata: ["mixlab.migration": "\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }

    /// Splits a migration file into statements (statements end with `;` at the end of a line; comment
    /// lines are dropped).
    static func statements(_ sql: String) -> [String] {
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).filter {
            !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--")
        }
        return lines.joined(separator: "\n").components(separatedBy: ";\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: ";")) }
            .filter { !$0.isEmpty }
    }

    // MARK: Sweeps

    public func createSweep(_ sweep: NewSweep) async throws -> SweepRecord {
        try Self.validate(sweep)
        let now = self.now
        // A client key makes the transaction idempotent; without one, a sweep with this id and spec
        // found after a lost COMMIT is the one this call wrote.
        var committed = CommitUncertainty<Bool>.rerun
        if sweep.clientKey == nil {
            let binds: [SQLValue] = [.text(sweep.id.rawValue), .text(sweep.specHash), .text(sweep.specJSON)]
            committed = .check { db in
                let found = try await db.execute("SELECT 1 AS found FROM sweeps WHERE id = $1 AND spec_hash = $2 AND spec_json = $3", binds)
                return found.isEmpty ? nil : true
            }
        }
        let created: Bool = try await backend.transaction(ifCommitUnknown: committed) { db in
            if let key = sweep.clientKey,
                !(try await db.execute("SELECT id FROM sweeps WHERE client_key = $1", [.text(key)])).isEmpty
            {
                return false
            }
            _ = try await db.execute(
                """
                INSERT INTO sweeps (id, name, client_key, spec_json, spec_hash, domains_json, eval_domains_json, state, priority,
                                    max_attempts, max_concurrent, created_at, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $10, \(now), \(now))
                """,
                [
                    .text(sweep.id.rawValue), .text(sweep.name), sweep.clientKey.map(SQLValue.text) ?? .null, .text(sweep.specJSON),
                    .text(sweep.specHash), .text(Self.json(sweep.domains)), .text(Self.json(sweep.evalDomains)),
                    .integer(Int64(sweep.priority)), .integer(Int64(sweep.maxAttempts)),
                    sweep.maxConcurrentRuns.map { .integer(Int64($0)) } ?? .null,
                ])
            try await Self.insertRuns(sweep.runs, of: sweep.id, maxAttempts: sweep.maxAttempts, db: db, now: now)
            return true
        }
        if !created, let key = sweep.clientKey {
            let rows = try await backend.execute("SELECT id FROM sweeps WHERE client_key = $1", [.text(key)])
            let id = SweepID(try rows[0].string("id"))
            guard let existing = try await self.sweep(id) else { throw StoreError(.unknownSweep, "sweep \(id) vanished") }
            return existing
        }
        guard let stored = try await self.sweep(sweep.id) else { throw StoreError(.unknownSweep, "sweep \(sweep.id) was not stored") }
        return stored
    }

    /// Inserts queued runs of a sweep, 500 per statement.
    static func insertRuns(_ runs: [NewRun], of sweep: SweepID, maxAttempts: Int, db: any SQLExecutor, now: String) async throws {
        for chunk in stride(from: 0, to: runs.count, by: 500) {
            var values: [String] = []
            var binds: [SQLValue] = []
            for run in runs[chunk..<min(chunk + 500, runs.count)] {
                let base = binds.count
                values.append("($\(base + 1), $\(base + 2), $\(base + 3), $\(base + 4), $\(base + 5), $\(base + 6), $\(base + 7), 'queued', 1, $\(base + 8), 0, \(now))")
                binds += [
                    .text(RunID.of(sweep, run.index).rawValue), .text(sweep.rawValue), .integer(Int64(run.index)),
                    .text(Self.json(run.shares)), .text(run.budgetJSON), .integer(Int64(run.gpus)), .integer(Int64(run.cpus)),
                    .integer(Int64(maxAttempts)),
                ]
            }
            _ = try await db.execute(
                """
                INSERT INTO runs (id, sweep_id, run_index, shares_json, budget_json, gpus, cpus, state, attempt, max_attempts,
                                  lease_token, updated_at)
                VALUES \(values.joined(separator: ", "))
                """, binds)
        }
    }

    static func validate(_ sweep: NewSweep) throws {
        guard !sweep.domains.isEmpty else { throw StoreError(.invalidSweep, "sweep \(sweep.id) has no domains") }
        guard sweep.maxAttempts >= 1 else { throw StoreError(.invalidSweep, "maxAttempts is \(sweep.maxAttempts); give at least 1") }
        if let cap = sweep.maxConcurrentRuns, cap < 1 {
            throw StoreError(.invalidSweep, "maxConcurrentRuns is \(cap); give at least 1 or leave it unset")
        }
        var indices = Set<Int>()
        for run in sweep.runs {
            guard indices.insert(run.index).inserted else { throw StoreError(.invalidSweep, "run index \(run.index) appears twice") }
            guard run.shares.count == sweep.domains.count, run.shares.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
                throw StoreError(.invalidSweep, "run \(run.index) needs \(sweep.domains.count) finite, non-negative shares")
            }
            guard run.gpus >= 0, run.cpus >= 0 else { throw StoreError(.invalidSweep, "run \(run.index) asks for negative slots") }
        }
    }

    public func sweep(_ id: SweepID) async throws -> SweepRecord? {
        guard let row = try await backend.execute("SELECT * FROM sweeps WHERE id = $1", [.text(id.rawValue)]).first else { return nil }
        return try await sweepRecord(row)
    }

    public func sweeps() async throws -> [SweepRecord] {
        var records: [SweepRecord] = []
        for row in try await backend.execute("SELECT * FROM sweeps ORDER BY created_at, id", []) {
            records.append(try await sweepRecord(row))
        }
        return records
    }

    public func setSweepState(_ id: SweepID, to state: SweepState) async throws {
        let rows = try await backend.execute(
            "UPDATE sweeps SET state = $2, updated_at = \(now) WHERE id = $1 RETURNING id", [.text(id.rawValue), .text(state.rawValue)])
        guard !rows.isEmpty else { throw StoreError(.unknownSweep, "no sweep \(id)") }
    }

    private func sweepRecord(_ row: SQLRow) async throws -> SweepRecord {
        let id = try row.string("id")
        let counts = try await backend.execute(
            "SELECT state, COUNT(*) AS n FROM runs WHERE sweep_id = $1 GROUP BY state", [.text(id)])
        var runCounts: [RunState: Int] = [:]
        for count in counts {
            if let state = RunState(rawValue: try count.string("state")) { runCounts[state] = try count.int("n") }
        }
        return SweepRecord(
            id: SweepID(id), name: try row.string("name"), clientKey: row["client_key"].string, specJSON: try row.string("spec_json"),
            specHash: try row.string("spec_hash"), domains: try Self.decode(row.string("domains_json")),
            evalDomains: try Self.decode(row.string("eval_domains_json")),
            state: SweepState(rawValue: try row.string("state")) ?? .active, priority: try row.int("priority"),
            maxAttempts: try row.int("max_attempts"), maxConcurrentRuns: row["max_concurrent"].int,
            createdAt: Date(timeIntervalSince1970: try row.double("created_at")),
            updatedAt: Date(timeIntervalSince1970: try row.double("updated_at")), runCounts: runCounts)
    }

    // MARK: Records and events

    /// Appends a row that must not be written twice: a connection lost after COMMIT was sent
    /// surfaces as `.connection` rather than a retry that could duplicate it.
    private func appendOnce(_ sql: String, _ binds: [SQLValue]) async throws {
        _ = try await backend.transaction(ifCommitUnknown: .fail) { db in try await db.execute(sql, binds) }
    }

    public func recordEvent(sweep: SweepID?, run: RunID?, kind: String, detail: String) async throws {
        try await appendOnce(
            "INSERT INTO events (sweep_id, run_id, kind, detail, created_at) VALUES ($1, $2, $3, $4, \(now))",
            [sweep.map { .text($0.rawValue) } ?? .null, run.map { .text($0.rawValue) } ?? .null, .text(kind), .text(detail)])
    }

    public func recordFit(_ fit: FitRecord) async throws {
        try await appendOnce(
            "INSERT INTO fits (sweep_id, law, report_json, created_at) VALUES ($1, $2, $3, \(now))",
            [.text(fit.sweep.rawValue), .text(fit.law), .text(fit.reportJSON)])
    }

    public func fits(in sweep: SweepID) async throws -> [FitRecord] {
        try await backend.execute("SELECT * FROM fits WHERE sweep_id = $1 ORDER BY id", [.text(sweep.rawValue)]).map {
            FitRecord(
                sweep: sweep, law: try $0.string("law"), reportJSON: try $0.string("report_json"),
                createdAt: Date(timeIntervalSince1970: try $0.double("created_at")))
        }
    }

    public func recordRecommendation(_ recommendation: RecommendationRecord) async throws {
        try await appendOnce(
            "INSERT INTO recommendations (sweep_id, law, shares_json, predicted_loss, report_json, created_at) VALUES ($1, $2, $3, $4, $5, \(now))",
            [
                .text(recommendation.sweep.rawValue), .text(recommendation.law), .text(Self.json(recommendation.shares)),
                .real(recommendation.predictedLoss), .text(recommendation.reportJSON),
            ])
    }

    public func recommendations(in sweep: SweepID) async throws -> [RecommendationRecord] {
        try await backend.execute("SELECT * FROM recommendations WHERE sweep_id = $1 ORDER BY id", [.text(sweep.rawValue)]).map {
            RecommendationRecord(
                sweep: sweep, law: try $0.string("law"), shares: try Self.decode($0.string("shares_json")),
                predictedLoss: try $0.double("predicted_loss"), reportJSON: try $0.string("report_json"),
                createdAt: Date(timeIntervalSince1970: try $0.double("created_at")))
        }
    }

    // MARK: JSON columns

    static func json<T: Encodable>(_ value: T) -> String {
        String(decoding: (try? JSONEncoder().encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ text: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

extension RunID {
    /// The id of run `index` of `sweep`.
    public static func of(_ sweep: SweepID, _ index: Int) -> RunID { RunID("\(sweep.rawValue)/\(index)") }

    /// The sweep the run belongs to (the id up to its last `/`).
    public var sweep: SweepID {
        guard let slash = rawValue.lastIndex(of: "/") else { return SweepID(rawValue) }
        return SweepID(String(rawValue[..<slash]))
    }
}

extension SQLStore {
    /// Test hook: records a schema version this binary does not know, as a newer MixLab would.
    public func simulateNewerSchema(version: Int) async throws {
        _ = try await backend.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'from-the-future', \(now))", [.integer(Int64(version))])
    }
}
