import Foundation
import MixLabTestSupport
import Testing

/// `Benchmarks/cross_domain_dcpt.py` at a tiny size: base models saved with `--save-checkpoint`,
/// probe and D-CPT sweeps continuing from them with `--init-from {model_size}` through the real
/// daemons, `mixlab export`, and the leave-one-domain-out report of `mixlab cross-domain`.
@Suite(.serialized) struct CrossDomainDCPTTests {
    @Test func theBenchmarkScriptRunsTheWholeProtocolThroughTheDaemons() throws {
        let out = "/tmp/mlxd-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let sizes = [21_000, 37_000], ratios = [0.2, 0.5, 0.8], tokens = [3_200, 6_400], domains = ["code", "legal", "math"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", MixLabExecutable.repositoryRoot + "/Benchmarks/cross_domain_dcpt.py", "--mixlab", MixLabExecutable.path,
            "--out", out, "--synth-bytes", "60000", "--domains", domains.joined(separator: ","),
            "--sizes", sizes.map(String.init).joined(separator: ","), "--base-steps", "150", "--probe-steps", "10",
            "--ratios", ratios.map { "\($0)" }.joined(separator: ","), "--tokens", tokens.map(String.init).joined(separator: ","),
            "--eval-bytes", "1024",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            Issue.record("cannot start python3 (\(error)); install Python 3 (e.g. apt-get install python3) to run this test")
            return
        }
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        guard process.terminationStatus == 0 else { return }

        for size in sizes {
            #expect(FileManager.default.fileExists(atPath: "\(out)/checkpoints/base-\(size).ckpt"), "the base sweep saved size \(size)")
        }
        let results = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(out)/results.json"))) as? [String: Any])
        let k1 = try #require(results["k1"] as? [String: Double]), k2 = try #require(results["k2"] as? [String: Double])
        #expect(k1.count == domains.count * sizes.count && k2.count == k1.count)
        #expect(k1.values.allSatisfy { $0 > 0 && $0.isFinite } && k2.values.allSatisfy { (0...1).contains($0) }, "\(k1) \(k2)")

        let points = try String(contentsOfFile: "\(out)/points.csv", encoding: .utf8).split(whereSeparator: \.isNewline).dropFirst()
        #expect(points.count == domains.count * sizes.count * ratios.count * tokens.count, "one row per checkpoint: \(points.count)")
        let report = try #require(results["report"] as? [String: Any])
        let heldOut = try #require(report["held_out"] as? [[String: Any]])
        #expect(heldOut.compactMap { $0["domain"] as? String }.sorted() == domains)
        for held in heldOut {
            let own = try #require(held["per_domain_fit"] as? [String: Any]), cross = try #require(held["cross_domain"] as? [String: Any])
            #expect(cross["rows"] as? Int == sizes.count * ratios.count * tokens.count)
            #expect((own["r2"] as? Double ?? -1) > 0.5, "the domain's own D-CPT fit explains its CPT losses: \(held)")
            #expect((cross["mape_percent"] as? Double)?.isFinite == true, "\(held)")
        }
        #expect((report["warnings"] as? [Any])?.count == 1, "two training domains per fit are flagged: \(report)")
    }
}
