import Foundation
import MixLabCore
import MixLabStore
import Testing

/// The store's contract, run against SQLite and a real throwaway PostgreSQL cluster alike.
@Suite struct StoreConformanceTests {
    static let worker = WorkerID("worker-1")

    static func sweep(_ id: String, runs: Int = 3, priority: Int = 0, maxAttempts: Int = 2, cap: Int? = nil, key: String? = nil, gpus: Int = 0) -> NewSweep {
        NewSweep(
            id: SweepID(id), name: id, clientKey: key, specJSON: "{}", specHash: "h", domains: ["web", "code"], priority: priority,
            maxAttempts: maxAttempts, maxConcurrentRuns: cap,
            runs: (0..<runs).map { NewRun(index: $0, shares: [Double($0) / Double(max(runs, 1)), 1 - Double($0) / Double(max(runs, 1))], gpus: gpus) })
    }

    static func claim(_ store: SQLStore, worker: WorkerID = worker, gpus: Int = 0, lease: Duration = .seconds(30)) async throws -> (run: RunRecord, lease: Lease)? {
        try await store.claimRun(ClaimRequest(worker: worker, host: "host-a", freeGPUs: gpus, freeCPUs: 8, leaseDuration: lease))
    }

    static func points(_ steps: ClosedRange<Int64>, loss: Double = 2.5) -> [EvalPoint] {
        steps.flatMap { step in ["web", "code"].map { EvalPoint(step: step, tokens: step * 1000, domain: $0, loss: loss) } }
    }

