/// The version of the trainer protocol this worker speaks. A trainer's `hello` must name it.
public let trainerProtocolVersion = 1

/// One evaluation a trainer reported: the loss on each evaluated domain at a point in training.
public struct TrainerEval: Sendable, Hashable {
    public var step: Int64
    public var tokens: Int64
    /// Domain name → loss; finite, non-negative, and only for the run's domains.
    public var losses: [String: Double]

    public init(step: Int64, tokens: Int64, losses: [String: Double]) {
        self.step = step
        self.tokens = tokens
        self.losses = losses
    }
}

/// A line the trainer sends to the worker over the control socket.
public enum TrainerMessage: Sendable, Hashable {
    /// `{"type":"hello","protocol":1}`: the first line on every connection.
    case hello(protocolVersion: Int)
    /// `{"type":"eval","step":S,"tokens":T,"losses":{…}}`.
    case eval(TrainerEval)
    /// `{"type":"progress","step":S,"tokens":T}`: a liveness report with no losses.
    case progress(step: Int64, tokens: Int64)
    /// `{"type":"done"}`: training finished; the last eval before it is the run's result.
    case done
    /// `{"type":"next","step":S}`: an online method asks for the next mixture.
    case next(step: Int64)

    /// The value of the line's `type` field.
    public var typeName: String {
        switch self {
        case .hello: "hello"
        case .eval: "eval"
        case .progress: "progress"
        case .done: "done"
        case .next: "next"
        }
    }

    /// The message as one JSON line without the newline (what a trainer sends).
    public func encoded() -> String {
        switch self {
        case .hello(let version):
            JSONValue.object(["type": .string("hello"), "protocol": .integer(Int64(version))]).rendered()
        case .eval(let eval):
            JSONValue.object([
                "type": .string("eval"), "step": .integer(eval.step), "tokens": .integer(eval.tokens),
                "losses": .object(eval.losses.mapValues { .number($0) }),
            ]).rendered()
        case .progress(let step, let tokens):
            JSONValue.object(["type": .string("progress"), "step": .integer(step), "tokens": .integer(tokens)])
                .rendered()
        case .done:
            JSONValue.object(["type": .string("done")]).rendered()
        case .next(let step):
            JSONValue.object(["type": .string("next"), "step": .integer(step)]).rendered()
        }
    }
}

/// What the worker answers to a trainer's `next`.
public enum TrainerReply: Sendable, Hashable {
    /// `{"type":"mixture","weights":{…},"steps":N}`: train on these weights for the next `steps` steps.
    case mixture(weights: [String: Double], steps: Int64)
    /// `{"type":"stop"}`: no more rounds; the trainer should finish (final eval, then `done`).
    case stop

    /// The reply as one JSON line without the newline.
    public func encoded() -> String {
        switch self {
        case .mixture(let weights, let steps):
            JSONValue.object([
                "type": .string("mixture"), "weights": .object(weights.mapValues { .number($0) }),
                "steps": .integer(steps),
            ]).rendered()
        case .stop:
            JSONValue.object(["type": .string("stop")]).rendered()
        }
    }
}
