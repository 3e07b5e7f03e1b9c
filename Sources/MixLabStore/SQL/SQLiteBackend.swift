import Foundation
import Logging
import SQLiteNIO

/// The embedded backend: one SQLite file in WAL mode, every statement and transaction serialised
/// through one connection (SQLite allows one writer at a time anyway).
final class SQLiteBackend: SQLBackend {
    let dialect = SQLDialect.sqlite
    private let connection: SQLiteConnection
    private let lock = AsyncLock()

    private init(connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Opens (creating if needed) the database file at `path`.
    static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError(.connection, "cannot open SQLite database \(path): \(error)")
        }
        let backend = SQLiteBackend(connection: connection)
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000"] {
            _ = try await backend.execute(pragma, [])
        }
        return backend
    }

    func close() async throws { try await connection.close() }

    /// An embedded file has no connection to lose, so `ifCommitUnknown` never applies.
    func execute(_ sql: String, _ binds: [SQLValue], ifCommitUnknown: CommitUncertainty<[SQLRow]>) async throws -> [SQLRow] {
        try await lock.withLock { try await self.run(sql, binds) }
    }

    func transaction<T: Sendable>(
        ifCommitUnknown: CommitUncertainty<T>, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        try await lock.withLock {
            _ = try await self.run("BEGIN IMMEDIATE", [])
            do {
                let result = try await body(Unlocked(backend: self))
                _ = try await self.run("COMMIT", [])
                return result
            } catch {
                _ = try? await self.run("ROLLBACK", [])
                throw error
            }
        }
    }

    /// The executor handed to a transaction body: it already holds the lock.
    private struct Unlocked: SQLExecutor {
        let backend: SQLiteBackend
        func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] { try await backend.run(sql, binds) }
    }

    private func run(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let data = try binds.map { value -> SQLiteData in
            switch value {
            case .integer(let v): return .integer(Int(v))
            case .real(let v): return .float(v)
            case .text(let v): return .text(v)
            case .null: return .null
            case .integers, .reals, .texts: throw StoreError(.connection, "array binds are PostgreSQL-only")
            }
        }
        let rows: [SQLiteRow]
        do {
            rows = try await connection.query(Self.positional(sql), data)
        } catch {
            throw StoreError(.connection, "SQLite: \(error)")
        }
        return rows.map { row in
            var columns: [String: SQLValue] = [:]
            for column in row.columns {
                switch column.data {
                case .integer(let v): columns[column.name] = .integer(Int64(v))
                case .float(let v): columns[column.name] = .real(v)
                case .text(let v): columns[column.name] = .text(v)
                case .blob, .null: columns[column.name] = .null
                }
            }
            return SQLRow(columns: columns)
        }
    }

    /// `$3` → `?3`: SQLite reads `$3` as a *named* parameter.
    static func positional(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.count)
        var previousWasDollar = false
        for c in sql {
            if previousWasDollar {
                out.append(c.isNumber ? "?" : "$")
                previousWasDollar = false
            }
            if c == "$" { previousWasDollar = true; continue }
            out.append(c)
        }
        if previousWasDollar { out.append("$") }
        return out
    }
}
