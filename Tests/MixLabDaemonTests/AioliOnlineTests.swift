import Foundation
import MixLabCore
import MixLabStore
import MixLabTestSupport
import MixingLaws
import Testing

/// Aioli driven by the coordinator through the real daemons: a ProxyLM run in `--online` mode,
/// its controller state stored with every decision, and a coordinator killed in the middle of the
/// run continuing exactly the trajectory an uninterrupted run takes.
@Suite(.serialized) struct AioliOnlineTests {
    static func spec(_ cluster: LoopbackCluster, corpus: String) -> String {
        """
        name: aioli-e2e
        domains:
          - {name: code, path: "\(corpus)/code"}
          - {name: math, path: "\(corpus)/math"}
          - {name: prose, path: "\(corpus)/prose"}
        design: {kind: list, mixtures: [{code: 0.2, math: 0.3, prose: 0.5}]}
        trainer:
          command: ["\(LoopbackCluster.executable)", proxy, train, --online, --model-size, small, --batch, "32",
                    --eval-bytes, "32768", --seed, "{seed}"]
          resources: {cpus: 1}
          max_attempts: 1
        budget: {steps: 240, seed: 5}
        online: {method: aioli, rounds: 4, params: {sweeps_per_round: 1, interval_steps: 4, eta: 0.5}}
        laws: []
        """
    }

    /// Runs the one-run Aioli sweep; `interrupt` is called with the cluster once the controller
    /// has made `after` decisions. Returns the stored decisions of the run's attempt.
    static func trajectory(interruptAfter after: Int?) async throws -> [OnlineDecisionRecord] {
        // A lease long enough to outlast the restart and the worker's reconnect back-off on a loaded machine.
        let cluster = try LoopbackCluster(leaseSeconds: 30, workerNames: ["worker-1"])
        let corpus = cluster.directory + "/corpus"
        let synth = try await cluster.cli(["corpus", "synth", "--out", corpus, "--seed", "2", "--bytes-per-domain", "300000", "--domains", "code,math,prose"])
        #expect(synth.status == 0, "\(synth.output)")
        try await cluster.startCoordinator()
        try cluster.startWorker("worker-1", cpuSlots: 1)
        let id = try #require(try await cluster.cliJSON(["sweep", "submit", try cluster.write("aioli.yaml", spec(cluster, corpus: corpus))])["id"] as? String)
        let run = RunID("\(id)/0")
        if let after {
            let deadline = ContinuousClock.now + .seconds(120)
            var made = 0
            while made < after, ContinuousClock.now < deadline {
                made = try await FaultTests.store(cluster) { try await $0.onlineDecisions(run: run, attempt: 1).count }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(made >= after, "the controller made \(made) decisions\n\(cluster.diagnostics)")
            try await cluster.killCoordinator()
            let beforeRestart = try await FaultTests.store(cluster) { try await $0.onlineDecisions(run: run, attempt: 1).count }
            #expect(beforeRestart < 17, "the coordinator died in the middle of the run (\(beforeRestart) of 17 decisions made)")
            print("aioli: coordinator killed after \(beforeRestart) decisions")
            try await Task.sleep(for: .seconds(1))
            try await cluster.startCoordinator()
        }
        let status = try await cluster.waitForSweep(id, timeout: .seconds(300))
        #expect((status["counts"] as? [String: Int])?["succeeded"] == 1, "\(status)\n\(cluster.diagnostics)")
        let attempts = try await FaultTests.store(cluster) { try await $0.attempts(of: run) }
        #expect(attempts.count == 1, "the run continued in its first attempt: \(attempts)")
        // The learned proportions become the sweep's `aioli` mixture (the transfer setting).
        var learned = ""
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let answer = try await cluster.cli(["sweep", "mixture", id, "--format", "json"])
            if answer.status == 0 { learned = answer.output; break }
            try await Task.sleep(for: .milliseconds(300))
        }
        let report = try #require(try JSONSerialization.jsonObject(with: Data(learned.utf8)) as? [String: Any], "\(learned)")
        #expect(report["law"] as? String == "aioli")
        let mixture = try #require(report["mixture"] as? [String: Double])
        let decisions = try await FaultTests.store(cluster) { try await $0.onlineDecisions(run: run, attempt: 1) }
        let lastMain = try decisions.compactMap { try JSONDecoder().decode(AioliDecision.self, from: Data($0.decisionJSON.utf8)).segment }
            .last { $0.kind == .main }
        #expect(lastMain.map { zip(["code", "math", "prose"], $0.mixture).allSatisfy { abs((mixture[$0] ?? -1) - $1) < 1e-12 } } == true,
                "\(mixture) vs \(String(describing: lastMain?.mixture))")
        return try await FaultTests.store(cluster) { try await $0.onlineDecisions(run: run, attempt: 1) }
    }

    @Test func aKilledCoordinatorContinuesTheSameTrajectory() async throws {
        let uninterrupted = try await Self.trajectory(interruptAfter: nil)
        // 4 rounds × (3 learn segments + 1 main segment), then stop.
        #expect(uninterrupted.count == 17, "\(uninterrupted.map(\.decisionJSON))")
        let decisions = try uninterrupted.map { try JSONDecoder().decode(AioliDecision.self, from: Data($0.decisionJSON.utf8)) }
        let segments = decisions.compactMap(\.segment)
        #expect(segments.map(\.steps).reduce(0, +) == 240, "the segments cover exactly budget.steps")
        #expect(decisions.last == .stop)
        let mains = segments.filter { $0.kind == .main }.map(\.mixture)
        print("aioli main-segment proportions: \(mains)")
        #expect(mains.count == 4)
        #expect(mains.contains { $0 != mains[0] } || mains[0] != [1.0 / 3, 1.0 / 3, 1.0 / 3], "the proportions moved: \(mains)")
        let boundaryLosses = try uninterrupted.map { try JSONDecoder().decode([String: Double].self, from: Data($0.lossesJSON.utf8)) }
        #expect(
            boundaryLosses.allSatisfy { Set($0.keys).isSuperset(of: ["code", "math", "prose"]) }, "every decision, the first included, had losses: \(boundaryLosses)")

        let interrupted = try await Self.trajectory(interruptAfter: 6)
        #expect(interrupted.map(\.decisionJSON) == uninterrupted.map(\.decisionJSON), "the same decisions after the restart")
        #expect(interrupted.map(\.lossesJSON) == uninterrupted.map(\.lossesJSON), "from the same losses")
    }
}
