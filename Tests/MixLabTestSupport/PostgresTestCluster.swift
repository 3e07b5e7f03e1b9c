import Foundation
import Synchronization

/// A throwaway PostgreSQL cluster for tests: `initdb` + `pg_ctl` in a temporary folder, a random
/// port, a Unix socket, trust authentication, one database. Started once per test process on first
/// use and stopped when the process exits. When `MIXLAB_TEST_DATABASE_URL` is set, that server is
/// used instead and nothing is started.
public final class PostgresTestCluster: Sendable {
    /// The database URL tests connect to.
    public let url: String
    /// The server's port (nil for `MIXLAB_TEST_DATABASE_URL`).
    public let port: Int?
    let dataDirectory: String?
    let pgCtl: String?

    private static let sharedState = Mutex<Result<PostgresTestCluster, any Error>?>(nil)

    /// The cluster of this test process; a missing PostgreSQL installation is an error that says
    /// how to install it (tests fail, never skip).
    public static func shared() throws -> PostgresTestCluster {
        try sharedState.withLock { (state) throws -> PostgresTestCluster in
            if let state { return try state.get() }
            let result = Result { try PostgresTestCluster.start() }
            state = result
            if case .success = result { atexit { PostgresTestCluster.stopShared() } }
            return try result.get()
        }
    }

    private init(url: String, port: Int? = nil, dataDirectory: String?, pgCtl: String?) {
        self.url = url
        self.port = port
        self.dataDirectory = dataDirectory
        self.pgCtl = pgCtl
    }

    private static func start() throws -> PostgresTestCluster {
        if let url = ProcessInfo.processInfo.environment["MIXLAB_TEST_DATABASE_URL"], !url.isEmpty {
            return PostgresTestCluster(url: url, dataDirectory: nil, pgCtl: nil)
        }
        return try startPrivate()
    }

    /// A cluster of the caller's own (for tests that restart it); stop it with ``stop()``. With
    /// `tcp`, it also listens on 127.0.0.1 and ``url`` connects over TCP (``port``) instead of the
    /// Unix socket.
    public static func startPrivate(tcp: Bool = false) throws -> PostgresTestCluster {
        let initdb = try binary("initdb"), pgCtl = try binary("pg_ctl"), psql = try binary("psql")
        reapAbandonedClusters(pgCtl: pgCtl)
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        let data = root + "/data", sockets = root + "/sock"
        try FileManager.default.createDirectory(atPath: sockets, withIntermediateDirectories: true)
        let asRoot = getuid() == 0
        if asRoot { try run("/bin/chown", ["-R", "postgres", root]) }
        try run(initdb, ["-D", data, "-U", "mixlab", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], asPostgres: asRoot)
        let port = Int.random(in: 20_000...60_000)
        try run(pgCtl, [
            "-D", data, "-l", root + "/server.log", "-w", "start",
            "-o", "-p \(port) -k \(sockets) -c listen_addresses='\(tcp ? "127.0.0.1" : "")' -c fsync=off -c max_connections=100",
        ], asPostgres: asRoot)
        try run(psql, ["-h", sockets, "-p", "\(port)", "-U", "mixlab", "-d", "postgres", "-c", "CREATE DATABASE mixlab_test"])
        let url = tcp ? "postgres://mixlab@127.0.0.1:\(port)/mixlab_test" : "postgres://mixlab@/mixlab_test?host=\(sockets)&port=\(port)"
        return PostgresTestCluster(url: url, port: port, dataDirectory: data, pgCtl: pgCtl)
    }

    /// Stops a cluster from ``startPrivate()`` and deletes its files.
    public func stop() {
        guard let dataDirectory, let pgCtl else { return }
        _ = try? Self.run(pgCtl, ["-D", dataDirectory, "-m", "immediate", "stop"], asPostgres: getuid() == 0)
        try? FileManager.default.removeItem(atPath: (dataDirectory as NSString).deletingLastPathComponent)
    }

