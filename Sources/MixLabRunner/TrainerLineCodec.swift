/// A line from a trainer that breaks the protocol. The attempt fails with cause `protocol_error`,
/// and ``line`` (the start of the offending line) goes into the attempt's log.
public struct TrainerProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of rule the line broke.
    public enum Kind: String, Sendable, Hashable {
        case malformedJSON = "malformed_json"
        case unknownType = "unknown_type"
        case missingField = "missing_field"
        case invalidField = "invalid_field"
        case unsupportedProtocol = "unsupported_protocol"
        case oversizedLine = "oversized_line"
        /// A loss that is NaN, infinite or negative.
        case invalidLoss = "invalid_loss"
        /// An eval for a domain that is not one of the run's domains.
        case unknownDomain = "unknown_domain"
        /// A well-formed message at the wrong time (e.g. before `hello`).
        case unexpectedMessage = "unexpected_message"
    }

    /// How many bytes of the offending line are kept in ``line``.
    public static let excerptBytes = 200

    public var kind: Kind
    /// What is wrong and how a trainer should do it instead.
    public var message: String
    /// The offending line, cut to ``excerptBytes`` bytes (with a note of its full length when cut).
    public var line: String

    public init(kind: Kind, message: String, line: some Collection<UInt8>) {
        self.kind = kind
        self.message = message
        self.line = TrainerProtocolError.excerpt(line)
    }

    public var description: String { "\(kind.rawValue): \(message); line: \(line)" }

    static func excerpt(_ bytes: some Collection<UInt8>) -> String {
        guard bytes.count > excerptBytes else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: bytes.prefix(excerptBytes), as: UTF8.self) + "… (\(bytes.count) bytes)"
    }
}

/// Reads and writes trainer protocol lines: one JSON object per line, at most ``maxLineBytes``
/// bytes each. Unknown fields are ignored; unknown `type`s are errors.
public struct TrainerLineCodec: Sendable {
    /// The default longest line accepted, newline excluded: 64 KiB.
    public static let defaultMaxLineBytes = 64 * 1024

    public var maxLineBytes: Int
    /// The run's domain names; an eval naming any other domain is refused.
    public var domains: Set<String>

    public init(domains: Set<String>, maxLineBytes: Int = TrainerLineCodec.defaultMaxLineBytes) {
        self.domains = domains
        self.maxLineBytes = maxLineBytes
    }

    /// Decodes one line (without its newline; a trailing carriage return is allowed).
    public func decode(line rawLine: some Collection<UInt8>) throws(TrainerProtocolError) -> TrainerMessage {
        var bytes = Array(rawLine)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        func fail(_ kind: TrainerProtocolError.Kind, _ message: String) -> TrainerProtocolError {
            TrainerProtocolError(kind: kind, message: message, line: bytes)
        }
        guard bytes.count <= maxLineBytes else {
            throw fail(.oversizedLine, "line of \(bytes.count) bytes is longer than the limit of \(maxLineBytes)")
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes: bytes)
        } catch {
            throw fail(.malformedJSON, "not JSON (\(error)); send one JSON object per line")
        }
        guard case .object(let fields) = value else {
            throw fail(.malformedJSON, "a line must be a JSON object, like {\"type\":\"progress\",…}")
        }
        guard let typeValue = fields["type"] else { throw fail(.missingField, "field \"type\" is missing") }
        guard case .string(let type) = typeValue else { throw fail(.invalidField, "field \"type\" must be a string") }

        func count(_ name: String) throws(TrainerProtocolError) -> Int64 {
            guard let field = fields[name] else { throw fail(.missingField, "\(type): field \"\(name)\" is missing") }
            switch field {
            case .integer(let value) where value >= 0:
                return value
            case .number(let value) where value >= 0 && value == value.rounded() && value < 9.2e18:
                return Int64(value)
            default:
                throw fail(.invalidField, "\(type): field \"\(name)\" must be a non-negative integer")
            }
        }

