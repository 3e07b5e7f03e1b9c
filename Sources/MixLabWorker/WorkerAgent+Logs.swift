import Foundation
import MixLabCore
import MixLabRPC

extension WorkerAgent {
    /// Streams an attempt's log file to the coordinator in 32 KiB chunks; with `follow`, keeps
    /// polling for growth until the attempt has ended and the file is drained, or the request is cancelled.
    func serveLog(_ request: Mixlab_V1_LogRequest) async {
        let path = Self.attemptDirectory(root: configuration.workDirectory, run: request.runID, attempt: request.attempt) + "/trainer.log"
        guard let handle = FileHandle(forReadingAtPath: path) else {
            await sendChunk(.with { $0.requestID = request.requestID; $0.error = "no log for \(request.runID) attempt \(request.attempt) on this worker"; $0.eof = true })
            return
        }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        let start = request.offset < 0 ? UInt64(max(0, Int64(size) + request.offset)) : UInt64(request.offset)
        try? handle.seek(toOffset: min(start, size))
        while true {
            let data = (try? handle.read(upToCount: 32 * 1024)) ?? nil
            if let data, !data.isEmpty {
                await sendChunk(.with { $0.requestID = request.requestID; $0.data = data })
                continue
            }
            let running = await isRunning(request.runID)
            let cancelled = await logFollowers.isCancelled(request.requestID)
            if !request.follow || !running || cancelled { break }
            try? await Task.sleep(for: .milliseconds(200))
        }
        await sendChunk(.with { $0.requestID = request.requestID; $0.eof = true })
        await logFollowers.forget(request.requestID)
    }

    func sendChunk(_ chunk: Mixlab_V1_LogChunk) async {
        await state.sendUnreliable(.with { $0.logChunk = chunk })
    }

    func isRunning(_ run: String) async -> Bool {
        await state.isRunning(RunID(run))
    }
}
