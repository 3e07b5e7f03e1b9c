import Foundation
import MixLabCore
import MixLabStore
import MixLabTestSupport
import Testing

/// One online sweep holding Aioli and its `online.compare` baselines, run through the real daemons:
/// each role runs its own trainer command, only the Aioli runs are driven by the controller, the
/// sweep's law is fitted to the static runs, and `mixlab sweep compare` sets the three methods side by side.
@Suite(.serialized) struct CompareSweepTests {
    /// A trainer command that first logs which command it is, then runs ProxyLM with `arguments`.
    static func tagged(_ tag: String, _ arguments: [String]) -> String {
        let quoted = ([LoopbackCluster.executable, "proxy", "train"] + arguments).map { "\"\($0)\"" }.joined(separator: ", ")
        return #"[/bin/sh, -c, "echo trainer-command: \#(tag) >&2; exec \"$0\" \"$@\"", \#(quoted)]"#
    }

    static func spec(corpus: String) -> String {
        let model = ["--model-size", "small", "--batch", "16", "--eval-bytes", "4096", "--test-bytes", "4096", "--seed", "{seed}"]
        return """
            name: compare-e2e
            domains:
              - {name: code, path: "\(corpus)/code"}
              - {name: math, path: "\(corpus)/math"}
              - {name: prose, path: "\(corpus)/prose"}
            eval_domains: [code, math, prose, code.test, math.test, prose.test]
            objective: {targets: {code: 1, math: 1, prose: 1}}
            design: {kind: list, mixtures: [{code: 0.34, math: 0.33, prose: 0.33}]}
            trainer:
              command: \(tagged("static", ["--steps", "{steps}", "--eval-every", "0"] + model))
              resources: {cpus: 1}
              max_attempts: 1
            scales: [{steps: 96, seed: 1}, {steps: 96, seed: 2}]
            run_seeds: shared
            online:
              method: aioli
              rounds: 2
              params: {sweeps_per_round: 1, interval_steps: 4, eta: 0.5}
              command: \(tagged("online", ["--online"] + model))
              compare: {stratified: true, grid: 2}
            laws: [linear]
            """
    }

    @Test func aioliAndItsBaselinesRunInOneSweep() async throws {
        let cluster = try LoopbackCluster(workerNames: ["worker-1"])
        let corpus = cluster.directory + "/corpus"
        let synth = try await cluster.cli(["corpus", "synth", "--out", corpus, "--seed", "3", "--bytes-per-domain", "100000", "--domains", "code,math,prose"])
        #expect(synth.status == 0, "\(synth.output)")
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 2)
        let submitted = try await cluster.cliJSON(["sweep", "submit", try cluster.write("compare.yaml", Self.spec(corpus: corpus))])
        let id = try #require(submitted["id"] as? String)
        #expect(submitted["runs"] as? Int == 8, "2 seeds × (Aioli + stratified + 2 grid mixtures)")
        let status = try await cluster.waitForSweep(id, timeout: .seconds(300))
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 8, "\(status)\n\(cluster.diagnostics)")

        let runs = try await FaultTests.store(cluster) { try await $0.runs(in: SweepID(id)) }
        let expected = ["aioli", "aioli", "stratified", "grid", "grid", "stratified", "grid", "grid"]
        #expect(runs.map { Self.method(ofBudget: $0.budgetJSON) } == expected, "\(runs.map(\.budgetJSON))")
        for (run, method) in zip(runs, expected) {
            let online = method == "aioli"
            let log = try await cluster.cli(["runs", "logs", run.id.rawValue])
            #expect(log.output.contains("trainer-command: \(online ? "online" : "static")"), "\(run.id) (\(method)): \(log.output.prefix(600))")
            let decisions = try await FaultTests.store(cluster) { try await $0.onlineDecisions(run: run.id, attempt: run.attempt) }
            // 2 rounds × (3 learn segments + 1 main segment), then stop; none for a static run.
            #expect(decisions.count == (online ? 9 : 0), "\(run.id) (\(method)) has \(decisions.count) Aioli decisions")
        }

        let compared = try await cluster.cliJSON(["sweep", "compare", id])
        let rows = try #require(compared["rows"] as? [[String: Any]], "\(compared)")
        #expect(rows.map { $0["method"] as? String } == ["stratified", "grid", "aioli"])
        #expect((compared["pairs"] as? [String])?.count == 2, "\(compared)")
        for row in rows {
            #expect((row["per_pair"] as? [Any])?.allSatisfy { $0 is Double } == true, "every method has a loss at both seeds: \(row)")
            #expect(row["usable_runs"] as? Int == row["runs"] as? Int, "\(row)")
        }
        #expect(rows[1]["training_steps_per_pair"] as? Double == 192, "grid trains 2 × 96 steps per seed")
        #expect(rows[2]["pairs_vs_stratified"] as? Int == 2)
        // The law is fitted to the 6 static runs; an Aioli run's stored mixture is only where it started.
        var fits: [[String: Any]] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while fits.isEmpty, ContinuousClock.now < deadline {
            let answer = try await cluster.cli(["sweep", "fits", id])
            fits = (try? JSONSerialization.jsonObject(with: Data(answer.output.utf8)) as? [[String: Any]]) ?? []
            if fits.isEmpty { try await Task.sleep(for: .milliseconds(300)) }
        }
        #expect(fits.first?["runs"] as? Int == 6, "\(fits)\n\(cluster.diagnostics)")
        #expect(compared["measured_on"] as? [String: Double] == ["code": 1, "math": 1, "prose": 1], "the objective by default")
        // Judged on the test slices, which neither Aioli nor grid's choice saw.
        let onTest = try await cluster.cliJSON(["sweep", "compare", id, "--domains", "code.test,math.test,prose.test"])
        #expect(onTest["measured_on"] as? [String: Double] == ["code.test": 1, "math.test": 1, "prose.test": 1])
        #expect(onTest["selected_by"] as? [String: Double] == ["code": 1, "math": 1, "prose": 1])
        let testRows = try #require(onTest["rows"] as? [[String: Any]])
        #expect(testRows.count == 3 && testRows.allSatisfy { ($0["per_pair"] as? [Any])?.allSatisfy { $0 is Double } == true }, "\(onTest)")
        #expect(
            testRows.map { $0["per_pair"] as? [Double] } != rows.map { $0["per_pair"] as? [Double] }, "the test slice gives other losses")
        let direct = try await cluster.cli(["sweep", "compare", id, "--domains", "code.test,math.test,prose.test", "--database", cluster.databaseURL, "--json"])
        let fromStore = try JSONSerialization.jsonObject(with: Data(direct.output.utf8)) as? NSDictionary
        #expect(fromStore == onTest as NSDictionary, "reading the store directly gives the coordinator's answer: \(direct.output)")
        let table = try await cluster.cli(["sweep", "compare", id, "--domains", "code,math"])
        #expect(table.status == 0 && table.output.contains("| aioli |") && table.output.contains("code 0.5, math 0.5"), "\(table.output)")
        let refused = try await cluster.cli(["sweep", "compare", id, "--domains", "nosuch"])
        #expect(refused.status != 0 && refused.output.contains("`nosuch` is not an eval domain"), "\(refused.output)")
    }

    static func method(ofBudget json: String) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["mixing_method"] as? String
    }
}
