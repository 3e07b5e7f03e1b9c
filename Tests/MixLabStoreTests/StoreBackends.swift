import Foundation
import Logging
import MixLabStore
import MixLabTestSupport

/// The backends every conformance test runs against.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Runs `body` with a fresh, migrated store of this backend; a test that hangs fails after
    /// five minutes instead of stalling the run.
    func withFreshStore<T: Sendable>(_ body: @escaping @Sendable (SQLStore) async throws -> T) async throws -> T {
        try await withDeadline(.seconds(300)) { try await self.open(body) }
    }

    private func open<T: Sendable>(_ body: @Sendable (SQLStore) async throws -> T) async throws -> T {
        var logger = Logger(label: "mixlab.store.test")
        logger.logLevel = .warning
        switch self {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-\(UUID().uuidString).db").path
            defer {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
            return try await SQLStore.with(StoreURL(parsing: "sqlite://\(path)"), logger: logger) { store in
                _ = try await store.migrate()
                return try await body(store)
            }
        case .postgres:
            let url = try PostgresTestCluster.shared().freshDatabaseURL("conformance")
            return try await SQLStore.with(StoreURL(parsing: url), logger: logger) { store in
                _ = try await store.migrate()
                return try await body(store)
            }
        }
    }
}

import Testing
