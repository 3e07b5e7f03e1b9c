import MixLabRPC

/// Pairs `runs logs` requests from the CLI with the log chunks workers send back for them.
actor LogRelay {
    private var streams: [String: AsyncStream<Mixlab_V1_LogChunk>.Continuation] = [:]
    private var counter = 0

    func open() -> (id: String, chunks: AsyncStream<Mixlab_V1_LogChunk>) {
        counter += 1
        let id = "log-\(counter)"
        let (stream, continuation) = AsyncStream.makeStream(of: Mixlab_V1_LogChunk.self, bufferingPolicy: .bufferingNewest(256))
        streams[id] = continuation
        return (id, stream)
    }

    func deliver(_ chunk: Mixlab_V1_LogChunk) {
        guard let continuation = streams[chunk.requestID] else { return }
        continuation.yield(chunk)
        if chunk.eof || !chunk.error.isEmpty {
            continuation.finish()
            streams[chunk.requestID] = nil
        }
    }

    func close(_ id: String) {
        streams[id]?.finish()
        streams[id] = nil
    }
}
