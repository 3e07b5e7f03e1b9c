import MixLabCore
import MixLabRPC

/// The coordinator's in-memory view of connected workers: their free slots, the runs they hold
/// and the stream that carries messages to them. The store stays the truth about leases; this is
/// what the scheduler needs to decide where to send work.
actor WorkerRegistry {
    struct HeldRun: Sendable, Equatable {
        var run: RunID
        var token: Int64
        var cpus: Int
        var gpus: Int
    }

    struct Session {
        var id: Int
        var worker: WorkerID
        var host: String
        var cpuSlots: Int
        var gpuCount: Int
        var held: [RunID: HeldRun] = [:]
        var draining = false
        var quarantined: Bool
        var lastHeartbeat: ContinuousClock.Instant
        /// Seconds since each held run's trainer last reported, as of `lastHeartbeat`.
        var silence: [RunID: Double] = [:]
        var outbound: AsyncStream<Mixlab_V1_CoordinatorMessage>.Continuation

        var freeCPUs: Int { cpuSlots - held.values.reduce(0) { $0 + $1.cpus } }
        var freeGPUs: Int { gpuCount - held.values.reduce(0) { $0 + $1.gpus } }
    }

    /// A session the scheduler may give work to, with its free capacity.
    struct Candidate: Sendable {
        var worker: WorkerID
        var host: String
        var freeCPUs: Int
        var freeGPUs: Int
    }

    private var sessions: [WorkerID: Session] = [:]
    private var nextSessionID = 0
    private var rotation = 0

    /// Registers a (re)connected worker, replacing and closing any older session of the same name.
    func connect(
        worker: WorkerID, host: String, cpuSlots: Int, gpuCount: Int, quarantined: Bool, held: [HeldRun],
        outbound: AsyncStream<Mixlab_V1_CoordinatorMessage>.Continuation
    ) -> Int {
        sessions[worker]?.outbound.finish()
        nextSessionID += 1
        var session = Session(
            id: nextSessionID, worker: worker, host: host, cpuSlots: cpuSlots, gpuCount: gpuCount, quarantined: quarantined,
            lastHeartbeat: .now, outbound: outbound)
        for run in held { session.held[run.run] = run }
        sessions[worker] = session
        return nextSessionID
    }

    /// Forgets the session unless a newer one replaced it.
    func disconnect(worker: WorkerID, session id: Int) {
        guard sessions[worker]?.id == id else { return }
        sessions[worker]?.outbound.finish()
        sessions[worker] = nil
    }

    func isConnected(_ worker: WorkerID) -> Bool { sessions[worker] != nil }

    func heartbeat(worker: WorkerID, draining: Bool, silence: [RunID: Double] = [:]) {
        sessions[worker]?.lastHeartbeat = .now
        sessions[worker]?.draining = draining
        sessions[worker]?.silence = silence
    }

    /// Seconds since each run on a connected worker last reported, aged since the heartbeat
    /// that said so.
    func secondsSinceReport() -> [RunID: Double] {
        let now = ContinuousClock.now
        var result: [RunID: Double] = [:]
        for session in sessions.values {
            let age = (now - session.lastHeartbeat).inSeconds
            for (run, seconds) in session.silence where session.held[run] != nil { result[run] = seconds + age }
        }
        return result
    }

    func setQuarantined(_ worker: WorkerID, _ quarantined: Bool) {
        sessions[worker]?.quarantined = quarantined
    }

    func heldRuns(of worker: WorkerID) -> [HeldRun] {
        sessions[worker].map { Array($0.held.values) } ?? []
    }

    /// Records an assignment and sends it; false when the worker is gone (the caller gives the
    /// lease back).
    func assign(_ assignment: Mixlab_V1_CoordinatorMessage, run: HeldRun, to worker: WorkerID) -> Bool {
        guard sessions[worker] != nil else { return false }
        sessions[worker]?.held[run.run] = run
        if case .terminated = sessions[worker]!.outbound.yield(assignment) { return false }
        return true
    }

    func release(run: RunID, from worker: WorkerID) {
        sessions[worker]?.held[run] = nil
    }

    /// Removes the run from whichever worker holds it and tells that worker to stop it.
    func revoke(run: RunID, token: Int64, from worker: WorkerID, reason: String) {
        guard sessions[worker]?.held[run] != nil else { return }
        sessions[worker]?.held[run] = nil
        send(.with { $0.cancel = .with { $0.runID = run.rawValue; $0.token = token; $0.reason = reason } }, to: worker)
    }

    @discardableResult
    func send(_ message: Mixlab_V1_CoordinatorMessage, to worker: WorkerID) -> Bool {
        guard let session = sessions[worker] else { return false }
        if case .terminated = session.outbound.yield(message) { return false }
        return true
    }

    /// Workers that can take work now, rotated so consecutive passes start with different workers.
    func candidates() -> [Candidate] {
        let ready = sessions.values
            .filter { !$0.draining && !$0.quarantined && ($0.freeCPUs > 0 || $0.freeGPUs > 0) }
            .sorted { $0.worker.rawValue < $1.worker.rawValue }
            .map { Candidate(worker: $0.worker, host: $0.host, freeCPUs: $0.freeCPUs, freeGPUs: $0.freeGPUs) }
        guard !ready.isEmpty else { return [] }
        rotation = (rotation + 1) % ready.count
        return Array(ready[rotation...] + ready[..<rotation])
    }

    func capacity(of worker: WorkerID) -> Candidate? {
        guard let session = sessions[worker], !session.draining, !session.quarantined else { return nil }
        return Candidate(worker: worker, host: session.host, freeCPUs: session.freeCPUs, freeGPUs: session.freeGPUs)
    }

    struct Snapshot: Sendable {
        var worker: WorkerID
        var secondsSinceHeartbeat: Double
        var running: [RunID]
        var draining: Bool
    }

    func snapshot() -> [Snapshot] {
        let now = ContinuousClock.now
        return sessions.values.map {
            let age = now - $0.lastHeartbeat
            return Snapshot(
                worker: $0.worker,
                secondsSinceHeartbeat: age.inSeconds,
                running: $0.held.keys.sorted { $0.rawValue < $1.rawValue }, draining: $0.draining)
        }.sorted { $0.worker.rawValue < $1.worker.rawValue }
    }
}