        switch type {
        case "hello":
            guard let field = fields["protocol"] else {
                throw fail(.missingField, "hello: field \"protocol\" is missing")
            }
            guard case .integer(let version) = field else {
                throw fail(.invalidField, "hello: field \"protocol\" must be an integer")
            }
            guard version == Int64(trainerProtocolVersion) else {
                throw fail(.unsupportedProtocol, "protocol \(version) is not supported; "
                               + "this worker speaks protocol \(trainerProtocolVersion)")
            }
            return .hello(protocolVersion: Int(version))
        case "eval":
            let step = try count("step")
            let tokens = try count("tokens")
            guard let lossesField = fields["losses"] else {
                throw fail(.missingField, "eval: field \"losses\" is missing")
            }
            guard case .object(let lossValues) = lossesField, !lossValues.isEmpty else {
                throw fail(.invalidField, "eval: field \"losses\" must be a non-empty object {domain: loss}")
            }
            var losses: [String: Double] = [:]
            for (domain, lossValue) in lossValues.sorted(by: { $0.key < $1.key }) {
                guard domains.contains(domain) else {
                    throw fail(.unknownDomain, "eval: \"\(domain)\" is not a domain of this run (domains: "
                                   + domains.sorted().joined(separator: ", ") + ")")
                }
                guard let loss = lossValue.doubleValue else {
                    throw fail(.invalidField, "eval: loss of \"\(domain)\" must be a number")
                }
                guard loss.isFinite, loss >= 0 else {
                    throw fail(.invalidLoss, "eval: loss of \"\(domain)\" is \(loss); losses must be finite and >= 0")
                }
                losses[domain] = loss
            }
            return .eval(TrainerEval(step: step, tokens: tokens, losses: losses))
        case "progress":
            return .progress(step: try count("step"), tokens: try count("tokens"))
        case "done":
            return .done
        case "next":
            return .next(step: try count("step"))
        default:
            throw fail(.unknownType,
                       "unknown type \"\(type)\"; protocol 1 types are hello, eval, progress, done, next")
        }
    }

    /// Decodes a worker's reply line (the trainer side; used by tests and Swift trainers).
    public static func decodeReply(line: some Collection<UInt8>) throws(TrainerProtocolError) -> TrainerReply {
        let bytes = Array(line)
        func fail(_ kind: TrainerProtocolError.Kind, _ message: String) -> TrainerProtocolError {
            TrainerProtocolError(kind: kind, message: message, line: bytes)
        }
        guard case .object(let fields)? = try? JSONValue.parse(bytes: bytes) else {
            throw fail(.malformedJSON, "a reply must be a JSON object")
        }
        switch fields["type"] {
        case .string("stop")?:
            return .stop
        case .string("mixture")?:
            guard case .object(let weightValues)? = fields["weights"] else {
                throw fail(.invalidField, "mixture: field \"weights\" must be an object")
            }
            var weights: [String: Double] = [:]
            for (domain, value) in weightValues {
                guard let weight = value.doubleValue else {
                    throw fail(.invalidField, "mixture: weight must be a number")
                }
                weights[domain] = weight
            }
            guard case .integer(let steps)? = fields["steps"] else {
                throw fail(.invalidField, "mixture: field \"steps\" must be an integer")
            }
            return .mixture(weights: weights, steps: steps)
        default:
            throw fail(.unknownType, "reply type must be mixture or stop")
        }
    }
}

/// Splits a byte stream into lines, refusing any line longer than a limit before it is complete
/// (so a trainer that never sends a newline cannot make the worker buffer without bound).
struct LineSplitter: Sendable {
    let maxLineBytes: Int
    private var pending: [UInt8] = []

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// One piece of the stream: a complete line, or the start of a line that grew past the limit.
    enum Piece: Sendable {
        case line([UInt8])
        case oversized(prefix: [UInt8], length: Int)
    }

    /// Adds bytes read from the stream and returns the pieces they complete. After an `oversized`
    /// piece the splitter should not be fed again.
    mutating func append(_ bytes: some Collection<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                let isBlank = pending.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                if !isBlank { pieces.append(.line(pending)) }
                pending.removeAll(keepingCapacity: true)
                continue
            }
            pending.append(byte)
            if pending.count > maxLineBytes + 1 {
                pieces.append(.oversized(prefix: Array(pending.prefix(TrainerProtocolError.excerptBytes)),
                                         length: pending.count))
                pending.removeAll()
                return pieces
            }
        }
        return pieces
    }

    /// What is left when the stream ends: an unterminated last line, if any.
    mutating func finish() -> [UInt8]? {
        defer { pending.removeAll() }
        let isBlank = pending.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        return isBlank ? nil : pending
    }
}
