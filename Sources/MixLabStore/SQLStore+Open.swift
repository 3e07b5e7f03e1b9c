import Foundation
public import Logging
import MixLabCore
import PostgresNIO

/// Where the store lives: `sqlite:PATH`, `sqlite:///absolute/path.db` (or a bare file path), or
/// `postgres://user[:password]@host[:port]/database`, or `postgres://user@/database?host=/socket/dir[&port=N]`
/// for a Unix socket. ``description`` never shows the password.
public struct StoreURL: Sendable, Equatable, CustomStringConvertible {
    /// The backend and where to find it.
    public enum Location: Sendable, Equatable {
        case sqlite(path: String)
        case postgresTCP(host: String, port: Int)
        case postgresSocket(path: String)
    }

    public var location: Location
    public var username: String?
    public var password: String?
    public var database: String?

    public init(parsing text: String) throws {
        if !text.contains("://"), text.hasPrefix("sqlite:") {
            // `sqlite:PATH`, relative or absolute: the short form the CLI documents.
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw StoreError(.invalidURL, "\(text) names no file; use sqlite:PATH, e.g. sqlite:mixlab.db") }
            self.init(location: .sqlite(path: path))
            return
        }
        if !text.contains("://") {
            guard !text.isEmpty else { throw StoreError(.invalidURL, "the database URL is empty; give sqlite:///path/to/mixlab.db or postgres://user@host/db") }
            self.init(location: .sqlite(path: text))
            return
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme else {
            throw StoreError(.invalidURL, "\(Self.redacted(text)) is not a URL; use sqlite:///path/to/mixlab.db or postgres://user@host:5432/db")
        }
        switch scheme {
        case "sqlite":
            let path = components.path
            guard !path.isEmpty else { throw StoreError(.invalidURL, "\(text) names no file; use sqlite:///absolute/path/mixlab.db") }
            self.init(location: .sqlite(path: path))
        case "postgres", "postgresql":
            let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
            let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            let port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
            let location: Location
            if let socketDirectory = query["host"], socketDirectory.hasPrefix("/") {
                location = .postgresSocket(path: "\(socketDirectory)/.s.PGSQL.\(port)")
            } else if let host = components.host, !host.isEmpty {
                location = .postgresTCP(host: host, port: port)
            } else {
                throw StoreError(.invalidURL, "\(Self.redacted(text)) names no host; add @host:port or ?host=/socket/dir")
            }
            guard let user = components.user, !user.isEmpty else {
                throw StoreError(.invalidURL, "\(Self.redacted(text)) names no user; write postgres://USER@host/db")
            }
            self.init(location: location, username: user, password: components.password, database: database.isEmpty ? nil : database)
        default:
            throw StoreError(.invalidURL, "scheme \(scheme) is not supported; use sqlite:// or postgres://")
        }
    }

    public init(location: Location, username: String? = nil, password: String? = nil, database: String? = nil) {
        self.location = location
        self.username = username
        self.password = password
        self.database = database
    }

    public var description: String {
        switch location {
        case .sqlite(let path): return "sqlite://\(path)"
        case .postgresTCP(let host, let port): return "postgres://\(username ?? "")@\(host):\(port)/\(database ?? "")"
        case .postgresSocket(let path): return "postgres://\(username ?? "")@/\(database ?? "") (socket \(path))"
        }
    }

    /// `text` with any `:password@` part replaced.
    static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://"), scheme.upperBound < at else { return text }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[at...])
    }
}

extension SQLStore {
    /// Opens (creating if needed) an embedded store in the SQLite file at `path`.
    public static func openSQLite(path: String, logger: Logger = Logger(label: "mixlab.store")) async throws -> SQLStore {
        SQLStore(backend: try await SQLiteBackend.open(path: path, logger: logger), logger: logger)
    }

    /// Runs `body` with a store on `url` (either backend); for PostgreSQL the connection pool runs
    /// for exactly that long.
    /// `operationDeadline` bounds how long one attempt of a PostgreSQL statement or transaction
    /// waits for the server (for a connection, or for one statement's answer): when it passes, the
    /// connection is dropped and the operation is handled as after a lost connection (retried, or
    /// checked for whether it committed). The server also ends any session left idle inside a
    /// transaction for twice that long, so an attempt the client gave up on cannot keep holding row
    /// locks. SQLite ignores it.
    public static func with<T: Sendable>(
        _ url: StoreURL, logger: Logger = Logger(label: "mixlab.store"), operationDeadline: Duration = .seconds(30),
        _ body: @Sendable (SQLStore) async throws -> T
    ) async throws -> T {
        switch url.location {
        case .sqlite(let path):
            let store = try await openSQLite(path: path, logger: logger)
            do {
                let result = try await body(store)
                try await store.close()
                return result
            } catch {
                try? await store.close()
                throw error
            }
        case .postgresTCP, .postgresSocket:
            return try await withPostgres(url, logger: logger, operationDeadline: operationDeadline, body)
        }
    }

    /// Runs `body` with a PostgreSQL store; the pool's `run()` is a child task that ends with it.
    public static func withPostgres<T: Sendable>(
        _ url: StoreURL, logger: Logger = Logger(label: "mixlab.store"), operationDeadline: Duration = .seconds(30),
        _ body: @Sendable (SQLStore) async throws -> T
    ) async throws -> T {
        var configuration: PostgresClient.Configuration
        switch url.location {
        case .postgresTCP(let host, let port):
            configuration = .init(
                host: host, port: port, username: url.username ?? "", password: url.password, database: url.database, tls: .disable)
        case .postgresSocket(let path):
            configuration = .init(unixSocketPath: path, username: url.username ?? "", password: url.password, database: url.database)
        case .sqlite:
            throw StoreError(.invalidURL, "\(url) is not a PostgreSQL URL")
        }
        guard operationDeadline > .zero else {
            throw MixLabInputError(field: "operationDeadline", problem: "\(operationDeadline) is not positive", fix: "give a deadline such as 30 seconds")
        }
        configuration.options.additionalStartupParameters.append(
            ("idle_in_transaction_session_timeout", "\(Self.idleInTransactionTimeoutMilliseconds(operationDeadline))"))
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        let store = SQLStore(backend: PostgresBackend(client: client, location: url.description, operationDeadline: operationDeadline, logger: logger), logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(store)
        }
    }

    /// The server-side bound on a session idle inside a transaction: twice the operation deadline
    /// (at least one second), well above any pause of a live attempt between its statements.
    static func idleInTransactionTimeoutMilliseconds(_ operationDeadline: Duration) -> Int64 {
        max(1_000, Int64((operationDeadline * 2).inSeconds * 1_000))
    }

    /// Closes an SQLite store (PostgreSQL stores close when their scope ends).
    public func close() async throws {
        if let sqlite = backend as? SQLiteBackend { try await sqlite.close() }
    }
}
