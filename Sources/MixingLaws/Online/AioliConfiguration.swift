public import MixLabCore

/// The hyper-parameters of one Aioli run, checked once when they are made.
///
/// Names follow the paper; the released code's flag is given in each doc comment, and in the
/// `field` of every ``MixLabInputError`` so a user can find it in either vocabulary.
///
/// A run of ``totalSteps`` steps is an optional static initial phase (the restricted setting),
/// then ``rounds`` rounds of ``roundSteps`` steps. Each round spends
/// `domainCount · sweepsPerRound · intervalSteps` steps in LearnParams (short intervals on the
/// perturbed mixtures) and the rest training on the round's proportions.
public struct AioliConfiguration: Sendable, Codable, Equatable {
    /// The static mixture and length of the initial phase of the restricted setting
    /// (`--aioli_prior`, `--prior_steps`).
    public struct InitialPhase: Sendable, Codable, Equatable {
        /// Normalised to sum to 1 (any non-negative weights with a positive sum are accepted).
        public let proportions: [Double]
        public let steps: Int

        public init(proportions: [Double], steps: Int) {
            self.proportions = proportions
            self.steps = steps
        }
    }

    /// In which order a round's LearnParams intervals visit the perturbed mixtures.
    public enum IntervalOrder: Sendable, Codable, Equatable {
        /// `sweepsPerRound` independent permutations of the domains, concatenated, drawn from a
        /// generator seeded by `seed` and the round index — the released code's scheme. The order
        /// is a pure function of the seed and the round, so a restarted controller draws the same.
        case shuffled(seed: UInt64)
        /// One explicit order per round (each a list of domain indices visiting every domain
        /// exactly `sweepsPerRound` times), e.g. to replay a recorded run.
        case fixed([[Int]])
    }

    /// `m`, the number of domains (groups).
    public let domainCount: Int
    /// `S` (`--max_steps`): every optimiser step of the run, LearnParams and initial phase included.
    public let totalSteps: Int
    /// `U` (`--update_steps`): steps per round.
    public let roundSteps: Int
    /// `k` (`--lp_rounds`): sweeps over the `m` perturbed mixtures per round.
    public let sweepsPerRound: Int
    /// `n` (`--lp_steps`): training steps per LearnParams interval.
    public let intervalSteps: Int
    /// `--one_hot_factor`: the perturbed domain's share in its smoothed one-hot mixture.
    public let oneHotFactor: Double
    /// `η` (`--eta`): the exponentiated-gradient step size.
    public let eta: Double
    /// `γ` (`--ema`): the weight of the *previous* smoothed interaction matrix; nil for plain,
    /// cumulative EGD.
    public let emaWeight: Double?
    /// `--aioli_normalize_A`: shift and scale each round's interaction matrix to entries ≥ 0 that
    /// sum to 1 before the update (design §2.5; the released README says "always set").
    public let normalisesInteractions: Bool
    /// The restricted setting's static phase, or nil for an unrestricted run.
    public let initialPhase: InitialPhase?
    public let intervalOrder: IntervalOrder

