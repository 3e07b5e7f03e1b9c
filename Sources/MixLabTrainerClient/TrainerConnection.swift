import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The trainer side of the MixLab trainer protocol (docs/trainer-protocol.md): one blocking
/// connection to the worker's Unix socket, over which a trainer reports evaluations and progress,
/// asks for the next mixture, and says it is done.
///
/// Every value is checked before it is sent (steps and tokens ≥ 0, losses finite and ≥ 0), so a
/// bad number fails in the trainer with a clear message instead of as a protocol error.
public final class TrainerConnection {
    /// What the worker answers to `next`.
    public enum Reply: Sendable, Hashable {
        /// Train the next `steps` steps on these weights.
        case mixture(weights: [String: Double], steps: Int)
        /// No more rounds: send a final eval, then `done`.
        case stop
    }

    /// The protocol version this client speaks.
    public static let protocolVersion = 1
    /// The longest line the worker accepts (newline excluded).
    public static let maximumLineBytes = 64 * 1024

    private var descriptor: Int32
    private var pending: [UInt8] = []

    /// Connects to the socket named by `MIXLAB_CONTROL` and says hello.
    public convenience init(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrainerConnectionError) {
        guard let path = environment["MIXLAB_CONTROL"], !path.isEmpty else {
            throw TrainerConnectionError("MIXLAB_CONTROL is not set; run this trainer through a MixLab worker or pass a socket path")
        }
        try self.init(socketPath: path)
    }

    /// Connects to the Unix socket at `socketPath` and sends `hello`.
    public init(socketPath: String) throws(TrainerConnectionError) {
        guard socketPath.utf8.count < 108 else {
            throw TrainerConnectionError("control socket path \(socketPath) is longer than 107 bytes")
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw TrainerConnectionError("socket(): \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in socketPath.utf8.enumerated() { buffer[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let problem = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw TrainerConnectionError("cannot connect to the control socket \(socketPath): \(problem)")
        }
        self.descriptor = descriptor
        try send(["type": .string("hello"), "protocol": .integer(Self.protocolVersion)])
    }

    deinit { close() }

    /// Reports held-out losses (nats per byte or any loss ≥ 0) after `step` steps and `tokens` tokens.
    public func eval(step: Int, tokens: Int, losses: [String: Double]) throws(TrainerConnectionError) {
        try checkCounts(step: step, tokens: tokens)
        guard !losses.isEmpty else { throw TrainerConnectionError("eval at step \(step) has no losses; report at least one domain") }
        for (domain, loss) in losses {
            guard !domain.isEmpty else { throw TrainerConnectionError("eval at step \(step) has a loss for an empty domain name") }
            guard loss.isFinite, loss >= 0 else {
                throw TrainerConnectionError("eval at step \(step): loss of \(domain) is \(loss); losses must be finite and ≥ 0")
            }
        }
        try send([
            "type": .string("eval"), "step": .integer(step), "tokens": .integer(tokens),
            "losses": .object(losses.mapValues { .number($0) }),
        ])
    }

    /// Says the trainer is alive (resets the worker's no-report watchdog).
    public func progress(step: Int, tokens: Int) throws(TrainerConnectionError) {
        try checkCounts(step: step, tokens: tokens)
        try send(["type": .string("progress"), "step": .integer(step), "tokens": .integer(tokens)])
    }

    /// Asks which mixture to train next and waits for the answer.
    public func next(step: Int) throws(TrainerConnectionError) -> Reply {
        try checkCounts(step: step, tokens: 0)
        try send(["type": .string("next"), "step": .integer(step)])
        return try Self.decodeReply(try readLine())
    }

    /// Says training is finished (the last eval sent is the run's result) and closes the connection.
    public func done() throws(TrainerConnectionError) {
        try send(["type": .string("done")])
        close()
    }

    /// Closes the connection without saying `done`.
    public func close() {
        guard descriptor >= 0 else { return }
        Glibc.close(descriptor)
        descriptor = -1
    }

    /// Parses one reply line (`mixture` or `stop`; unknown fields are ignored).
    public static func decodeReply(_ line: [UInt8]) throws(TrainerConnectionError) -> Reply {
        let text = String(decoding: line, as: UTF8.self)
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw TrainerConnectionError("the worker's reply is not a JSON object: \(text.prefix(200))")
        }
        switch object["type"] as? String {
        case "stop":
            return .stop
        case "mixture":
            guard let rawWeights = object["weights"] as? [String: Any], !rawWeights.isEmpty else {
                throw TrainerConnectionError("mixture reply has no weights: \(text.prefix(200))")
            }
            var weights: [String: Double] = [:]
            for (domain, value) in rawWeights {
                guard let weight = (value as? NSNumber)?.doubleValue, weight.isFinite, weight >= 0 else {
                    throw TrainerConnectionError("mixture reply: weight of \(domain) is not a finite number ≥ 0")
                }
                weights[domain] = weight
            }
            guard let steps = (object["steps"] as? NSNumber)?.doubleValue, steps >= 0, steps == steps.rounded(),
                  steps < 1e15 else {
                throw TrainerConnectionError("mixture reply: steps is not a whole number ≥ 0: \(text.prefix(200))")
            }
            return .mixture(weights: weights, steps: Int(steps))
        default:
            throw TrainerConnectionError("unexpected reply from the worker: \(text.prefix(200))")
        }
    }

    private func checkCounts(step: Int, tokens: Int) throws(TrainerConnectionError) {
        guard step >= 0 else { throw TrainerConnectionError("step is \(step); steps are counted from 0") }
        guard tokens >= 0 else { throw TrainerConnectionError("tokens is \(tokens); tokens are counted from 0") }
    }

    private func send(_ message: [String: WireValue]) throws(TrainerConnectionError) {
        guard descriptor >= 0 else { throw TrainerConnectionError("the control connection is closed") }
        let line = WireValue.object(message).json
        guard line.utf8.count <= Self.maximumLineBytes else {
            throw TrainerConnectionError("a \(message["type"]?.json ?? "") line of \(line.utf8.count) bytes is over the 64 KiB limit")
        }
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw TrainerConnectionError("writing to the control socket failed: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    private func readLine() throws(TrainerConnectionError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
                return line
            }
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { throw TrainerConnectionError("the worker closed the control socket while a reply to next was awaited") }
            pending += buffer[0..<count]
        }
    }
}

/// A failure of the control connection, or a value the protocol would refuse.
public struct TrainerConnectionError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// The JSON values the trainer sends, rendered without Foundation's number formatting surprises.
enum WireValue {
    case string(String)
    case integer(Int)
    case number(Double)
    case object([String: WireValue])

    var json: String {
        switch self {
        case .string(let text): Self.quoted(text)
        case .integer(let value): String(value)
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        case .object(let members):
            "{" + members.sorted { $0.key < $1.key }.map { Self.quoted($0.key) + ":" + $0.value.json }.joined(separator: ",") + "}"
        }
    }

    private static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
