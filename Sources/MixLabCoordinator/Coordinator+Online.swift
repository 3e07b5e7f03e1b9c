import Foundation
import Logging
import MixLabCore
import MixLabRPC
import MixLabStore
import MixLabSweeps
import MixingLaws

extension Coordinator {
    /// Answers a trainer's `next`, relayed by its worker. A run of an Aioli sweep is driven by its
    /// controller: the controller state of the run's attempt is loaded from the store, fed the
    /// losses the trainer reported at this step, and the decision and the new state are stored
    /// *before* the answer is sent, so a restarted coordinator (or a repeated request after a
    /// reconnect) continues exactly the same trajectory. A run without an online method keeps its
    /// own mixture (so does an `online.compare` baseline run); an unknown or lost run is told to stop.
    func answerNext(_ request: Mixlab_V1_MixtureRequest, from worker: WorkerID) async -> Mixlab_V1_MixtureReply {
        var reply = Mixlab_V1_MixtureReply.with {
            $0.seq = request.seq
            $0.runID = request.runID
            $0.stop = true
        }
        let id = RunID(request.runID)
        do {
            guard let run = try await store.run(id), let lease = run.lease, lease.token == request.token, lease.worker == worker else {
                return reply
            }
            let runtime = try await runtime(of: run.sweep)
            guard let online = runtime.online, online.method == "aioli", runtime.isOnline(budgetJSON: run.budgetJSON) else {
                // No online method drives this run (a static sweep, or an `online.compare`
                // baseline): the trainer keeps its mixture to the end.
                reply.stop = false
                reply.weights = Dictionary(uniqueKeysWithValues: zip(runtime.domains, run.shares))
                reply.steps = 0
                return reply
            }
            let decision = try await aioliDecision(for: run, token: lease.token, step: request.step, losses: request.losses, online: online, runtime: runtime)
            if case .train(let segment) = decision {
                reply.stop = false
                reply.weights = Dictionary(uniqueKeysWithValues: zip(runtime.domains, segment.mixture))
                reply.steps = Int64(segment.steps)
            }
        } catch {
            logger.warning(
                "online decision failed; the trainer is told to stop",
                metadata: ["mixlab.run": "\(id)", "mixlab.step": "\(request.step)", "mixlab.error": "\(error)"])
            if let sweep = try? await store.run(id)?.sweep {
                try? await store.recordEvent(sweep: sweep, run: id, kind: "online_error", detail: "step \(request.step): \(error)")
            }
        }
        return reply
    }

    private func aioliDecision(
        for run: RunRecord, token: Int64, step: Int64, losses: [String: Double], online: OnlineSpec, runtime: SweepRuntime
    ) async throws -> AioliDecision {
        let history = try await store.onlineDecisions(run: run.id, attempt: run.attempt)
        let decoder = JSONDecoder(), encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // The same request again (a lost reply, a reconnect): answer from the store.
        if let last = history.last, last.step == step {
            return try decoder.decode(AioliDecision.self, from: Data(last.decisionJSON.utf8))
        }
        var controller: AioliController
        if let last = history.last {
            controller = try decoder.decode(AioliController.self, from: Data(last.controllerJSON.utf8))
        } else {
            guard let budget = try? JSONSerialization.jsonObject(with: Data(run.budgetJSON.utf8)) as? [String: Any],
                let total = (budget["steps"] as? NSNumber)?.intValue
            else { throw MixLabInputError(field: "budget.steps", problem: "is missing for an Aioli run", fix: "set `budget: {steps: N}`") }
            controller = AioliController(
                configuration: try online.aioliConfiguration(domainCount: runtime.domains.count, totalSteps: total, initialMixture: run.shares))
        }
        let ordered: [Double]? = runtime.domains.allSatisfy { losses[$0] != nil } ? runtime.domains.map { losses[$0]! } : nil
        let decision = try controller.next(step: Int(step), losses: ordered)
        let record = OnlineDecisionRecord(
            run: run.id, attempt: run.attempt, seq: history.count, step: step,
            lossesJSON: String(decoding: try encoder.encode(losses), as: UTF8.self),
            decisionJSON: String(decoding: try encoder.encode(decision), as: UTF8.self),
            controllerJSON: String(decoding: try encoder.encode(controller), as: UTF8.self))
        try await store.recordOnlineDecision(record, token: token)
        return decision
    }
}
