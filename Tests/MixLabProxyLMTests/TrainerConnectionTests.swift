import Foundation
import MixLabRunner
import MixLabTrainerClient
import Synchronization
import Testing

/// The Swift trainer client against the worker's real control socket and line codec.
@Suite struct TrainerConnectionTests {
    /// A worker-side socket that decodes every line with the worker's codec and answers `next`
    /// from a script of replies.
    final class WorkerSide: Sendable {
        let socket: ControlSocket
        let received = Mutex<[Result<TrainerMessage, TrainerProtocolError>]>([])
        let replies: Mutex<[TrainerReply]>
        let finished = Mutex(false)

        init(path: String, script: [TrainerReply]) throws {
            socket = try ControlSocket(path: path, maxLineBytes: TrainerLineCodec.defaultMaxLineBytes)
            self.replies = Mutex(script)
            let codec = TrainerLineCodec(domains: ["code", "prose"])
            socket.start { [self] event in
                switch event {
                case .line(let connection, let bytes):
                    let message = Result { () throws(TrainerProtocolError) in try codec.decode(line: bytes) }
                    received.withLock { $0.append(message) }
                    if case .success(.next) = message {
                        let reply = self.replies.withLock { $0.isEmpty ? .stop : $0.removeFirst() }
                        socket.send(reply.encoded(), to: connection)
                    }
                case .finished:
                    finished.withLock { $0 = true }
                default:
                    break
                }
            }
        }

        func messages() async -> [TrainerMessage] {
            socket.finish()
            let deadline = ContinuousClock.now + .seconds(20)
            while !finished.withLock({ $0 }), ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
            return received.withLock { $0.compactMap { try? $0.get() } }
        }
    }

    static func socketPath() -> String {
        "/tmp/mlp-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
    }

    @Test func wholeConversationDecodesOnTheWorkerSide() async throws {
        let path = Self.socketPath()
        let worker = try WorkerSide(path: path, script: [.mixture(weights: ["code": 0.25, "prose": 0.75], steps: 40)])
        let connection = try TrainerConnection(socketPath: path)
        let first = try connection.next(step: 0)
        #expect(first == .mixture(weights: ["code": 0.25, "prose": 0.75], steps: 40))
        try connection.progress(step: 20, tokens: 1_280)
        try connection.eval(step: 40, tokens: 2_560, losses: ["code": 2.5, "prose": 3.25])
        #expect(try connection.next(step: 40) == .stop)
        try connection.eval(step: 40, tokens: 2_560, losses: ["code": 2.5, "prose": 3.25])
        try connection.done()
        let messages = await worker.messages()
        let eval = TrainerMessage.eval(TrainerEval(step: 40, tokens: 2_560, losses: ["code": 2.5, "prose": 3.25]))
        #expect(messages == [
            .hello(protocolVersion: 1), .next(step: 0), .progress(step: 20, tokens: 1_280), eval, .next(step: 40), eval, .done,
        ])
        #expect(worker.received.withLock { $0.allSatisfy { (try? $0.get()) != nil } })
    }

    @Test func valuesTheProtocolRefusesAreNotSent() async throws {
        let path = Self.socketPath()
        let worker = try WorkerSide(path: path, script: [])
        let connection = try TrainerConnection(socketPath: path)
        for bad in [Double.nan, .infinity, -0.5] {
            #expect(throws: TrainerConnectionError.self) { try connection.eval(step: 1, tokens: 1, losses: ["code": bad]) }
        }
        #expect(throws: TrainerConnectionError.self) { try connection.eval(step: 1, tokens: 1, losses: [:]) }
        #expect(throws: TrainerConnectionError.self) { try connection.progress(step: -1, tokens: 0) }
        #expect(throws: TrainerConnectionError.self) { try connection.progress(step: 0, tokens: -5) }
        connection.close()
        #expect(await worker.messages() == [.hello(protocolVersion: 1)])
    }

    @Test func repliesWithExtraFieldsAndIntegralFloatsAreRead() throws {
        let reply = try TrainerConnection.decodeReply(Array(#"{"type":"mixture","weights":{"code":1},"steps":500.0,"round":3}"#.utf8))
        #expect(reply == .mixture(weights: ["code": 1], steps: 500))
        for bad in [#"{"type":"mixture","weights":{"code":1},"steps":2.5}"#, #"{"type":"resume"}"#, "not json",
                    #"{"type":"mixture","weights":{"code":-1},"steps":5}"#] {
            #expect(throws: TrainerConnectionError.self) { try TrainerConnection.decodeReply(Array(bad.utf8)) }
        }
    }

    @Test func missingSocketIsAClearError() {
        do {
            _ = try TrainerConnection(socketPath: "/tmp/mlp-does-not-exist.sock")
            Issue.record("connected to a socket that does not exist")
        } catch {
            #expect(error.description.contains("/tmp/mlp-does-not-exist.sock"))
        }
    }
}
