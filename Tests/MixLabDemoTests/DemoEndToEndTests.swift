import Foundation
import MixLabDemo
import MixLabTestSupport
import Testing

/// The reduced demo through the real `mixlab` executable: coordinator and workers as processes,
/// mutual TLS, ProxyLM runs on the synthetic corpus, fits, files, verification, clean shutdown.
@Suite("mixlab demo end to end", .serialized)
struct DemoEndToEndTests {
    static let executable = MixLabExecutable.path

    @Test("reduced demo on the embedded SQLite store")
    func sqlite() async throws {
        try await runReducedDemo(database: nil)
    }

    @Test("reduced demo on PostgreSQL")
    func postgres() async throws {
        let url = try PostgresTestCluster.shared().freshDatabaseURL("demo_\(UUID().uuidString.prefix(6).lowercased())")
        try await runReducedDemo(database: url)
    }

    func runReducedDemo(database: String?) async throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-demo-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        var arguments = [
            "demo", "--out", out, "--corpus", "synthetic", "--corpus-mib", "0.1", "--runs", "8", "--tokens", "20000",
            "--model-size", "tiny", "--verify", "--verify-seeds", "2",
        ]
        if let database { arguments += ["--database", database] }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let demo = try ChildProcess(Self.executable, arguments, logPath: out + ".log")
        defer { try? FileManager.default.removeItem(atPath: out + ".log") }
        let status = try await demo.wait(timeout: .seconds(600))
        #expect(status == 0, "mixlab demo exited \(status):\n\(demo.output.suffix(6000))")
        guard status == 0 else { return }

        let data = try Data(contentsOf: URL(fileURLWithPath: out + "/summary.json"))
        let summary = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(summary["runs"] as? Int == 8)
        #expect(summary["succeeded"] as? Int == 8, "\(demo.output.suffix(3000))")
        #expect(summary["failed"] as? Int == 0)
        let laws = try #require(summary["laws"] as? [[String: Any]])
        #expect(Set(laws.compactMap { $0["law"] as? String }) == ["dml", "linear"])
        for law in laws {
            let mixture = try #require(law["mixture"] as? [String: Double], "law \(law["law"] ?? "?") has no mixture: \(law)")
            #expect(Set(mixture.keys) == ["code", "docs", "math", "prose"])
            #expect(abs(mixture.values.reduce(0, +) - 1) < 1e-6)
            let mae = try #require(law["cv_mae"] as? Double)
            #expect(mae.isFinite && mae > 0)
        }
        let verification = try #require(summary["verification"] as? [String: Any])
        #expect((verification["recommended"] as? [Double])?.count == 2)
        #expect((verification["stratified"] as? [Double])?.count == 2)

        // The files a user is told about, with one row per run.
        let ratios = try String(contentsOfFile: out + "/ratios.csv", encoding: .utf8)
        #expect(ratios.split(separator: "\n").count == 9)
        let evals = try String(contentsOfFile: out + "/evals.csv", encoding: .utf8)
        #expect(evals.split(separator: "\n").count >= 1 + 8 * 4)
        let yaml = try String(contentsOfFile: out + "/mixture.yaml", encoding: .utf8)
        #expect(yaml.contains("mixture:") && yaml.contains("verification:"))
        let svg = try String(contentsOfFile: out + "/fit.svg", encoding: .utf8)
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        // One point per run in each of the four share panels and, per law, in the prediction panel.
        #expect(svg.components(separatedBy: "<circle").count - 1 >= 8 * 4 + 8 * 2)

        // The demo stopped its daemons: no process still runs with the output folder in its arguments.
        let leftovers = processes(mentioning: out)
        #expect(leftovers.isEmpty, "daemons left running: \(leftovers)")
        #expect(demo.output.contains("daemons stopped"))
        #expect(!demo.output.contains("were killed"), "a daemon ignored SIGTERM:\n\(demo.output.suffix(3000))")
    }

    @Test("bad input names the flag and exits 2 without starting anything")
    func badInput() async throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-demo-bad-\(UUID().uuidString.prefix(8)).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        for (arguments, field) in [
            (["--runs", "3"], "--runs"), (["--domains", "code,klingon"], "--domains"), (["--laws", "dml,nope"], "--laws"),
            (["--corpus", "/nonexistent"], "--corpus"), (["--tokens", "5"], "--tokens"),
        ] {
            let process = try ChildProcess(Self.executable, ["demo", "--out", "/nonexistent/never-created"] + arguments, logPath: log)
            let status = try await process.wait(timeout: .seconds(60))
            #expect(status == 2, "\(arguments): exit \(status): \(process.output)")
            #expect(process.output.contains(field), "\(arguments): \(process.output)")
            try? FileManager.default.removeItem(atPath: log)
        }
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent/never-created"))
    }

    func processes(mentioning text: String) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { pid -> String? in
            guard Int(pid) != nil, let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return nil }
            let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return line.contains(text) && !line.contains("swift-testing") && !line.contains("xctest") ? "\(pid): \(line)" : nil
        }
    }
}
