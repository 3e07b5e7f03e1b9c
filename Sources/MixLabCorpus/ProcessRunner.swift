import Foundation

/// Runs an external command to completion and collects its output. Output goes through temporary files,
/// so a chatty command can never block on a full pipe.
struct ProcessRunner: Sendable {
    struct Outcome: Sendable {
        var status: Int32
        var standardOutput: Data
        var standardError: Data

        var succeeded: Bool { status == 0 }
        /// The last non-empty line of standard error, for messages.
        var errorSummary: String {
            let text = String(decoding: standardError, as: UTF8.self)
            return text.split(separator: "\n").last { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map(String.init) ?? ""
        }
    }

    let scratch: URL

    /// The absolute path of `command` on `PATH`, or nil when it is not installed.
    static func locate(_ command: String) -> String? {
        if command.contains("/") { return FileManager.default.isExecutableFile(atPath: command) ? command : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(command)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) async throws -> Outcome {
        let token = UUID().uuidString
        let outURL = scratch.appendingPathComponent("\(token).out")
        let errURL = scratch.appendingPathComponent("\(token).err")
        try Data().write(to: outURL)
        try Data().write(to: errURL)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = outHandle
            process.standardError = errHandle
            process.terminationHandler = { finished in continuation.resume(returning: finished.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try outHandle.close()
        try errHandle.close()
        return Outcome(status: status, standardOutput: try Data(contentsOf: outURL), standardError: try Data(contentsOf: errURL))
    }
}
