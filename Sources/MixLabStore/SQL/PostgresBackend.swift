import Logging
import PostgresNIO

/// The multi-node backend: a `PostgresClient` connection pool. The client's `run()` must be
/// running for queries to be served (see ``SQLStore/withPostgres(_:logger:_:)``).
final class PostgresBackend: SQLBackend {
    let dialect = SQLDialect.postgres
    let client: PostgresClient
    private let logger: Logger
    /// Where the database is, for error messages (never includes the password).
    let location: String

    init(client: PostgresClient, location: String, logger: Logger) {
        self.client = client
        self.location = location
        self.logger = logger
    }

    func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        let query = try Self.query(sql, binds)
        return try await withRetry {
            try await Self.decode(self.client.query(query, logger: self.logger).collect())
        }
    }

    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await withRetry {
            do {
                return try await self.client.withTransaction(logger: self.logger) { connection in
                    try await body(ConnectionExecutor(connection: connection, logger: self.logger))
                }
            } catch let error as PostgresTransactionError {
                // Surface the cause: the body's own error, or the failed BEGIN/COMMIT.
                throw error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error
            }
        }
    }

    /// Retries a whole statement or transaction when the server could not be reached or dropped the
    /// connection (a restart): nothing was committed in that case, so running it again is safe.
    private func withRetry<T>(_ operation: () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(50)
        for attempt in 1...8 {
            do {
                return try await operation()
            } catch let error as PSQLError where Self.isTransient(error) && attempt < 8 {
                logger.warning("database unreachable, retrying", metadata: ["mixlab.db": "\(location)", "mixlab.attempt": "\(attempt)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            } catch let error as PSQLError {
                if Self.isTransient(error) {
                    throw StoreError(.connection, "cannot reach PostgreSQL at \(location): \(error.code)")
                }
                throw StoreError(.connection, "PostgreSQL at \(location): \(error.serverInfo?[.message] ?? String(describing: error.code))")
            }
        }
        throw StoreError(.connection, "cannot reach PostgreSQL at \(location)")
    }

    private static func isTransient(_ error: PSQLError) -> Bool {
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return error.code != .poolClosed
        case .server:
            // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P") || state.hasPrefix("08")
        default:
            return false
        }
    }

    private struct ConnectionExecutor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger

        func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await PostgresBackend.decode(connection.query(PostgresBackend.query(sql, binds), logger: logger).get().rows)
        }
    }

    static func query(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .integer(let v): bindings.append(v)
            case .real(let v): bindings.append(v)
            case .text(let v): bindings.append(v)
            case .null: bindings.appendNull()
            case .integers(let v): bindings.append(v)
            case .reals(let v): bindings.append(v)
            case .texts(let v): bindings.append(v)
            }
        }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    static func decode(_ rows: [PostgresRow]) throws -> [SQLRow] {
        try rows.map { row in
            var columns: [String: SQLValue] = [:]
            for cell in row {
                guard cell.bytes != nil else {
                    columns[cell.columnName] = .null
                    continue
                }
                switch cell.dataType {
                case .int2: columns[cell.columnName] = .integer(Int64(try cell.decode(Int16.self)))
                case .int4: columns[cell.columnName] = .integer(Int64(try cell.decode(Int32.self)))
                case .int8: columns[cell.columnName] = .integer(try cell.decode(Int64.self))
                case .float4, .float8: columns[cell.columnName] = .real(try cell.decode(Double.self))
                case .bool: columns[cell.columnName] = .integer(try cell.decode(Bool.self) ? 1 : 0)
                default: columns[cell.columnName] = .text(try cell.decode(String.self))
                }
            }
            return SQLRow(columns: columns)
        }
    }
}
