import Foundation
import Testing

/// `mixlab sweep validate` and `mixlab sweep plan` through the built executable.
@Suite("mixlab sweep validate / plan")
struct SweepCommandTests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let executable: URL = {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent().appendingPathComponent("mixlab"),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mixlab"),
            SpecFixtures.repositoryRoot.appendingPathComponent(".build/debug/mixlab"),
        ].compactMap { $0 }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }()

    func mixlab(_ arguments: String...) throws -> Outcome {
        let process = Process()
        process.executableURL = Self.executable
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

    @Test("validate prints a summary for a good spec")
    func validateGood() throws {
        let outcome = try mixlab("sweep", "validate", SpecFixtures.example("smoke.yaml"))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        #expect(outcome.stdout.hasPrefix("ok: 8 runs, domains a, b, hash "))
    }

    @Test("validate prints every problem with file and line, and exits 2")
    func validateBad() throws {
        let scratch = try ScratchDirectory()
        let path = try scratch.write(
            "bad.yaml", SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{cpus: 0, gpus: -1}").replacingOccurrences(of: "runs: 8", with: "runs: 0"))
        let outcome = try mixlab("sweep", "validate", path)
        #expect(outcome.status == 2)
        let lines = outcome.stderr.split(separator: "\n")
        #expect(lines.count == 3, "\(outcome.stderr)")
        #expect(lines.allSatisfy { $0.hasPrefix("\(path): line ") })
        #expect(outcome.stderr.contains("trainer.resources.gpus: is -1"))
        let json = try mixlab("sweep", "validate", path, "--json")
        #expect(json.status == 2)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["ok"] as? Bool == false)
        #expect((report?["errors"] as? [[String: Any]])?.count == 3)
    }

    @Test("plan prints runs as CSV and JSON")
    func plan() throws {
        let csv = try mixlab("sweep", "plan", SpecFixtures.example("smoke.yaml"), "--csv")
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n")
        #expect(lines.first == "index,point,scale,seed,a,b,budget")
        #expect(lines.count == 9)
        let json = try mixlab("sweep", "plan", SpecFixtures.example("dcpt.yaml"), "--json")
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect((report?["runs"] as? [Any])?.count == 21)
        #expect((report?["hash"] as? String)?.count == 64)
    }
}
