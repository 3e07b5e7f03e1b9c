public import MixLabCore

/// The Aioli online mixing controller (Chen et al., 2024; design `aioli.md` §2, §4.2) as a pure,
/// deterministic state machine: it is told the per-domain held-out losses at segment boundaries
/// and answers with the next training segment.
///
/// Every round it hands out `m·k` short LearnParams segments on smoothed one-hot mixtures, one
/// per domain per sweep, each followed by an evaluation; from the loss drops it solves for the
/// interaction matrix `A` (how much training on each domain lowers each domain's loss),
/// normalises it, takes one exponentiated-gradient step on the proportions, and hands out the
/// round's main segment on those proportions. The step budget is spent exactly: the segments'
/// lengths add up to `totalSteps`.
///
/// The controller is a value: `Codable` and `Equatable`, with no clock, I/O or hidden random
/// state (interval orders come from the configuration's seed and the round index). A
/// coordinator stores it after every decision; a decoded copy continues the same trajectory.
///
/// ```swift
/// var controller = try AioliController(configuration: config)
/// var decision = try controller.next(step: 0, losses: initialLosses)
/// while case .train(let segment) = decision {
///     let losses = train(segment)   // then evaluate on the fixed held-out set
///     decision = try controller.next(step: segment.endStep, losses: losses)
/// }
/// ```
public struct AioliController: Sendable, Codable, Equatable {
    /// Everything the controller has learned and where it is in the run.
    public struct State: Sendable, Codable, Equatable {
        /// What the last handed-out segment was, which decides what the next report means.
        public enum Phase: String, Sendable, Codable, Equatable {
            case notStarted, initial, learning, main, finished
        }

        public internal(set) var phase: Phase = .notStarted
        /// Steps handed out so far: the step at which the next report is expected.
        public internal(set) var step = 0
        /// The current round (0-based).
        public internal(set) var round = 0
        /// The current proportions `p`, always normalised (pitfall P8); uniform before round 0's
        /// update, in the restricted setting too (the prior is not carried over, §2.8).
        public internal(set) var proportions: [Double]
        /// The current round's LearnParams order (domain indices), fixed before its first interval.
        public internal(set) var intervalOrder: [Int] = []
        /// The index in ``intervalOrder`` of the learn segment handed out last.
        public internal(set) var interval = 0
        /// `drops[i][j]`: this round's summed drop of domain `i`'s loss over intervals on `q_j`.
        public internal(set) var drops: [[Double]]
        /// `realisedMixtureSums[j]`: this round's summed compositions of the intervals meant for
        /// `q_j` (the intended `q_j` unless the trainer reported what it realised).
        public internal(set) var realisedMixtureSums: [[Double]]
        /// Whether any interval of this round reported a realised composition, so the solve must
        /// use them instead of the closed form.
        public internal(set) var realisedMixturesReported = false
        /// The losses reported at the start of the current learn interval.
        public internal(set) var previousLosses: [Double]?
        /// The last round's interaction matrix `A`, before normalisation; nil when the realised
        /// mixtures were singular.
        public internal(set) var interactions: [[Double]]?
        /// The last round's `Ā` (equal to `A` when normalisation is off); nil when it was skipped.
        public internal(set) var normalisedInteractions: [[Double]]?
        /// The EMA-smoothed matrix `E` (only with ``AioliConfiguration/emaWeight``).
        public internal(set) var smoothedInteractions: [[Double]]?
        /// Rounds whose update was skipped; their proportions (and `E`) carry over unchanged.
        public internal(set) var skippedUpdates: [SkippedUpdate] = []
        /// The decision handed out last, returned again if the same request is repeated.
        public internal(set) var lastDecision: AioliDecision?
    }

    /// A round in which the controller could not estimate `A` and kept the old proportions.
    public struct SkippedUpdate: Sendable, Codable, Equatable {
        public enum Reason: String, Sendable, Codable, Equatable {
            /// `A` could not be normalised: all zero, or all entries equal and negative, e.g.
            /// when no loss moved differently under any mixture (pitfall P6).
            case interactionsNotNormalisable
            /// The realised perturbed mixtures were linearly dependent, so `A` has no unique
            /// solution (the singular solve of pitfall P5, reached through §2.6).
            case singularMixtures
        }

        public let round: Int
        public let reason: Reason
    }

    public let configuration: AioliConfiguration
    public private(set) var state: State