    /// Restarts the server (`pg_ctl restart -m fast`), dropping every connection.
    public func restart() throws {
        guard let dataDirectory, let pgCtl else { throw ClusterError("restart needs the harness's own cluster, not MIXLAB_TEST_DATABASE_URL") }
        try Self.run(pgCtl, ["-D", dataDirectory, "-m", "fast", "-w", "restart"], asPostgres: getuid() == 0)
    }

    /// A fresh, empty database on the cluster, so suites do not see each other's rows.
    public func freshDatabaseURL(_ name: String) throws -> String {
        guard dataDirectory != nil else { return url }
        let psql = try Self.binary("psql")
        let components = URLComponents(string: url)!
        let query = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        let database = "\(name)_\(UInt32.random(in: 0...UInt32.max))".lowercased()
        try Self.run(psql, ["-h", query["host"]!, "-p", query["port"]!, "-U", "mixlab", "-d", "postgres", "-c", "CREATE DATABASE \(database)"])
        return url.replacingOccurrences(of: "/mixlab_test?", with: "/\(database)?")
    }

    /// The unaligned, tuple-only output of `sql` run by psql in the database of `databaseURL` (a
    /// URL from ``freshDatabaseURL(_:)``), for tests that read PostgreSQL's own statistics.
    /// psql's and the server's messages (`psql: …`, `WARNING: …`, `NOTICE: …`) are left out.
    public func query(_ sql: String, databaseURL: String) throws -> String {
        guard let components = URLComponents(string: databaseURL) else { throw ClusterError("not a database URL: \(databaseURL)") }
        let options = Dictionary(uniqueKeysWithValues: (components.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        var arguments = ["-XtA", "-U", components.user ?? "mixlab", "-d", String(components.path.dropFirst()), "-c", sql]
        if let host = options["host"] ?? components.host, !host.isEmpty { arguments += ["-h", host] }
        if let port = options["port"] ?? components.port.map(String.init) { arguments += ["-p", port] }
        let output = try Self.run(try Self.binary("psql"), arguments)
        let messages = ["psql:", "WARNING:", "NOTICE:", "INFO:", "DETAIL:", "HINT:"]
        return output.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !messages.contains { line.hasPrefix($0) } }
            .joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops clusters left behind by test processes that were killed before their exit handler ran
    /// (their folder name carries the owning process id).
    static func reapAbandonedClusters(pgCtl: String) {
        let temporary = FileManager.default.temporaryDirectory.path
        for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where name.hasPrefix("mixlab-pg-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, let owner = Int32(parts[2]), kill(owner, 0) != 0, errno == ESRCH else { continue }
            let folder = temporary + "/" + name
            _ = try? run(pgCtl, ["-D", folder + "/data", "-m", "immediate", "stop"], asPostgres: getuid() == 0)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private static func stopShared() {
        guard case .success(let cluster)? = sharedState.withLock({ $0 }), let data = cluster.dataDirectory, let pgCtl = cluster.pgCtl else { return }
        _ = try? run(pgCtl, ["-D", data, "-m", "immediate", "stop"], asPostgres: getuid() == 0)
        try? FileManager.default.removeItem(atPath: (data as NSString).deletingLastPathComponent)
    }

    static func binary(_ name: String) throws -> String {
        var candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            candidates += versions.sorted(by: >).map { "/usr/lib/postgresql/\($0)/bin/\(name)" }
        }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ClusterError("PostgreSQL's \(name) was not found on PATH or in /usr/lib/postgresql/*/bin; install it with `apt-get install -y postgresql` (or set MIXLAB_TEST_DATABASE_URL)")
        }
        return found
    }

    /// Runs a command to completion with posix_spawn and waitpid (Foundation's `Process` can wait
    /// forever for a child that has already exited when called from a Swift concurrency thread).
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], asPostgres: Bool = false) throws -> String {
        let argv = asPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-cmd-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw ClusterError("cannot start \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            throw ClusterError("\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) failed (status \(status)): \(text)")
        }
        return text
    }

    /// A harness failure, with what to do about it.
    public struct ClusterError: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }
}
