import Foundation
import MixLabCore
import MixLabStore
import Testing

/// What the coordinator asks of the store beyond the lease machine: workers and quarantine,
/// cancelling and retrying a sweep, a retry policy that rules a failure out, attempt history.
@Suite struct CoordinatorOperationsTests {
    typealias Conformance = StoreConformanceTests

    @Test(arguments: StoreBackend.allCases)
    func workersAreQuarantinedAfterConsecutiveFailuresAndReleasedByHand(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            let id = WorkerID("w1")
            try await store.registerWorker(WorkerRegistration(id: id, host: "box-1", cpuSlots: 4, gpuIDs: [0, 1], version: "test"))
            var record = try #require(try await store.worker(id))
            #expect(record.cpuSlots == 4 && record.gpuIDs == [0, 1] && !record.quarantined)
            _ = try await store.recordWorkerResult(id, succeeded: false, quarantineAfter: 3)
            _ = try await store.recordWorkerResult(id, succeeded: true, quarantineAfter: 3)
            #expect(try await store.worker(id)?.consecutiveFailures == 0, "a success resets the count")
            for _ in 0..<2 { _ = try await store.recordWorkerResult(id, succeeded: false, quarantineAfter: 3) }
            #expect(try await store.worker(id)?.quarantined == false)
            record = try #require(try await store.recordWorkerResult(id, succeeded: false, quarantineAfter: 3))
            #expect(record.quarantined && record.consecutiveFailures == 3)
            // Re-registering (a restart) keeps the quarantine.
            try await store.registerWorker(WorkerRegistration(id: id, host: "box-1", cpuSlots: 4, gpuIDs: [0, 1], version: "test"))
            #expect(try await store.worker(id)?.quarantined == true)
            record = try await store.setWorkerQuarantined(id, false)
            #expect(!record.quarantined && record.consecutiveFailures == 0)
            await #expect { _ = try await store.setWorkerQuarantined(WorkerID("nobody"), false) } throws: {
                ($0 as? StoreError)?.code == .unknownWorker
            }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func cancellingASweepEndsEveryRunAndRefusesTheOldLeases(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Conformance.sweep("s", runs: 3, cap: 2))
            let first = try #require(try await Conformance.claim(store))
            let live = try await store.cancelSweep(SweepID("s"))
            #expect(live.map(\.run) == [first.run.id])
            let sweep = try #require(try await store.sweep(SweepID("s")))
            #expect(sweep.state == .cancelled && sweep.runCounts[.cancelled] == 3)
            await #expect {
                _ = try await store.reportEvals(
                    EvalReport(run: first.run.id, worker: Conformance.worker, token: first.lease.token, points: Conformance.points(1...1)))
            } throws: { ($0 as? StoreError)?.code == .staleLease }
            // The worker's late completion changes nothing.
            let after = try await store.completeRun(
                RunCompletion(
                    run: first.run.id, worker: Conformance.worker, token: first.lease.token,
                    outcome: .failed(cause: .cancelled, exitCode: nil, signal: 15)))
            #expect(after.state == .cancelled)
            #expect(try await store.attempts(of: first.run.id).first?.cause == .cancelled)
            // Retrying cancelled runs brings the sweep back, under its cap.
            #expect(try await store.retryRuns(in: SweepID("s"), includeCancelled: true) == 3)
            #expect(try await store.sweep(SweepID("s"))?.state == .active)
            #expect(try await Conformance.claim(store) != nil)
            #expect(try await Conformance.claim(store) != nil)
            #expect(try await Conformance.claim(store) == nil, "the cap of 2 holds after cancel and retry")
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func cancellingOneRunFreesItsSlotAndEndsTheSweepWhenItWasTheLast(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Conformance.sweep("one", runs: 3, cap: 1))
            let first = try #require(try await Conformance.claim(store))
            let queued = try await store.cancelRun(RunID("one/2"))
            #expect(queued.cancelled && queued.lease == nil)
            let running = try await store.cancelRun(first.run.id)
            #expect(running.cancelled && running.lease?.token == first.lease.token)
            let second = try #require(try await Conformance.claim(store), "the cancelled run's slot under the cap of 1 is free again")
            #expect(second.run.id == RunID("one/1"))
            await #expect {
                _ = try await store.reportEvals(
                    EvalReport(run: first.run.id, worker: Conformance.worker, token: first.lease.token, points: Conformance.points(1...1)))
            } throws: { ($0 as? StoreError)?.code == .staleLease }
            #expect(try await store.sweep(SweepID("one"))?.state == .active)
            _ = try await store.completeRun(RunCompletion(run: second.run.id, worker: Conformance.worker, token: second.lease.token, outcome: .succeeded))
            let sweep = try #require(try await store.sweep(SweepID("one")))
            #expect(sweep.state == .completed && sweep.runCounts[.cancelled] == 2 && sweep.runCounts[.succeeded] == 1)
            #expect(try await store.attempts(of: first.run.id).first?.cause == .cancelled)
            let again = try await store.cancelRun(first.run.id)
            #expect(!again.cancelled && again.lease == nil)
            await #expect { _ = try await store.cancelRun(second.run.id) } throws: {
                ($0 as? StoreError)?.code == .sweepState && "\($0)".contains("already succeeded")
            }
            await #expect { _ = try await store.cancelRun(RunID("one/9")) } throws: { ($0 as? StoreError)?.code == .unknownRun }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func cancellingTwiceChangesNothingAndACompletedSweepIsNotCancelled(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Conformance.sweep("twice", runs: 2))
            _ = try #require(try await Conformance.claim(store))
            #expect(try await store.cancelSweep(SweepID("twice")).count == 1)
            #expect(try await store.cancelSweep(SweepID("twice")).isEmpty, "a repeated cancel has no live lease left to stop")
            #expect(try await store.sweep(SweepID("twice"))?.state == .cancelled)

            _ = try await store.createSweep(Conformance.sweep("done", runs: 1))
            let claimed = try #require(try await Conformance.claim(store))
            _ = try await store.completeRun(RunCompletion(run: claimed.run.id, worker: Conformance.worker, token: claimed.lease.token, outcome: .succeeded))
            await #expect { _ = try await store.cancelSweep(SweepID("done")) } throws: {
                ($0 as? StoreError)?.code == .sweepState && "\($0)".contains("nothing to cancel")
            }
            let done = try #require(try await store.sweep(SweepID("done")))
            #expect(done.state == .completed && done.runCounts[.succeeded] == 1, "the refused cancel changed nothing")
            await #expect { _ = try await store.cancelSweep(SweepID("nope")) } throws: { ($0 as? StoreError)?.code == .unknownSweep }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func preemptionsAreRequeuedWithoutUsingAnAttemptUpToTheAllowance(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Conformance.sweep("p", runs: 1, maxAttempts: 1))
            func preempt() async throws -> RunRecord {
                let claimed = try #require(try await Conformance.claim(store))
                return try await store.completeRun(
                    RunCompletion(
                        run: claimed.run.id, worker: Conformance.worker, token: claimed.lease.token,
                        outcome: .failed(cause: .preempted, exitCode: nil, signal: 15), preemptionAllowance: 2))
            }
            for expected in 2...3 {
                let run = try await preempt()
                #expect(run.state == .queued && run.attempt == expected && run.maxAttempts == expected, "free re-queue: \(run)")
            }
            let third = try await preempt()
            #expect(third.state == .failed && third.attempt == 3, "the third preemption uses up the only attempt: \(third)")
            #expect(try await store.attempts(of: third.id).map(\.cause) == [.preempted, .preempted, .preempted])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aNonRetryableFailureFailsTheRunAtOnceAndRetryGrantsFreshAttempts(_ backend: StoreBackend) async throws {
        try await backend.withFreshStore { store in
            _ = try await store.createSweep(Conformance.sweep("s", runs: 1, maxAttempts: 3))
            let claimed = try #require(try await Conformance.claim(store))
            let failed = try await store.completeRun(
                RunCompletion(
                    run: claimed.run.id, worker: Conformance.worker, token: claimed.lease.token,
                    outcome: .failed(cause: .exitCode, exitCode: 1, signal: nil), logTail: "CUDA out of memory", retryable: false))
            #expect(failed.state == .failed && failed.attempt == 1, "attempts were left, but the policy ruled a retry out")
            #expect(try await store.sweep(SweepID("s"))?.state == .completed)
            #expect(try await store.retryRuns(in: SweepID("s"), includeCancelled: false) == 1)
            let again = try #require(try await store.run(claimed.run.id))
            #expect(again.state == .queued && again.attempt == 2 && again.maxAttempts == 4, "three fresh attempts: 2, 3 and 4")
            let second = try #require(try await Conformance.claim(store))
            #expect(second.lease.token > claimed.lease.token)
            let attempts = try await store.attempts(of: claimed.run.id)
            #expect(attempts.map(\.attempt) == [1, 2])
            #expect(attempts[0].exitCode == 1 && attempts[0].logTail == "CUDA out of memory" && attempts[1].endedAt == nil)
            #expect(try await store.leases(of: Conformance.worker).map(\.run) == [claimed.run.id])
        }
    }
}
