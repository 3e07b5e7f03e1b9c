import Foundation

/// Locates `../shared/data` (the published run tables) beside the repository checkout.
enum SharedData {
    static let directory: URL = {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    /// Reads a shared data file; a missing file is a test failure that says where it was expected.
    static func text(_ relativePath: String) throws -> String {
        let url = directory.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw MissingSharedData(path: url.path)
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// A minimal CSV reader for the shared tables (no quoted commas occur in them).
    static func csv(_ relativePath: String) throws -> (header: [String], rows: [[String]]) {
        let lines = try text(relativePath).split(whereSeparator: \.isNewline).map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        return (header, rows)
    }

    struct MissingSharedData: Error, CustomStringConvertible {
        let path: String
        var description: String { "shared data file \(path) is missing: the tests expect the project's shared/ folder beside the checkout" }
    }
}

/// Locates the committed JSON fixtures of this test target.
enum Fixtures {
    static func url(_ name: String) throws -> URL {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw SharedData.MissingSharedData(path: "Fixtures/\(name)")
        }
        return url
    }
}