    /// Checks and stores the hyper-parameters.
    ///
    /// Defaults are the released ArXiv/StackExchange recipe where it generalises: `k = 4`,
    /// `n = 4`, `η = 0.2`, no EMA, normalisation on, and a one-hot factor giving smoothing
    /// `ε = 0.75` (`oneHotFactor = 1 − 0.75·(m − 1)/m`: 0.625 for two domains, 0.5 for three).
    ///
    /// - Throws: ``MixLabInputError`` naming the hyper-parameter and the fix when a value is out
    ///   of range or the step counts do not fit together.
    public init(
        domainCount: Int,
        totalSteps: Int,
        roundSteps: Int,
        sweepsPerRound: Int = 4,
        intervalSteps: Int = 4,
        oneHotFactor: Double? = nil,
        eta: Double = 0.2,
        emaWeight: Double? = nil,
        normalisesInteractions: Bool = true,
        initialPhase: InitialPhase? = nil,
        intervalOrder: IntervalOrder = .shuffled(seed: 0)
    ) throws(MixLabInputError) {
        guard domainCount >= 2 else {
            throw MixLabInputError(field: "domainCount", problem: "is \(domainCount)", fix: "Aioli mixes at least 2 domains")
        }
        let m = domainCount
        guard totalSteps > 0 else {
            throw MixLabInputError(field: "totalSteps (max_steps)", problem: "is \(totalSteps)", fix: "give a positive step budget")
        }
        guard roundSteps > 0 else {
            throw MixLabInputError(field: "roundSteps (update_steps)", problem: "is \(roundSteps)", fix: "give a positive round length")
        }
        guard sweepsPerRound >= 1 else {
            throw MixLabInputError(field: "sweepsPerRound (lp_rounds)", problem: "is \(sweepsPerRound)", fix: "use 1 or more (4 is typical)")
        }
        guard intervalSteps >= 1 else {
            throw MixLabInputError(field: "intervalSteps (lp_steps)", problem: "is \(intervalSteps)", fix: "use 1 or more (4 is typical)")
        }
        // Pitfall P11: LearnParams counts against the round; it must leave main-phase steps.
        let (learnSteps, overflow) = m.multipliedReportingOverflow(by: sweepsPerRound)
        let (learnStepsPerRound, overflow2) = learnSteps.multipliedReportingOverflow(by: intervalSteps)
        guard !overflow, !overflow2, learnStepsPerRound < roundSteps else {
            throw MixLabInputError(
                field: "roundSteps (update_steps)",
                problem: "is \(roundSteps), but LearnParams alone takes domainCount·lp_rounds·lp_steps = \(m)·\(sweepsPerRound)·\(intervalSteps) steps per round",
                fix: "make update_steps larger than that product, or lower lp_rounds or lp_steps")
        }
        var aioliStart = 0
        if let initialPhase {
            guard initialPhase.proportions.count == m else {
                throw MixLabInputError(
                    field: "initialPhase.proportions (aioli_prior)", problem: "has \(initialPhase.proportions.count) entries",
                    fix: "give one weight per domain (\(m))")
            }
            let sum = initialPhase.proportions.reduce(0, +)
            guard initialPhase.proportions.allSatisfy({ $0.isFinite && $0 >= 0 }), sum > 0, sum.isFinite else {
                throw MixLabInputError(
                    field: "initialPhase.proportions (aioli_prior)", problem: "is \(initialPhase.proportions)",
                    fix: "give finite, non-negative weights with a positive sum")
            }
            guard initialPhase.steps >= 0, initialPhase.steps < totalSteps else {
                throw MixLabInputError(
                    field: "initialPhase.steps (prior_steps)", problem: "is \(initialPhase.steps) for a budget of \(totalSteps) steps",
                    fix: "use 0 (no initial phase) up to fewer than max_steps")
            }
            aioliStart = initialPhase.steps
        }
        let aioliSteps = totalSteps - aioliStart
        guard aioliSteps % roundSteps == 0 else {
            let label = aioliStart > 0 ? "max_steps − prior_steps = \(aioliSteps)" : "max_steps = \(totalSteps)"
            throw MixLabInputError(
                field: "roundSteps (update_steps)", problem: "is \(roundSteps), which does not divide \(label)",
                fix: "choose update_steps dividing \(aioliSteps) (e.g. \(Self.suggestedRoundSteps(total: aioliSteps, near: roundSteps, above: learnStepsPerRound))), or adjust the budget")
        }
        // Pitfall P5: the smoothed one-hots are linearly dependent (Q singular) at exactly 1/m.
        let factor = oneHotFactor ?? 1 - 0.75 * Double(m - 1) / Double(m)
        guard factor.isFinite, factor > 1 / Double(m), factor <= 1 else {
            throw MixLabInputError(
                field: "oneHotFactor (one_hot_factor)", problem: "is \(factor); at 1/\(m) the perturbed mixtures are all uniform and A cannot be solved for",
                fix: "use a value in (1/\(m), 1]; below 1 is recommended (e.g. \(1 - 0.75 * Double(m - 1) / Double(m)))")
        }
        guard eta.isFinite, eta > 0 else {
            throw MixLabInputError(field: "eta", problem: "is \(eta)", fix: "use a finite positive step size (0.1–0.5 is typical)")
        }
        if let emaWeight {
            guard emaWeight.isFinite, emaWeight >= 0, emaWeight < 1 else {
                throw MixLabInputError(field: "emaWeight (ema)", problem: "is \(emaWeight)", fix: "use a value in [0, 1), or leave it unset for cumulative updates")
            }
        }
        let rounds = aioliSteps / roundSteps
        if case .fixed(let orders) = intervalOrder {
            guard orders.count == rounds else {
                throw MixLabInputError(
                    field: "intervalOrder", problem: "gives \(orders.count) round orders for \(rounds) rounds", fix: "give exactly one order per round")
            }
            for (round, order) in orders.enumerated() {
                var visits = [Int](repeating: 0, count: m)
                for domain in order where (0..<m).contains(domain) { visits[domain] += 1 }
                guard order.count == m * sweepsPerRound, visits.allSatisfy({ $0 == sweepsPerRound }) else {
                    throw MixLabInputError(
                        field: "intervalOrder[\(round)]", problem: "is \(order)",
                        fix: "list every domain index 0..<\(m) exactly \(sweepsPerRound) times (lp_rounds)")
                }
            }
        }
        self.domainCount = m
        self.totalSteps = totalSteps
        self.roundSteps = roundSteps
        self.sweepsPerRound = sweepsPerRound
        self.intervalSteps = intervalSteps
        self.oneHotFactor = factor
        self.eta = eta
        self.emaWeight = emaWeight
        self.normalisesInteractions = normalisesInteractions
        // Pitfall P3: a zero-length prior phase in the released code never ends; here it means none.
        if let initialPhase, initialPhase.steps > 0 {
            let sum = initialPhase.proportions.reduce(0, +)
            self.initialPhase = InitialPhase(proportions: initialPhase.proportions.map { $0 / sum }, steps: initialPhase.steps)
        } else {
            self.initialPhase = nil
        }
        self.intervalOrder = intervalOrder
    }