    @Test(arguments: StoreBackend.allCases)
    func migrationsApplyOnceAndRefuseANewerDatabase(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            #expect(try await store.schemaVersion() == 5, "every migration under schemas/ is applied")
            #expect(try await store.migrate().isEmpty)
            try await store.recordEvent(sweep: nil, run: nil, kind: "test", detail: "pretend a newer MixLab migrated")
            try await store.simulateNewerSchema(version: 99)
            await #expect { try await store.migrate() } throws: { ($0 as? StoreError)?.code == .schemaTooNew }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func sweepCreationIsAtomicAndIdempotentOnTheClientKey(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            let first = try await store.createSweep(Self.sweep("s1", runs: 4, key: "k"))
            #expect(first.runCounts[.queued] == 4)
            let again = try await store.createSweep(Self.sweep("s1-retry", runs: 9, key: "k"))
            #expect(again.id == SweepID("s1"))
            #expect(try await store.sweeps().count == 1)
            #expect(try await store.runs(in: SweepID("s1")).map(\.shares[0]) == [0, 0.25, 0.5, 0.75])
            var bad = Self.sweep("s2")
            bad.runs.append(NewRun(index: 0, shares: [0.5, 0.5]))
            await #expect { try await store.createSweep(bad) } throws: { ($0 as? StoreError)?.code == .invalidSweep }
            #expect(try await store.sweep(SweepID("s2")) == nil)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func claimsFollowPrioritySlotsAndCaps(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("low", runs: 2, priority: 0))
            _ = try await store.createSweep(Self.sweep("gpu", runs: 1, priority: 9, gpus: 1))
            _ = try await store.createSweep(Self.sweep("high", runs: 3, priority: 5, cap: 1))
            let first = try #require(try await Self.claim(store))
            #expect(first.run.id == RunID("high/0") && first.lease.token == 1 && first.run.state == .assigned)
            #expect(first.lease.expiresAt > Date().addingTimeInterval(20))
            let second = try #require(try await Self.claim(store))
            #expect(second.run.id == RunID("low/0"), "high is at its cap of 1; the GPU run needs a GPU")
            let gpu = try #require(try await Self.claim(store, gpus: 1))
            #expect(gpu.run.id == RunID("gpu/0"))
            try await store.setSweepState(SweepID("low"), to: .paused)
            #expect(try await Self.claim(store) == nil, "high is capped, low is paused")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func renewalNeedsTheCurrentToken(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("s", runs: 1))
            let claimed = try #require(try await Self.claim(store))
            guard case .renewed = try await store.renewLease(run: claimed.run.id, worker: Self.worker, token: claimed.lease.token, duration: .seconds(60)) else {
                Issue.record("the holder could not renew")
                return
            }
            #expect(try await store.renewLease(run: claimed.run.id, worker: Self.worker, token: claimed.lease.token + 1, duration: .seconds(60)) == .lost)
            #expect(try await store.renewLease(run: claimed.run.id, worker: WorkerID("other"), token: claimed.lease.token, duration: .seconds(60)) == .lost)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func evalReportsAreIdempotentAndValidated(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("s", runs: 1))
            let claimed = try #require(try await Self.claim(store))
            let report = EvalReport(run: claimed.run.id, worker: Self.worker, token: claimed.lease.token, points: Self.points(1...50))
            #expect(try await store.reportEvals(report) == EvalIngest(inserted: 100, duplicates: 0))
            #expect(try await store.reportEvals(report) == EvalIngest(inserted: 0, duplicates: 100), "a replay inserts nothing")
            for bad in [Double.nan, -0.1, 1e9, .infinity] {
                var invalid = report
                invalid.points = Self.points(51...52) + [EvalPoint(step: 53, tokens: 0, domain: "web", loss: bad)]
                await #expect { try await store.reportEvals(invalid) } throws: { ($0 as? StoreError)?.code == .invalidEval }
            }
            var unknownDomain = report
            unknownDomain.points = Self.points(60...61) + [EvalPoint(step: 62, tokens: 0, domain: "math", loss: 1)]
            await #expect { try await store.reportEvals(unknownDomain) } throws: { ($0 as? StoreError)?.code == .invalidEval }
            var unknownRun = report
            unknownRun.run = RunID("s/99")
            await #expect { try await store.reportEvals(unknownRun) } throws: { ($0 as? StoreError)?.code == .unknownRun }
            var stale = report
            stale.token += 1
            await #expect { try await store.reportEvals(stale) } throws: { ($0 as? StoreError)?.code == .staleLease }
            #expect(await store.staleReportCount() == 1)
            #expect(try await store.evals(in: SweepID("s")).count == 100, "refused batches wrote nothing")
        }
    }

    /// Batches large enough for PostgreSQL's COPY path behave exactly like small ones.
    @Test(arguments: StoreBackend.allCases)
    func largeBatchesAreIdempotentAllOrNothingAndFenced(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            let odd = "tab\there\\back\nline"
            var spec = Self.sweep("big", runs: 1)
            spec.evalDomains = ["web", odd]
            _ = try await store.createSweep(spec)
            let claimed = try #require(try await Self.claim(store))
            func report(_ steps: ClosedRange<Int64>, domain: String = odd) -> EvalReport {
                EvalReport(
                    run: claimed.run.id, worker: Self.worker, token: claimed.lease.token,
                    points: steps.flatMap { [EvalPoint(step: $0, tokens: $0 * 7, domain: "web", loss: 1.5), EvalPoint(step: $0, tokens: $0 * 7, domain: domain, loss: 2.25e-3)] })
            }
            #expect(try await store.reportEvals(report(0...1499)) == EvalIngest(inserted: 3000, duplicates: 0))
            #expect(try await store.reportEvals(report(0...1499)) == EvalIngest(inserted: 0, duplicates: 3000), "a replay inserts nothing")
            #expect(try await store.reportEvals(report(1000...2499)) == EvalIngest(inserted: 2000, duplicates: 1000), "a partial overlap")
            var repeated = report(3000...3999)
            repeated.points += repeated.points.prefix(10)
            #expect(try await store.reportEvals(repeated) == EvalIngest(inserted: 2000, duplicates: 10), "keys repeated inside one batch")
            var invalid = report(5000...5999)
            invalid.points[1500].loss = .nan
            await #expect { try await store.reportEvals(invalid) } throws: { ($0 as? StoreError)?.code == .invalidEval }
            await #expect { try await store.reportEvals(report(5000...5999, domain: "math")) } throws: { ($0 as? StoreError)?.code == .invalidEval }
            var stale = report(6000...6999)
            stale.token += 1
            await #expect { try await store.reportEvals(stale) } throws: { ($0 as? StoreError)?.code == .staleLease }
            #expect(await store.staleReportCount() == 1)
            let stored = try await store.evals(in: SweepID("big"))
            #expect(stored.count == 3000 + 2000 + 2000, "refused batches wrote nothing")
            let sample = try #require(stored.first { $0.step == 1234 && $0.domain == odd })
            #expect(sample.tokens == 1234 * 7 && sample.loss == 2.25e-3 && sample.attempt == 1)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func onlineDecisionsAreFencedOrderedAndIdempotent(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("online", runs: 1))
            let claimed = try #require(try await Self.claim(store))
            func decision(_ seq: Int, step: Int64, json: String = "{}") -> OnlineDecisionRecord {
                OnlineDecisionRecord(
                    run: claimed.run.id, attempt: claimed.lease.attempt, seq: seq, step: step, lossesJSON: #"{"web":2.5}"#,
                    decisionJSON: json, controllerJSON: #"{"seq":\#(seq)}"#)
            }
            try await store.recordOnlineDecision(decision(0, step: 0, json: "first"), token: claimed.lease.token)
            try await store.recordOnlineDecision(decision(1, step: 8, json: "second"), token: claimed.lease.token)
            // A replay of a stored decision changes nothing, even with other content.
            try await store.recordOnlineDecision(decision(1, step: 8, json: "other"), token: claimed.lease.token)
            let stored = try await store.onlineDecisions(run: claimed.run.id, attempt: claimed.lease.attempt)
            #expect(stored.map(\.seq) == [0, 1])
            #expect(stored.map(\.decisionJSON) == ["first", "second"])
            #expect(stored.last?.controllerJSON == #"{"seq":1}"#)
            await #expect { try await store.recordOnlineDecision(decision(2, step: 16), token: claimed.lease.token + 1) } throws: {
                ($0 as? StoreError)?.code == .staleLease
            }
            var unknown = decision(0, step: 0)
            unknown.run = RunID("online/99")
            await #expect { try await store.recordOnlineDecision(unknown, token: claimed.lease.token) } throws: {
                ($0 as? StoreError)?.code == .unknownRun
            }
            #expect(try await store.onlineDecisions(run: claimed.run.id, attempt: claimed.lease.attempt).count == 2, "refusals wrote nothing")
            #expect(try await store.onlineDecisions(run: claimed.run.id, attempt: 2).isEmpty, "decisions belong to one attempt")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func completionIsOnceOnlyAndFailuresRetryUntilAttemptsRunOut(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("s", runs: 2, maxAttempts: 2))
            let a = try #require(try await Self.claim(store))
            try await store.markRunning(run: a.run.id, worker: Self.worker, token: a.lease.token)
            let done = try await store.completeRun(RunCompletion(run: a.run.id, worker: Self.worker, token: a.lease.token, outcome: .succeeded))
            #expect(done.state == .succeeded)
            let again = try await store.completeRun(RunCompletion(
                run: a.run.id, worker: Self.worker, token: a.lease.token, outcome: .failed(cause: .exitCode, exitCode: 1, signal: nil)))
            #expect(again.state == .succeeded, "a second completion returns the first outcome")
            await #expect {
                try await store.completeRun(RunCompletion(run: a.run.id, worker: Self.worker, token: a.lease.token + 7, outcome: .succeeded))
            } throws: { ($0 as? StoreError)?.code == .staleLease }

            let b = try #require(try await Self.claim(store))
            let retried = try await store.completeRun(RunCompletion(
                run: b.run.id, worker: Self.worker, token: b.lease.token, outcome: .failed(cause: .exitCode, exitCode: 3, signal: nil),
                logTail: "boom"))
            #expect(retried.state == .queued && retried.attempt == 2 && retried.lastFailure == .exitCode)
            let b2 = try #require(try await Self.claim(store))
            #expect(b2.run.id == b.run.id && b2.lease.token == b.lease.token + 1)
            let failed = try await store.completeRun(RunCompletion(
                run: b.run.id, worker: Self.worker, token: b2.lease.token, outcome: .failed(cause: .signal, exitCode: nil, signal: 9)))
            #expect(failed.state == .failed && failed.attempt == 2)
            #expect(try await store.sweep(SweepID("s"))?.state == .completed)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func expiredLeasesRequeueOnTheDatabaseClockAndStaleReportsAreRefused(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("s", runs: 1, maxAttempts: 2))
            // Generous margins: a loaded machine can take hundreds of milliseconds between statements.
            let first = try #require(try await Self.claim(store, lease: .milliseconds(1500)))
            #expect(try await store.expireLeases().isEmpty, "not yet expired")
            try await Task.sleep(for: .milliseconds(2000))
            let expired = try await store.expireLeases()
            #expect(expired == [ExpiredLease(run: first.run.id, worker: Self.worker, attempt: 1, newState: .queued)])
            let late = EvalReport(run: first.run.id, worker: Self.worker, token: first.lease.token, points: Self.points(1...1))
            await #expect { try await store.reportEvals(late) } throws: { ($0 as? StoreError)?.code == .staleLease }
            await #expect {
                try await store.completeRun(RunCompletion(run: first.run.id, worker: Self.worker, token: first.lease.token, outcome: .succeeded))
            } throws: { ($0 as? StoreError)?.code == .staleLease }

            let second = try #require(try await Self.claim(store, lease: .milliseconds(100)))
            #expect(second.run.attempt == 2)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await store.expireLeases().map(\.newState) == [.failed], "out of attempts")
            #expect(try await store.run(first.run.id)?.lastFailure == .lost)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func sixteenConcurrentClaimersTakeEachRunExactlyOnce(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("big", runs: 1000))
            let claimed = try await withThrowingTaskGroup(of: [RunID].self) { group in
                for claimer in 0..<16 {
                    group.addTask {
                        var mine: [RunID] = []
                        while let next = try await Self.claim(store, worker: WorkerID("w\(claimer)")) { mine.append(next.run.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: [RunID]()) { $0 += $1 }
            }
            #expect(claimed.count == 1000)
            #expect(Set(claimed).count == 1000)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func renewAndExpireRacesHaveExactlyOneWinner(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Self.sweep("race", runs: 12, maxAttempts: 100))
            for round in 0..<12 {
                let claimed = try #require(try await Self.claim(store, lease: .milliseconds(60)))
                try await Task.sleep(for: .milliseconds(40 + 4 * round))
                async let renewal = store.renewLease(run: claimed.run.id, worker: Self.worker, token: claimed.lease.token, duration: .seconds(30))
                async let expiry = store.expireLeases()
                let (renewed, expired) = try await (renewal, expiry)
                let renewWon = renewed != .lost
                var expireWon = expired.contains { $0.run == claimed.run.id }
                if !renewWon && !expireWon {
                    // The sweep looked just before the lease ran out and the renewal just after (each
                    // reads the database clock when it runs): the renewal is refused and the next
                    // sweep takes the run. Neither may leave it leased.
                    expireWon = try await store.expireLeases().contains { $0.run == claimed.run.id }
                }
                #expect(renewWon != expireWon, "round \(round): renew \(renewWon), expire \(expireWon)")
                if renewWon {
                    _ = try await store.completeRun(RunCompletion(run: claimed.run.id, worker: Self.worker, token: claimed.lease.token, outcome: .succeeded))
                }
            }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func runsFinishingAtOnceCompleteTheirSweep(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            // Both last runs finish in concurrent transactions: whichever commits second must see
            // the other's run ended and complete the sweep.
            for round in 0..<15 {
                let id = SweepID("together-\(round)")
                _ = try await store.createSweep(Self.sweep(id.rawValue, runs: 2))
                let first = try #require(try await Self.claim(store)), second = try #require(try await Self.claim(store))
                async let a = store.completeRun(RunCompletion(run: first.run.id, worker: Self.worker, token: first.lease.token, outcome: .succeeded))
                async let b = store.completeRun(RunCompletion(run: second.run.id, worker: Self.worker, token: second.lease.token, outcome: .succeeded))
                _ = try await (a, b)
                #expect(try await store.sweep(id)?.state == .completed, "round \(round)")
            }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func cancellingWhileRunsFinishEndsEveryRun(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in try await Self.raceCancellationWithCompletions(store, rounds: 10) }
    }

    /// Cancels a sweep while four of its six runs finish, `rounds` times: every run ends succeeded or
    /// cancelled and the sweep ends cancelled, whichever transaction commits first.
    static func raceCancellationWithCompletions(_ store: SQLStore, rounds: Int) async throws {
        for round in 0..<rounds {
            let id = SweepID("cancel-race-\(round)")
            _ = try await store.createSweep(Self.sweep(id.rawValue, runs: 6, cap: 6))
            var claimed: [Lease] = []
            for _ in 0..<4 { claimed.append(try #require(try await Self.claim(store)).lease) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lease in claimed {
                    group.addTask {
                        _ = try await store.completeRun(RunCompletion(run: lease.run, worker: Self.worker, token: lease.token, outcome: .succeeded))
                    }
                }
                group.addTask { _ = try await store.cancelSweep(id) }
                try await group.waitForAll()
            }
            let states = try await store.runs(in: id).map(\.state)
            #expect(states.allSatisfy { [.succeeded, .cancelled].contains($0) }, "round \(round): \(states)")
            #expect(try await store.sweep(id)?.state == .cancelled, "round \(round)")
        }
    }
}
