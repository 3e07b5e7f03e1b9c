import Foundation
import MixLabTestSupport
import Testing

/// A D-CPT sweep end to end: ProxyLM runs at four model sizes × five domain ratios, evaluated at
/// four token checkpoints, through the real daemons; the coordinator fits the D-CPT Law to the
/// general and to the domain loss, and `sweep mixture --usage` answers the three usages.
@Suite(.serialized) struct DCPTSweepTests {
    @Test func aDCPTSweepFitsBothLawsAndAnswersTheThreeUsages() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1", "worker-2"])
        let corpus = cluster.directory + "/corpus"
        let synth = try await cluster.cli(["corpus", "synth", "--out", corpus, "--seed", "3", "--bytes-per-domain", "200000", "--domains", "prose,code"])
        #expect(synth.status == 0, "\(synth.output)")
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        try cluster.startWorker("worker-2", cpuSlots: 1)
        let spec = try cluster.write(
            "dcpt.yaml",
            """
            name: dcpt-e2e
            domains:
              - {name: prose, path: "\(corpus)/prose"}
              - {name: code, path: "\(corpus)/code"}
            design:
              kind: dcpt
              general: prose
              domain: code
              model_sizes: [21000, 37000, 54000, 103000]
              tokens: [16000, 32000, 64000, 128000]
              ratios: [0.1, 0.3, 0.5, 0.7, 0.9]
              checkpoints: true
            trainer:
              command: ["\(LoopbackCluster.executable)", proxy, train, --model-size, "{model_size}", --tokens, "{tokens}",
                        --eval-tokens, "{eval_tokens}", --eval-every, "0", --eval-bytes, "4096", --seed, "{seed}"]
              resources: {cpus: 1}
            budget: {seed: 1}
            run_seeds: shared
            laws: [dcpt]
            """)
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", spec])["id"] as? String)
        let status = try await cluster.waitForSweep(id, timeout: .seconds(600))
        let counts = try #require(status["counts"] as? [String: Int])
        #expect(counts["succeeded"] == 20, "\(status)\n\(cluster.diagnostics)")

        // Both fits are stored once the sweep completes (fitting runs after the last run ends).
        var reports: [[String: Any]] = []
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            let fits = try await cluster.cli(["sweep", "fits", id])
            if let parsed = try? JSONSerialization.jsonObject(with: Data(fits.output.utf8)) as? [[String: Any]], parsed.count >= 2 {
                reports = parsed
                break
            }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(Set(reports.compactMap { $0["role"] as? String }) == ["general", "domain"], "\(reports)\n\(cluster.diagnostics)")
        for report in reports {
            print("dcpt \(report["role"] ?? "?"): train \(report["train"] ?? "?"), cv \(report["cv"] ?? "?"), holdout \(report["holdout"] ?? "?")")
            #expect(report["law"] as? String == "dcpt")
            // 20 runs × 4 checkpoints of each eval domain.
            #expect(report["rows"] as? Int == 80, "\(report)")
            let train = try #require(report["train"] as? [String: Any])
            let r2 = try #require(train["r2"] as? Double)
            #expect(r2 > 0.5, "the D-CPT law explains the ProxyLM losses: \(report)")
            #expect(report["cv"] != nil, "held-out error over runs is reported: \(report)")
            // Extrapolation to the largest size and token count, and interpolation to unseen ratios.
            let holdout = try #require(report["holdout"] as? [String: [String: Any]], "\(report)")
            #expect(Set(holdout.keys) == ["size", "data", "ratio"], "\(holdout)")
            #expect(holdout.values.allSatisfy { ($0["mape"] as? Double)?.isFinite == true }, "every hold-out fitted: \(holdout)")
            let ratioError = try #require(holdout["ratio"]?["mape"] as? Double)
            #expect(ratioError < 0.1, "the law interpolates to a ratio it was not fitted on: \(holdout)")
        }

        let tradeoff = try await usage(cluster, [id, "--usage", "tradeoff", "--tolerance", "0.03"])
        let share = try #require(tradeoff["domain_share"] as? Double, "\(tradeoff)")
        #expect((0.1...0.9).contains(share), "within the fitted ratios: \(tradeoff)")
        print("tradeoff: \(tradeoff)")
        let increase = try #require(tradeoff["general_loss_increase"] as? Double)
        #expect(increase <= 0.03 + 1e-9)
        #expect(tradeoff["non_monotone"] != nil)

        let limited = try await usage(cluster, [id, "--usage", "limited-data", "--domain-tokens", "20000"])
        #expect((limited["domain_share"] as? Double).map { (0.1...0.9).contains($0) } == true, "\(limited)")
        let compute = try await usage(cluster, [id, "--usage", "compute", "--flops", "1e12"])
        let n = try #require(compute["N"] as? Double), d = try #require(compute["D"] as? Double)
        #expect(abs(6 * n * d - 1e12) / 1e12 < 1e-6, "C = 6·N·D: \(compute)")

        let missing = try await cluster.cli(["sweep", "mixture", id, "--usage", "tradeoff"])
        #expect(missing.status == 2 && missing.output.contains("--tolerance"), "\(missing.output)")
        let unknown = try await cluster.cli(["sweep", "mixture", id, "--usage", "balanced"])
        #expect(unknown.status == 2 && unknown.output.contains("tradeoff, limited-data or compute"), "\(unknown.output)")
    }

    func usage(_ cluster: LoopbackCluster, _ arguments: [String]) async throws -> [String: Any] {
        let result = try await cluster.cli(["sweep", "mixture"] + arguments + ["--format", "json"])
        guard result.status == 0, let parsed = try? JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else {
            throw PostgresTestCluster.ClusterError("mixlab sweep mixture \(arguments) failed (\(result.status)): \(result.output)")
        }
        return parsed
    }
}