    /// Decoding re-runs every check, so a stored configuration that was edited by hand cannot
    /// bypass validation.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            domainCount: c.decode(Int.self, forKey: .domainCount),
            totalSteps: c.decode(Int.self, forKey: .totalSteps),
            roundSteps: c.decode(Int.self, forKey: .roundSteps),
            sweepsPerRound: c.decode(Int.self, forKey: .sweepsPerRound),
            intervalSteps: c.decode(Int.self, forKey: .intervalSteps),
            oneHotFactor: c.decode(Double.self, forKey: .oneHotFactor),
            eta: c.decode(Double.self, forKey: .eta),
            emaWeight: c.decodeIfPresent(Double.self, forKey: .emaWeight),
            normalisesInteractions: c.decode(Bool.self, forKey: .normalisesInteractions),
            initialPhase: c.decodeIfPresent(InitialPhase.self, forKey: .initialPhase),
            intervalOrder: c.decode(IntervalOrder.self, forKey: .intervalOrder))
    }

    /// The paper's smoothing `ε = m(1 − oneHotFactor)/(m − 1)`: perturbed mixture `j` is
    /// `(1 − ε)·e_j + ε·(1/m)·1`.
    public var smoothing: Double { Double(domainCount) * (1 - oneHotFactor) / Double(domainCount - 1) }

    /// The one-hot factor giving smoothing `ε` for `domainCount` domains.
    public static func oneHotFactor(smoothing: Double, domainCount: Int) -> Double {
        1 - smoothing * Double(domainCount - 1) / Double(domainCount)
    }

    /// Steps before the first round (the restricted setting's initial phase; 0 otherwise).
    public var initialSteps: Int { initialPhase?.steps ?? 0 }
    /// `T`, the number of Aioli rounds.
    public var rounds: Int { (totalSteps - initialSteps) / roundSteps }
    /// LearnParams intervals per round, `m·k`.
    public var intervalsPerRound: Int { domainCount * sweepsPerRound }
    /// LearnParams steps per round, `m·k·n`.
    public var learnStepsPerRound: Int { intervalsPerRound * intervalSteps }
    /// Steps trained on the round's proportions, `U − m·k·n`.
    public var mainStepsPerRound: Int { roundSteps - learnStepsPerRound }
    /// `δ`, the fraction of each round spent in LearnParams.
    public var learnFraction: Double { Double(learnStepsPerRound) / Double(roundSteps) }

    /// The order of round `round`'s LearnParams intervals (domain indices, `m·k` of them).
    public func intervalOrder(forRound round: Int) -> [Int] {
        switch intervalOrder {
        case .fixed(let orders):
            return orders[round]
        case .shuffled(let seed):
            var generator = SeededRandom(seed: seed &+ UInt64(round) &* 0x9E37_79B9_7F4A_7C15)
            var order: [Int] = []
            order.reserveCapacity(intervalsPerRound)
            for _ in 0..<sweepsPerRound {
                var block = Array(0..<domainCount)
                // Fisher–Yates with a fixed bounded draw (the high half of a 64×64 product), so
                // the order does not depend on the standard library's `random(in:)` algorithm.
                for i in stride(from: domainCount - 1, to: 0, by: -1) {
                    let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
                    block.swapAt(i, j)
                }
                order += block
            }
            return order
        }
    }

    /// The divisor of `total` nearest to `target` that still leaves main-phase steps (searched
    /// outwards for a bounded distance; `total` itself, Aioli-static, always qualifies).
    private static func suggestedRoundSteps(total: Int, near target: Int, above minimum: Int) -> Int {
        for distance in 0..<100_000 {
            for candidate in [target - distance, target + distance]
            where candidate > minimum && candidate <= total && total % candidate == 0 {
                return candidate
            }
        }
        return total
    }
}
