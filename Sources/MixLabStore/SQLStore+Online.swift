import MixLabCore

/// One answer of a run's online controller: the trainer's step, the losses it reported there,
/// the decision sent back, and the controller's state after deciding (all JSON).
public struct OnlineDecisionRecord: Sendable, Equatable {
    public var run: RunID
    public var attempt: Int
    /// 0 for the attempt's first decision, then 1, 2, ….
    public var seq: Int
    public var step: Int64
    public var lossesJSON: String
    public var decisionJSON: String
    public var controllerJSON: String

    public init(run: RunID, attempt: Int, seq: Int, step: Int64, lossesJSON: String, decisionJSON: String, controllerJSON: String) {
        self.run = run
        self.attempt = attempt
        self.seq = seq
        self.step = step
        self.lossesJSON = lossesJSON
        self.decisionJSON = decisionJSON
        self.controllerJSON = controllerJSON
    }
}

extension SQLStore {
    /// The decisions of one attempt of a run, in order.
    public func onlineDecisions(run: RunID, attempt: Int) async throws -> [OnlineDecisionRecord] {
        try await backend.execute(
            "SELECT * FROM online_decisions WHERE run_id = $1 AND attempt = $2 ORDER BY seq", [.text(run.rawValue), .integer(Int64(attempt))]
        ).map { row in
            OnlineDecisionRecord(
                run: run, attempt: try row.int("attempt"), seq: try row.int("seq"), step: try row.int64("step"),
                lossesJSON: try row.string("losses_json"), decisionJSON: try row.string("decision_json"),
                controllerJSON: try row.string("controller_json"))
        }
    }

    /// Stores a decision, in one statement, only while `token` is the run's current lease (a
    /// stale worker cannot steer a run it lost). Storing the same `(run, attempt, seq)` again is a
    /// no-op, so a retried request, or a rerun after a commit whose answer was lost, is harmless.
    ///
    /// - Throws: ``StoreError`` `.staleLease` for an old token, `.unknownRun` for an unknown run.
    public func recordOnlineDecision(_ record: OnlineDecisionRecord, token: Int64) async throws {
        let now = self.now
        let rows = try await backend.transaction(ifCommitUnknown: .rerun) { db in
            try await db.execute(
                """
                INSERT INTO online_decisions (run_id, attempt, seq, step, losses_json, decision_json, controller_json, decided_at)
                SELECT $1, $2, $3, $4, $5, $6, $7, \(now)
                WHERE EXISTS (SELECT 1 FROM runs WHERE id = $1 AND attempt = $2 AND lease_token = $8 AND state IN \(Self.leased))
                ON CONFLICT (run_id, attempt, seq) DO NOTHING
                RETURNING seq
                """,
                [
                    .text(record.run.rawValue), .integer(Int64(record.attempt)), .integer(Int64(record.seq)), .integer(record.step),
                    .text(record.lossesJSON), .text(record.decisionJSON), .text(record.controllerJSON), .integer(token),
                ])
        }
        guard rows.isEmpty else { return }
        let stored = try await onlineDecisions(run: record.run, attempt: record.attempt)
        if stored.contains(where: { $0.seq == record.seq }), try await leaseIsCurrent(run: record.run, token: token) { return }
        guard try await run(record.run) != nil else { throw StoreError(.unknownRun, "no run \(record.run)") }
        throw StoreError(.staleLease, "run \(record.run): token \(token) is not the current lease; its online decision was not stored")
    }

    private func leaseIsCurrent(run: RunID, token: Int64) async throws -> Bool {
        !(try await backend.execute(
            "SELECT 1 AS current FROM runs WHERE id = $1 AND lease_token = $2 AND state IN \(Self.leased)", [.text(run.rawValue), .integer(token)]
        ).isEmpty)
    }
}