    public init(configuration: AioliConfiguration) {
        let m = configuration.domainCount
        self.configuration = configuration
        self.state = State(
            proportions: [Double](repeating: 1 / Double(m), count: m),
            drops: Self.zeros(m), realisedMixtureSums: Self.zeros(m))
    }

    /// Whether the next call must carry losses (false before a restricted run's initial phase,
    /// and once the last segment has been handed out).
    public var lossesRequired: Bool {
        switch state.phase {
        case .notStarted: configuration.initialPhase == nil
        case .initial, .learning: true
        case .main: state.step < configuration.totalSteps
        case .finished: false
        }
    }

    /// Takes the report at a segment boundary and returns the next segment, or `stop`.
    ///
    /// - Parameters:
    ///   - step: the trainer's step count; must equal ``State/step`` (the end of the last
    ///     segment), which catches a lost or duplicated report before it corrupts `A`
    ///     (design §4.2, requirement 1). Repeating the request for the segment handed out last
    ///     (its `startStep`) returns that decision again and changes nothing, so a lost reply
    ///     can simply be re-asked.
    ///   - losses: per-domain held-out losses measured at `step` on the fixed evaluation set,
    ///     in domain order. Needed whenever ``lossesRequired`` is true; otherwise ignored.
    ///   - realisedMixture: after a learn segment, the composition the trainer actually trained
    ///     on (per-domain example counts or shares, normalised here) when it could not realise
    ///     the requested mixture exactly (design §2.6, §4.2 requirement 5; pitfall P4). The solve
    ///     then uses the realised compositions; nil means "as requested". Ignored after other segments.
    /// - Throws: ``MixLabInputError`` for a step mismatch, missing losses, a wrong count, a
    ///   non-finite loss or an invalid realised mixture; the controller is then unchanged, so
    ///   the call can be retried.
    public mutating func next(step: Int, losses: [Double]?, realisedMixture: [Double]? = nil) throws(MixLabInputError) -> AioliDecision {
        if let repeated = state.lastDecision, let last = repeated.segment, step == last.startStep, state.step != step {
            return repeated
        }
        guard step == state.step else {
            throw MixLabInputError(
                field: "step", problem: "is \(step), but the controller handed out segments up to step \(state.step)",
                fix: "report losses measured at the end of the last segment (a lost or duplicated report?)")
        }
        var updated = self
        let decision = try updated.advance(losses: losses, realisedMixture: realisedMixture)
        updated.state.lastDecision = decision
        self = updated
        return decision
    }

    private mutating func advance(losses: [Double]?, realisedMixture: [Double]?) throws(MixLabInputError) -> AioliDecision {
        let config = configuration
        switch state.phase {
        case .notStarted:
            if let initial = config.initialPhase {
                state.phase = .initial
                return hand(AioliSegment(
                    kind: .initial, round: nil, interval: nil, perturbedDomain: nil, mixture: initial.proportions,
                    steps: initial.steps, startStep: state.step, evaluateAfter: true))
            }
            return beginRound(0, startLosses: try checked(losses))
        case .initial:
            return beginRound(0, startLosses: try checked(losses))
        case .learning:
            let current = try checked(losses)
            let domain = state.intervalOrder[state.interval]
            guard let previous = state.previousLosses else {
                throw MixLabInputError(
                    field: "state.previousLosses", problem: "is missing in a learning phase", fix: "restore the controller from an intact stored state")
            }
            let composition: [Double]
            if let realisedMixture {
                composition = try checkedComposition(realisedMixture)
                state.realisedMixturesReported = true
            } else {
                composition = AioliMath.perturbedMixture(domain: domain, domainCount: config.domainCount, oneHotFactor: config.oneHotFactor)
            }
            for i in 0..<config.domainCount {
                state.drops[i][domain] += previous[i] - current[i]
                state.realisedMixtureSums[domain][i] += composition[i]
            }
            state.previousLosses = current
            state.interval += 1
            if state.interval < config.intervalsPerRound { return handLearnSegment() }
            updateProportions()
            state.phase = .main
            let steps = config.mainStepsPerRound
            return hand(AioliSegment(
                kind: .main, round: state.round, interval: nil, perturbedDomain: nil, mixture: state.proportions,
                steps: steps, startStep: state.step, evaluateAfter: state.step + steps < config.totalSteps))
        case .main:
            if state.step >= config.totalSteps {
                state.phase = .finished
                return .stop
            }
            return beginRound(state.round + 1, startLosses: try checked(losses))
        case .finished:
            return .stop
        }
    }

