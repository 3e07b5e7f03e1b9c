import Foundation

/// Where the tests find the `mixlab` executable they run as a real subprocess: next to the test
/// bundle (how `swift test` lays out a build), else the package's debug build.
public enum MixLabExecutable {
    /// The package root (this file is Tests/MixLabTestSupport/MixLabExecutable.swift).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    public static let path: String = {
        let candidates: [String?] = [
            Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("mixlab").path,
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mixlab").path,
            repositoryRoot + "/.build/debug/mixlab",
        ]
        let paths = candidates.compactMap { $0 }
        return paths.first { FileManager.default.isExecutableFile(atPath: $0) } ?? paths.last!
    }()
}
