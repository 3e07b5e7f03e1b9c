/// One stretch of training the Aioli controller asks the trainer for (design §4.2): train
/// ``steps`` steps on ``mixture``, starting at step ``startStep``.
public struct AioliSegment: Sendable, Codable, Equatable {
    /// What the segment is for.
    public enum Kind: String, Sendable, Codable, Equatable {
        /// The restricted setting's static phase on the given prior proportions.
        case initial
        /// A LearnParams interval on a smoothed one-hot mixture.
        case learn
        /// The rest of a round, on the proportions Aioli chose for it.
        case main
    }

    public let kind: Kind
    /// The Aioli round (0-based); nil for the initial phase.
    public let round: Int?
    /// For a learn segment, its position among the round's `m·k` intervals.
    public let interval: Int?
    /// For a learn segment, the domain whose share is raised.
    public let perturbedDomain: Int?
    /// The sampling proportions, one per domain, summing to 1.
    public let mixture: [Double]
    public let steps: Int
    public let startStep: Int
    /// Whether the controller needs per-domain held-out losses measured right after this
    /// segment (at step `startStep + steps`) in the next call. False only for the last segment.
    public let evaluateAfter: Bool

    public var endStep: Int { startStep + steps }
}

/// The controller's answer to a report: the next segment to train, or the end of the run.
public enum AioliDecision: Sendable, Codable, Equatable {
    case train(AioliSegment)
    /// The step budget is spent: the trainer should take its final evaluation and finish.
    case stop

    public var segment: AioliSegment? {
        if case .train(let segment) = self { return segment }
        return nil
    }
}
