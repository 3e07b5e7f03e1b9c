import Foundation
import MixLabTestSupport

/// Runs the built `mixlab` executable as a real subprocess and captures what it prints.
struct CommandLineRunner {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let executable = URL(fileURLWithPath: MixLabExecutable.path)

    static func run(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A temporary directory with helpers to write CSV files into it.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

/// Synthetic three-domain proxy runs from a known exponential mixing law, deterministic.
enum SyntheticRuns {
    static let domains = ["web", "code", "math"]

    static func loss(_ r: [Double]) -> Double {
        2.0 + 0.8 * exp(-1.5 * r[0] + 0.4 * r[1] - 0.9 * r[2])
    }

    static func mixtures(count: Int) -> [[Double]] {
        (0..<count).map { i in
            let a = Double((i * 7) % 11 + 1), b = Double((i * 5) % 13 + 1), c = Double((i * 3) % 7 + 1)
            return [a, b, c].map { $0 / (a + b + c) }
        }
    }

    static func ratiosCSV(_ mixtures: [[Double]], idPrefix: String = "run") -> String {
        "run_id," + domains.joined(separator: ",") + "\n"
            + mixtures.enumerated().map { "\(idPrefix)\($0.offset)," + $0.element.map { String($0) }.joined(separator: ",") }
            .joined(separator: "\n") + "\n"
    }

    static func metricsCSV(_ mixtures: [[Double]], idPrefix: String = "run") -> String {
        "run_id,valid_loss,other\n"
            + mixtures.enumerated().map { "\(idPrefix)\($0.offset),\(loss($0.element)),1.0" }.joined(separator: "\n") + "\n"
    }
}
