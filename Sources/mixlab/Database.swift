import ArgumentParser
import Logging
import MixLabCore
import MixLabStore

extension MixLab {
    struct Database: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "db", abstract: "Manage the store's database.", subcommands: [Migrate.self])
    }

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations and print the versions applied.")

        @Option(help: "sqlite:///path/to/mixlab.db or postgres://user[:password]@host[:port]/db") var database: String

        func run() async throws {
            let url = try storeURL(database)
            let applied = try await SQLStore.with(url) { store in try await store.migrate() }
            print(applied.isEmpty ? "\(url): schema is up to date" : "\(url): applied \(applied.map(String.init).joined(separator: ", "))")
        }
    }
}

/// Parses `--database`, turning a bad URL into an input error (the password is never shown).
func storeURL(_ text: String) throws -> StoreURL {
    do {
        return try StoreURL(parsing: text)
    } catch let error as StoreError {
        throw MixLabInputError(field: "--database", problem: error.message, fix: "see docs/operations.md for the URL format")
    }
}
