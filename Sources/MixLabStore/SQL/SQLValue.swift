/// A value bound into, or read out of, a SQL statement; the common ground of PostgreSQL and SQLite.
/// Arrays are PostgreSQL-only (for `UNNEST` batch inserts).
enum SQLValue: Sendable, Equatable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case null
    case integers([Int64])
    case reals([Double])
    case texts([String])

    var int: Int? {
        switch self {
        case .integer(let v): Int(v)
        case .real(let v): Int(v)
        default: nil
        }
    }

    var int64: Int64? {
        switch self {
        case .integer(let v): v
        case .real(let v): Int64(v)
        default: nil
        }
    }

    var double: Double? {
        switch self {
        case .integer(let v): Double(v)
        case .real(let v): v
        default: nil
        }
    }

    var string: String? {
        if case .text(let s) = self { return s }
        return nil
    }
}

/// One result row, by column name.
struct SQLRow: Sendable {
    var columns: [String: SQLValue]

    subscript(_ name: String) -> SQLValue { columns[name] ?? .null }

    func string(_ name: String) throws -> String {
        guard let value = self[name].string else { throw StoreError(.connection, "column \(name) is not text") }
        return value
    }

    func int(_ name: String) throws -> Int {
        guard let value = self[name].int else { throw StoreError(.connection, "column \(name) is not an integer") }
        return value
    }

    func int64(_ name: String) throws -> Int64 {
        guard let value = self[name].int64 else { throw StoreError(.connection, "column \(name) is not an integer") }
        return value
    }

    func double(_ name: String) throws -> Double {
        guard let value = self[name].double else { throw StoreError(.connection, "column \(name) is not a number") }
        return value
    }
}

/// The two SQL dialects the store speaks.
enum SQLDialect: Sendable {
    case postgres
    case sqlite

    /// The database clock, as seconds since the Unix epoch.
    var now: String {
        switch self {
        case .postgres: "extract(epoch from clock_timestamp())::float8"
        case .sqlite: "((julianday('now') - 2440587.5) * 86400.0)"
        }
    }

    /// Row locks (SQLite serialises writers instead, so it needs none): skip rows another claimer
    /// holds, lock for update, lock for share; each applies to the table aliased `r`.
    var skipLocked: String { self == .postgres ? "FOR UPDATE OF r SKIP LOCKED" : "" }
    var forUpdate: String { self == .postgres ? "FOR UPDATE OF r" : "" }
    var forShare: String { self == .postgres ? "FOR SHARE OF r" : "" }
}

/// Runs statements with `$1, $2, …` placeholders.
protocol SQLExecutor: Sendable {
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
}

/// What a backend does when the connection drops after a write was sent but before its outcome
/// arrived (for a transaction: after `COMMIT` was sent), so the write may or may not have committed.
/// Failures before that point are always retried: nothing was committed.
enum CommitUncertainty<T: Sendable>: Sendable {
    /// Run the write again: it is idempotent.
    case rerun
    /// Throw ``StoreError`` `.connection` saying the outcome is unknown; never run it twice.
    case fail
    /// Ask the database (retrying reads): `check` returns the committed result, or nil when
    /// nothing was committed, in which case the write runs again.
    case check(@Sendable (any SQLExecutor) async throws -> T?)
}

/// A database the store can run on: statements, and transactions that commit or roll back whole.
/// Transient failures (server restart, dropped connection) are retried with backoff as far as
/// `ifCommitUnknown` allows.
protocol SQLBackend: SQLExecutor {
    var dialect: SQLDialect { get }
    /// Runs one statement on its own (autocommit).
    func execute(_ sql: String, _ binds: [SQLValue], ifCommitUnknown: CommitUncertainty<[SQLRow]>) async throws -> [SQLRow]
    /// Runs `body` in one transaction; it commits when `body` returns and rolls back when it throws.
    func transaction<T: Sendable>(
        ifCommitUnknown: CommitUncertainty<T>, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T
}

extension SQLBackend {
    /// Runs an idempotent statement (a read, or a write that changes nothing when repeated).
    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try await execute(sql, binds, ifCommitUnknown: .rerun)
    }

    /// Runs an idempotent transaction.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await transaction(ifCommitUnknown: .rerun, body)
    }
}
