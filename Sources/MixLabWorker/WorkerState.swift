import Foundation
import MixLabCore
import MixLabRPC
import MixLabRunner

/// The worker's mutable state: running attempts, free slots, the outbox of unacknowledged reports
/// and the current session's outbound stream (nil while disconnected).
actor WorkerState {
    struct Running {
        var assignment: Mixlab_V1_Assignment
        var supervisor: AttemptSupervisor
        var gpus: [Int]
        /// Set when the coordinator took the run back (lease lost, cancelled): its outcome is not reported.
        var revoked = false
        /// When the trainer last said anything (or started).
        var lastActivity: ContinuousClock.Instant = .now
    }

    private(set) var running: [RunID: Running] = [:]
    private var freeGPUs: [Int]
    private var usedCPUs = 0
    let cpuSlots: Int
    private var outbox: Outbox
    private var session: AsyncStream<Mixlab_V1_WorkerMessage>.Continuation?
    private(set) var draining = false
    /// Since when no slot has been in use (nil while one is).
    private(set) var idleSince: ContinuousClock.Instant? = .now
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(cpuSlots: Int, gpuIDs: [Int], outbox: Outbox) {
        self.cpuSlots = cpuSlots
        self.freeGPUs = gpuIDs
        self.outbox = outbox
    }

    // MARK: Session

    /// Attaches a new session and returns the reports to replay on it.
    func attach(_ continuation: AsyncStream<Mixlab_V1_WorkerMessage>.Continuation) -> [Mixlab_V1_WorkerMessage] {
        session?.finish()
        session = continuation
        return outbox.replay
    }

    func detach() {
        session?.finish()
        session = nil
    }

    private func send(_ message: Mixlab_V1_WorkerMessage) {
        session?.yield(message)
    }

    /// Writes a report to the outbox and sends it if connected.
    func report(_ make: (UInt64) -> Mixlab_V1_WorkerMessage) {
        do {
            send(try outbox.add(make))
        } catch {
            // The disk refused the outbox file: send it anyway; it is lost only if this session also drops.
            send(make(0))
        }
    }

    func acknowledge(_ ack: Mixlab_V1_Ack) -> RunID? {
        let message = outbox.pending[ack.seq]
        outbox.remove(ack.seq)
        guard ack.status != .ok, let message else { return nil }
        switch message.kind {
        case .evals(let batch): return RunID(batch.runID)
        case .runStarted(let started): return RunID(started.runID)
        default: return nil
        }
    }

    var pendingReports: Int { outbox.pending.count }
    var droppedReports: Int { outbox.dropped }

    /// Sends a message that needs no acknowledgement (heartbeats, log chunks, mixture requests);
    /// false when no session is attached (the message is dropped).
    @discardableResult
    func sendUnreliable(_ message: Mixlab_V1_WorkerMessage) -> Bool {
        guard session != nil else { return false }
        send(message)
        return true
    }

    /// Whether `run` still runs here for the coordinator (not finished, not taken back).
    func holds(_ run: RunID) -> Bool { running[run].map { !$0.revoked } ?? false }

    // MARK: Attempts

    var heldRuns: [Mixlab_V1_HeldRun] {
        let now = ContinuousClock.now
        return running.filter { !$0.value.revoked }.map { id, attempt in
            .with {
                $0.runID = id.rawValue
                $0.token = attempt.assignment.token
                $0.attempt = attempt.assignment.attempt
                $0.secondsSinceReport = (now - attempt.lastActivity).inSeconds
            }
        }.sorted { $0.runID < $1.runID }
    }

    /// The run's trainer said something: an eval, progress, a `next`.
    func noteActivity(_ run: RunID) {
        running[run]?.lastActivity = .now
    }

    var freeCapacity: (cpus: Int, gpus: Int) { (cpuSlots - usedCPUs, freeGPUs.count) }

    /// Reserves slots for an assignment; nil when they are not free (or the worker drains).
    func reserve(_ assignment: Mixlab_V1_Assignment) -> [Int]? {
        guard !draining, running[RunID(assignment.runID)] == nil else { return nil }
        let cpus = Int(max(assignment.cpus, 0)), gpus = Int(max(assignment.gpus, 0))
        guard usedCPUs + cpus <= cpuSlots, freeGPUs.count >= gpus else { return nil }
        usedCPUs += cpus
        let taken = Array(freeGPUs.prefix(gpus))
        freeGPUs.removeFirst(gpus)
        idleSince = nil
        return taken
    }

    func started(_ assignment: Mixlab_V1_Assignment, supervisor: AttemptSupervisor, gpus: [Int]) {
        running[RunID(assignment.runID)] = Running(assignment: assignment, supervisor: supervisor, gpus: gpus)
    }

    /// Frees the attempt's slots and, unless the run was revoked, writes its outcome report, in
    /// one step: whoever waits for the worker to go idle (a drain) then finds the report pending.
    func ended(_ run: RunID, cpus: Int, gpus: [Int], report make: (UInt64) -> Mixlab_V1_WorkerMessage) {
        let revoked = running.removeValue(forKey: run)?.revoked ?? false
        usedCPUs -= cpus
        freeGPUs.append(contentsOf: gpus)
        freeGPUs.sort()
        if !revoked { report(make) }
        if running.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
        if usedCPUs == 0, running.isEmpty { idleSince = .now }
    }

    /// The coordinator no longer considers the run ours: stop it and report nothing.
    func revoke(_ run: RunID) {
        guard var attempt = running[run] else { return }
        attempt.revoked = true
        running[run] = attempt
        attempt.supervisor.cancel()
    }

    func cancel(_ run: RunID) {
        running[run]?.supervisor.cancel()
    }

    func isRunning(_ run: RunID) -> Bool { running[run] != nil }

    // MARK: Drain

    func beginDrain() { draining = true }

    private(set) var handingBack = false

    func beginHandBack() { handingBack = true }

    func cancelAll() {
        for attempt in running.values { attempt.supervisor.cancel() }
    }

    func waitUntilIdle() async {
        if running.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }
}
