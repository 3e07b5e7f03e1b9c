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
    /// The longest one attempt of a statement or transaction may take; see ``withDeadline(_:)``.
    let operationDeadline: Duration

    init(client: PostgresClient, location: String, operationDeadline: Duration = .seconds(30), logger: Logger) {
        self.client = client
        self.location = location
        self.operationDeadline = operationDeadline
        self.logger = logger
    }

    func execute(_ sql: String, _ binds: [SQLValue], ifCommitUnknown: CommitUncertainty<[SQLRow]>) async throws -> [SQLRow] {
        let query = try Self.query(sql, binds)
        return try await withRetry(ifCommitUnknown) {
            try await self.withDeadline { attempt in
                try await self.client.withConnection { connection in
                    try attempt.begin(on: connection, sendsWrite: true)
                    do {
                        return try await Self.rows(of: query, on: connection, attempt: attempt, logger: self.logger)
                    } catch let error as PSQLError where Self.isTransient(error) {
                        // An autocommit statement may have committed before the connection dropped.
                        throw OutcomeUnknown(reason: "\(error.code)")
                    }
                }
            }
        }
    }

    func transaction<T: Sendable>(
        ifCommitUnknown: CommitUncertainty<T>, _ body: @escaping @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        try await withRetry(ifCommitUnknown) {
            try await self.withDeadline { attempt in
                try await self.client.withConnection { connection in
                    try attempt.begin(on: connection, sendsWrite: false)
                    return try await self.run(on: connection, attempt: attempt, body)
                }
            }
        }
    }

    /// One transaction on `connection`. Written here rather than with `PostgresClient.withTransaction`
    /// because that one always sends ROLLBACK after a failed body, and a statement written to a
    /// connection whose channel is already torn down is dropped by PostgresNIO 1.33.2 without ever
    /// failing (the hang behind the store issue). A dropped connection rolls back on the server anyway.
    private func run<T: Sendable>(
        on connection: PostgresConnection, attempt: Attempt, _ body: @Sendable (any SQLExecutor) async throws -> T
    ) async throws -> T {
        _ = try await attempt.awaitingServer { try await connection.query("BEGIN", logger: logger).get() }
        let value: T
        do {
            value = try await body(ConnectionExecutor(connection: connection, logger: logger, attempt: attempt))
        } catch {
            if !connection.isClosed, !((error as? PSQLError).map(Self.isTransient) ?? false) {
                _ = try? await attempt.awaitingServer { try await connection.query("ROLLBACK", logger: logger).get() }
            }
            throw error
        }
        attempt.committing()
        do {
            _ = try await attempt.awaitingServer { try await connection.query("COMMIT", logger: logger).get() }
        } catch let error as PSQLError where Self.isTransient(error) {
            // COMMIT was sent; whether it took effect is unknown when the connection dropped.
            throw OutcomeUnknown(reason: "\(error.code)")
        }
        return value
    }

    /// Runs one attempt, giving up on it once it has waited ``operationDeadline`` for the server
    /// (for a pooled connection or for one statement's answer; the client's own work between
    /// answers does not count, see ``Attempt``).
    ///
    /// PostgresNIO 1.33.2 can leave a query waiting forever: a statement written to a connection
    /// whose NIO pipeline was already torn down (the server or network dropped it a moment earlier,
    /// e.g. between a failed statement and the ROLLBACK, or between the pool handing the connection
    /// out and hearing that it closed) is discarded with no error, so its promise is never
    /// completed. Such a wait cannot be cancelled, and a task group would wait for it forever, so
    /// the attempt runs as an unstructured task that this call stops waiting for when the deadline
    /// passes: the attempt's connection is then closed (the pool replaces it, and a stalled server
    /// gets the query failed) and the attempt counts as a lost connection. If it was past the
    /// point where the write could have committed, the caller's ``CommitUncertainty`` decides;
    /// before it, the server rolled back and the attempt is simply retried. A task stuck inside
    /// the driver is left behind (a small leak, only when the driver lost a query).
    private func withDeadline<T: Sendable>(_ operation: @escaping @Sendable (Attempt) async throws -> T) async throws -> T {
        let attempt = Attempt()
        let race = DeadlineRace<T>()
        let limit = operationDeadline
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation)
                let work = Task {
                    do { race.finish(.success(try await operation(attempt))) } catch { race.finish(.failure(error)) }
                }
                let timer = Task {
                    var wakeUp = ContinuousClock.now + limit
                    while true {
                        try? await Task.sleep(until: wakeUp, clock: .continuous)
                        guard !Task.isCancelled else { return }
                        guard let expiry = attempt.expiry(after: limit) else {
                            // The client is working on an answer; look again soon.
                            wakeUp = .now + limit / 4
                            continue
                        }
                        if expiry > .now {
                            wakeUp = expiry
                            continue
                        }
                        let sentWrite = attempt.abandon()
                        work.cancel()
                        let expired = DeadlineExpired(limit: limit)
                        race.finish(.failure(sentWrite ? OutcomeUnknown(reason: "\(expired)") : expired))
                        return
                    }
                }
                race.onFinish { timer.cancel() }
                race.onCancel { work.cancel() }
            }
        } onCancel: {
            race.cancel()
        }
    }
    /// A transient failure after the write reached the server: it may have committed.
    private struct OutcomeUnknown: Error {
        let reason: String
    }

    /// Retries a whole statement or transaction when the server could not be reached or dropped the
    /// connection (a restart). A failure after the write reached the server is handled as `policy`
    /// says; one before it is always retried. A transaction the server aborted to break a deadlock
    /// or a serialization conflict is run again too: none of it was stored.
    private func withRetry<T>(_ policy: CommitUncertainty<T>, _ operation: () async throws -> T) async throws -> T {
        var delay = Duration.milliseconds(50)
        let attempts = 8
        for attempt in 1...attempts {
            let failure: String
            do {
                return try await operation()
            } catch let unknown as OutcomeUnknown {
                failure = unknown.reason
                switch policy {
                case .rerun:
                    break
                case .fail:
                    throw StoreError(
                        .connection,
                        "lost the connection to PostgreSQL at \(location) after the write was sent (\(failure)); "
                            + "it may or may not have been stored: check before repeating it")
                case .check(let check):
                    if let committed = try await check(self) { return committed }
                }
            } catch let error as PSQLError where Self.isTransient(error) {
                failure = "\(error.code)"
            } catch PostgresError.connectionClosed {
                // What PostgresNIO's COPY throws when the connection closed under it (a restart).
                failure = "connection closed during COPY"
            } catch let expired as DeadlineExpired {
                failure = "\(expired)"
            } catch let error as PSQLError where Self.isConflict(error) {
                guard attempt < attempts else {
                    throw StoreError(.connection, "PostgreSQL at \(location) aborted the transaction \(attempts) times: \(Self.message(error))")
                }
                logger.warning(
                    "transaction aborted by PostgreSQL, running it again",
                    metadata: ["mixlab.db": "\(location)", "mixlab.attempt": "\(attempt)", "mixlab.reason": "\(Self.message(error))"])
                try await Task.sleep(for: .milliseconds(Int64.random(in: 10...100)))
                continue
            } catch let error as PSQLError {
                throw StoreError(.connection, "PostgreSQL at \(location): \(Self.message(error))")
            }
            guard attempt < attempts else {
                throw StoreError(.connection, "cannot reach PostgreSQL at \(location): \(failure) (gave up after \(attempts) tries)")
            }
            logger.warning("database unreachable, retrying", metadata: ["mixlab.db": "\(location)", "mixlab.attempt": "\(attempt)"])
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(2))
        }
        throw StoreError(.connection, "cannot reach PostgreSQL at \(location)")
    }

    /// 40P01 deadlock_detected, 40001 serialization_failure: the server rolled the transaction back.
    private static func isConflict(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40P01" || state == "40001"
    }

    private static func message(_ error: PSQLError) -> String {
        error.serverInfo?[.message] ?? String(describing: error.code)
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
        let attempt: Attempt

        func execute(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
            try await PostgresBackend.rows(of: PostgresBackend.query(sql, binds), on: connection, attempt: attempt, logger: logger)
        }

        /// Runs a statement and returns how many rows it affected (from the command tag, so a large
        /// INSERT sends no rows back).
        func executeCountingRows(_ sql: String, _ binds: [SQLValue]) async throws -> Int {
            let query = try PostgresBackend.query(sql, binds)
            return try await attempt.awaitingServer { try await connection.query(query, logger: logger).get().metadata.rows ?? 0 }
        }

        /// `COPY table (columns) FROM STDIN` with `text` in COPY's text format (tab-separated, one
        /// row a line, backslash escapes).
        func copy(into table: String, columns: [String], text: String) async throws {
            // Until the server has answered the COPY statement the connection can be closed as any
            // other (a stalled answer must not leave the server in COPY holding the run's lock);
            // from the first CopyData on, a passing deadline closes it when the COPY ends.
            defer { attempt.leaveCopy() }
            try await attempt.awaitingServer {
                try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                    guard attempt.enterCopyData() else {
                        // The deadline closed the connection as the COPY started: failing the COPY
                        // before the driver has let go of the channel would trip the precondition.
                        try? await connection.closeFuture.get()
                        throw DeadlineExpired(limit: .zero)
                    }
                    try await writer.write(ByteBuffer(string: text))
                }
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

    /// Runs `query` and decodes its rows as they arrive. Every row counts as an answer from the
    /// server, so a large result that keeps coming never expires, however long the client takes
    /// to decode it; a result that stops coming does.
    static func rows(of query: PostgresQuery, on connection: PostgresConnection, attempt: Attempt, logger: Logger) async throws -> [SQLRow] {
        let sequence = try await attempt.awaitingServer { try await connection.query(query, logger: logger) }
        var iterator = sequence.makeAsyncIterator()
        var rows: [SQLRow] = []
        while let row = try await attempt.awaitingServer({ try await iterator.next() }) {
            rows.append(try decode(row))
        }
        return rows
    }

    static func decode(_ row: PostgresRow) throws -> SQLRow {
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
