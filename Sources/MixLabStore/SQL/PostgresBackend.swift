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

    func execute(_ sql: String, _ binds: [SQLValue], ifCommitUnknown: CommitUncertainty<[SQLRow]>) async throws -> [SQLRow] {
        let query = try Self.query(sql, binds)
        return try await withRetry(ifCommitUnknown) {
            do {
                return try await Self.decode(self.client.query(query, logger: self.logger).collect())
            } catch let error as PSQLError where Self.isTransient(error) {
                // An autocommit statement may have committed before the connection dropped.
                throw OutcomeUnknown(error: error)
            }
        }
    }

    func transaction<T: Sendable>(
        ifCommitUnknown: CommitUncertainty<T>, _ body: @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        try await withRetry(ifCommitUnknown) {
            do {
                return try await self.client.withTransaction(logger: self.logger) { connection in
                    try await body(ConnectionExecutor(connection: connection, logger: self.logger))
                }
            } catch let error as PostgresTransactionError {
                if let commitError = error.commitError {
                    // COMMIT was sent; whether it took effect is unknown when the connection dropped.
                    if let failure = commitError as? PSQLError, Self.isTransient(failure) { throw OutcomeUnknown(error: failure) }
                    throw commitError
                }
                // Before COMMIT: the server rolls back a transaction whose connection drops.
                throw error.closureError ?? error.beginError ?? error.rollbackError ?? error
            }
        }
    }

    /// A transient failure after the write reached the server: it may have committed.
    private struct OutcomeUnknown: Error {
        let error: PSQLError
    }

    /// Retries a whole statement or transaction when the server could not be reached or dropped the
    /// connection (a restart). A failure after the write reached the server is handled as `policy`
    /// says; one before it is always retried.
    private func withRetry<T>(_ policy: CommitUncertainty<T>, _ operation: () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(50)
        let attempts = 8
        for attempt in 1...attempts {
            let failure: PSQLError
            do {
                return try await operation()
            } catch let unknown as OutcomeUnknown {
                failure = unknown.error
                switch policy {
                case .rerun:
                    break
                case .fail:
                    throw StoreError(
                        .connection,
                        "lost the connection to PostgreSQL at \(location) after the write was sent (\(failure.code)); "
                            + "it may or may not have been stored: check before repeating it")
                case .check(let check):
                    if let committed = try await check(self) { return committed }
                }
            } catch let error as PSQLError where Self.isTransient(error) {
                failure = error
            } catch let error as PSQLError {
                throw StoreError(.connection, "PostgreSQL at \(location): \(error.serverInfo?[.message] ?? String(describing: error.code))")
            }
            guard attempt < attempts else {
                throw StoreError(.connection, "cannot reach PostgreSQL at \(location): \(failure.code) (gave up after \(attempts) tries)")
            }
            logger.warning("database unreachable, retrying", metadata: ["mixlab.db": "\(location)", "mixlab.attempt": "\(attempt)"])
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
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

    /// The executor a PostgreSQL transaction body gets: one connection, which can also COPY.
    struct ConnectionExecutor: SQLExecutor {
        let connection: PostgresConnection
        let logger: Logger

        func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await PostgresBackend.decode(connection.query(PostgresBackend.query(sql, binds), logger: logger).get().rows)
        }

        /// Runs a statement and returns how many rows it affected (from the command tag, so a large
        /// INSERT sends no rows back).
        func executeCountingRows(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
            try await connection.query(PostgresBackend.query(sql, binds), logger: logger).get().metadata.rows ?? 0
        }

        /// `COPY table (columns) FROM STDIN` with `text` in COPY's text format (tab-separated, one
        /// row a line, backslash escapes).
        func copy(into table: String, columns: [String], text: String) async throws {
            try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                try await writer.write(ByteBuffer(string: text))
            }
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