    private mutating func beginRound(_ round: Int, startLosses: [Double]) -> AioliDecision {
        let m = configuration.domainCount
        state.round = round
        state.intervalOrder = configuration.intervalOrder(forRound: round)
        state.interval = 0
        state.drops = Self.zeros(m)
        state.realisedMixtureSums = Self.zeros(m)
        state.realisedMixturesReported = false
        state.previousLosses = startLosses
        return handLearnSegment()
    }

    private mutating func handLearnSegment() -> AioliDecision {
        let domain = state.intervalOrder[state.interval]
        state.phase = .learning
        return hand(AioliSegment(
            kind: .learn, round: state.round, interval: state.interval, perturbedDomain: domain,
            mixture: AioliMath.perturbedMixture(
                domain: domain, domainCount: configuration.domainCount, oneHotFactor: configuration.oneHotFactor),
            steps: configuration.intervalSteps, startStep: state.step, evaluateAfter: true))
    }

    private mutating func hand(_ segment: AioliSegment) -> AioliDecision {
        state.step += segment.steps
        return .train(segment)
    }

    /// LearnParams' solve and the outer loop's update (§2.3–§2.5).
    private mutating func updateProportions() {
        let config = configuration
        let sweeps = Double(config.sweepsPerRound)
        let meanDrops = state.drops.map { row in row.map { $0 / sweeps } }
        let solved: [[Double]]?
        if state.realisedMixturesReported {
            let meanMixtures = state.realisedMixtureSums.map { row in row.map { $0 / sweeps } }
            solved = AioliMath.interactionMatrix(meanDrops: meanDrops, mixtures: meanMixtures)
        } else {
            solved = AioliMath.interactionMatrix(meanDrops: meanDrops, oneHotFactor: config.oneHotFactor)
        }
        state.interactions = solved
        guard let interactions = solved else {
            state.normalisedInteractions = nil
            state.skippedUpdates.append(SkippedUpdate(round: state.round, reason: .singularMixtures))
            return
        }
        let usable = config.normalisesInteractions ? AioliMath.normalised(interactions) : interactions
        state.normalisedInteractions = usable
        guard let usable else {
            state.skippedUpdates.append(SkippedUpdate(round: state.round, reason: .interactionsNotNormalisable))
            return
        }
        if let gamma = config.emaWeight {
            // Pitfall P9: with EMA the proportions come from the smoothed current estimate alone,
            // starting again from uniform; they do not accumulate past updates.
            let smoothed = state.smoothedInteractions.map {
                AioliMath.exponentialAverage(current: usable, previous: $0, previousWeight: gamma)
            } ?? usable
            state.smoothedInteractions = smoothed
            let uniform = [Double](repeating: 1 / Double(config.domainCount), count: config.domainCount)
            state.proportions = AioliMath.exponentiatedGradientStep(
                from: uniform, gains: AioliMath.columnSums(smoothed), eta: config.eta)
        } else {
            state.proportions = AioliMath.exponentiatedGradientStep(
                from: state.proportions, gains: AioliMath.columnSums(usable), eta: config.eta)
        }
    }

    private func checked(_ losses: [Double]?) throws(MixLabInputError) -> [Double] {
        let m = configuration.domainCount
        guard let losses else {
            throw MixLabInputError(
                field: "losses", problem: "are missing at step \(state.step)",
                fix: "evaluate every domain on the held-out set at the end of each segment and report the \(m) losses")
        }
        guard losses.count == m else {
            throw MixLabInputError(field: "losses", problem: "has \(losses.count) values", fix: "report one loss per domain (\(m)), in domain order")
        }
        if let bad = losses.firstIndex(where: { !$0.isFinite }) {
            throw MixLabInputError(
                field: "losses[\(bad)]", problem: "is \(losses[bad]) at step \(state.step)",
                fix: "report finite held-out losses (a NaN usually means the run diverged or the domain's evaluation set is empty)")
        }
        return losses
    }

    private func checkedComposition(_ mixture: [Double]) throws(MixLabInputError) -> [Double] {
        let m = configuration.domainCount
        let sum = mixture.reduce(0, +)
        guard mixture.count == m, mixture.allSatisfy({ $0.isFinite && $0 >= 0 }), sum > 0, sum.isFinite else {
            throw MixLabInputError(
                field: "realisedMixture", problem: "is \(mixture)",
                fix: "report \(m) finite, non-negative per-domain example counts or shares with a positive sum, or nil if the mixture was realised as requested")
        }
        return mixture.map { $0 / sum }
    }

    private static func zeros(_ m: Int) -> [[Double]] {
        [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
    }
}
