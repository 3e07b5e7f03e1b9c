import Foundation
import MixLabCore
import Testing

@testable import MixingLaws

/// A deterministic stand-in for a trainer whose held-out losses follow the dynamic linear law
/// exactly: every step, `L ← L − A*·p − trend`, where `p` is the step's mixture and `trend` a
/// per-domain drop that does not depend on the mixture. Evaluations may add seeded noise.
struct LinearDynamicsTrainer {
    var losses: [Double]
    let perStepInteractions: [[Double]]
    var trend: [Double]? = nil
    var evaluationNoise = 0.0
    var noise = SeededRandom(seed: 7)

    mutating func train(_ segment: AioliSegment) {
        for _ in 0..<segment.steps {
            for i in losses.indices {
                var drop = 0.0
                for l in segment.mixture.indices { drop += perStepInteractions[i][l] * segment.mixture[l] }
                losses[i] -= drop + (trend?[i] ?? 0)
            }
        }
    }

    mutating func evaluate() -> [Double] {
        losses.map { $0 + evaluationNoise * noise.nextNormal() }
    }
}

/// One decision of a driven run, with the controller's state right after it.
struct DrivenStep: Equatable {
    let decision: AioliDecision
    let state: AioliController.State
}

/// Runs `controller` against `trainer` until `stop`, reporting an evaluation after every
/// segment (also when the controller does not need one).
func drive(_ controller: inout AioliController, _ trainer: inout LinearDynamicsTrainer, limit: Int = 100_000) throws -> [DrivenStep] {
    var steps: [DrivenStep] = []
    var step = controller.state.step
    var decision = try controller.next(step: step, losses: trainer.evaluate())
    steps.append(DrivenStep(decision: decision, state: controller.state))
    while case .train(let segment) = decision, steps.count < limit {
        trainer.train(segment)
        step = segment.endStep
        decision = try controller.next(step: step, losses: trainer.evaluate())
        steps.append(DrivenStep(decision: decision, state: controller.state))
    }
    return steps
}

func maxDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

func maxDifference(_ a: [[Double]], _ b: [[Double]]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).map { maxDifference($0, $1) }.max() ?? 0
}

@Suite struct AioliTestVectorTests {
    static let v1Losses: [[Double]] = [
        [3.19, 3.86], [3.15, 3.85], [3.12, 3.845], [3.115, 3.82], [3.09, 3.815], [3.088, 3.79], [3.085, 3.77], [3.06, 3.768],
    ]
    static let v1Order = [1, 0, 0, 1, 0, 1, 1, 0]
    static let v1Start = [3.20, 3.90]

    /// Design §2.10 V1, through the pure functions.
    @Test func v1SolveNormaliseAndUpdate() {
        var previous = Self.v1Start
        var drops = [[0.0, 0], [0, 0]]
        for (domain, losses) in zip(Self.v1Order, Self.v1Losses) {
            for i in 0..<2 { drops[i][domain] += previous[i] - losses[i] }
            previous = losses
        }
        let meanDrops = drops.map { $0.map { $0 / 4 } }
        #expect(maxDifference(meanDrops, [[0.03, 0.005], [0.0055, 0.0275]]) < 1e-12)
        let interactions = AioliMath.interactionMatrix(meanDrops: meanDrops, oneHotFactor: 0.625)
        #expect(maxDifference(interactions, [[0.0675, -0.0325], [-0.0275, 0.0605]]) < 1e-12)
        let normalised = try! #require(AioliMath.normalised(interactions))
        #expect(maxDifference(normalised, [[0.5050505051, 0], [0.0252525253, 0.4696969697]]) < 1e-9)
        let round1 = AioliMath.exponentiatedGradientStep(from: [0.5, 0.5], gains: AioliMath.columnSums(normalised), eta: 0.2)
        #expect(maxDifference(round1, [0.5030302659, 0.4969697341]) < 1e-9)
        let round2 = AioliMath.exponentiatedGradientStep(from: round1, gains: AioliMath.columnSums(normalised), eta: 0.2)
        #expect(maxDifference(round2, [0.5060603093, 0.4939396907]) < 1e-9)
        let smoothed = AioliMath.exponentialAverage(current: [[0.1, 0.3], [0.2, 0.4]], previous: normalised, previousWeight: 0.1)
        #expect(maxDifference(smoothed, [[0.1405050505, 0.27], [0.1825252525, 0.406969697]]) < 1e-9)
        let emaP = AioliMath.exponentiatedGradientStep(from: [0.5, 0.5], gains: AioliMath.columnSums(smoothed), eta: 0.2)
        #expect(maxDifference(emaP, [0.4823104164, 0.5176895836]) < 1e-9)
    }

    /// V1 through the controller: round 1 from the recorded losses; round 2 either repeats the
    /// same drops (no EMA) or comes from a linear environment whose `Ā` is `[[0.1,0.3],[0.2,0.4]]` (EMA 0.1).
    @Test(arguments: [false, true])
    func v1ThroughTheController(withEMA: Bool) throws {
        let config = try AioliConfiguration(
            domainCount: 2, totalSteps: 20, roundSteps: 10, sweepsPerRound: 4, intervalSteps: 1, oneHotFactor: 0.625, eta: 0.2,
            emaWeight: withEMA ? 0.1 : nil, intervalOrder: .fixed([Self.v1Order, [0, 1, 1, 0, 0, 1, 1, 0]]))
        var controller = AioliController(configuration: config)
        var decision = try controller.next(step: 0, losses: Self.v1Start)
        for losses in Self.v1Losses {
            let segment = try #require(decision.segment)
            #expect(segment.kind == .learn)
            decision = try controller.next(step: segment.endStep, losses: losses)
        }
        let main1 = try #require(decision.segment)
        #expect(main1.kind == .main && main1.steps == 2 && main1.round == 0)
        #expect(maxDifference(main1.mixture, [0.5030302659, 0.4969697341]) < 1e-9)
        #expect(maxDifference(try #require(controller.state.interactions), [[0.0675, -0.0325], [-0.0275, 0.0605]]) < 1e-12)

        let secondRound: AioliSegment
        if withEMA {
            var trainer = LinearDynamicsTrainer(losses: [3.0, 3.7], perStepInteractions: [[0.001, 0.003], [0.002, 0.004]])
            decision = try controller.next(step: main1.endStep, losses: trainer.evaluate())
            while let segment = decision.segment, segment.kind == .learn {
                trainer.train(segment)
                decision = try controller.next(step: segment.endStep, losses: trainer.evaluate())
            }
            secondRound = try #require(decision.segment)
            let smoothed = try #require(controller.state.smoothedInteractions)
            #expect(maxDifference(smoothed, [[0.1405050505, 0.27], [0.1825252525, 0.406969697]]) < 1e-9)
            #expect(maxDifference(secondRound.mixture, [0.4823104164, 0.5176895836]) < 1e-9)
        } else {
            // The same drops from a lower starting point, in another order.
            let shift = 0.5
            var previous = Self.v1Start.map { $0 - shift }
            decision = try controller.next(step: main1.endStep, losses: previous)
            var drops = [[[Double]]](repeating: [], count: 2)
            for (domain, (before, after)) in zip(Self.v1Order, zip([Self.v1Start] + Self.v1Losses, Self.v1Losses)) {
                drops[domain].append(zip(before, after).map { $0 - $1 })
            }
            while let segment = decision.segment, segment.kind == .learn {
                let drop = drops[segment.perturbedDomain!].removeFirst()
                previous = zip(previous, drop).map { $0 - $1 }
                decision = try controller.next(step: segment.endStep, losses: previous)
            }
            secondRound = try #require(decision.segment)
            #expect(maxDifference(secondRound.mixture, [0.5060603093, 0.4939396907]) < 1e-9)
        }
        #expect(secondRound.kind == .main && secondRound.round == 1 && secondRound.endStep == 20 && !secondRound.evaluateAfter)
        #expect(try controller.next(step: 20, losses: nil) == .stop)
    }

    /// Design §2.10 V2 (m = 3, one-hot factor 0.5), through the pure functions and the controller.
    @Test func v2ThreeDomains() throws {
        let meanDrops = [[0.030, 0.010, 0.015], [0.004, 0.025, 0.006], [0.012, 0.008, 0.028]]
        let expectedA = [[0.065, -0.015, 0.005], [-0.019, 0.065, -0.011], [0, -0.016, 0.064]]
        let expectedColumnSums = [0.3333333333, 0.2944983819, 0.3721682848]
        let expectedP = [0.3333316576, 0.3320396761, 0.3346286663]
        let interactions = AioliMath.interactionMatrix(meanDrops: meanDrops, oneHotFactor: 0.5)
        #expect(maxDifference(interactions, expectedA) < 1e-12)
        let normalised = try #require(AioliMath.normalised(interactions))
        #expect(maxDifference(AioliMath.columnSums(normalised), expectedColumnSums) < 1e-9)
        let p = AioliMath.exponentiatedGradientStep(from: [1.0 / 3, 1.0 / 3, 1.0 / 3], gains: AioliMath.columnSums(normalised), eta: 0.1)
        #expect(maxDifference(p, expectedP) < 1e-9)

        let config = try AioliConfiguration(
            domainCount: 3, totalSteps: 10, roundSteps: 10, sweepsPerRound: 1, intervalSteps: 2, oneHotFactor: 0.5, eta: 0.1,
            intervalOrder: .fixed([[2, 0, 1]]))
        var controller = AioliController(configuration: config)
        var losses = [4.0, 5.0, 4.5]
        var decision = try controller.next(step: 0, losses: losses)
        while let segment = decision.segment, segment.kind == .learn {
            let j = segment.perturbedDomain!
            losses = (0..<3).map { losses[$0] - meanDrops[$0][j] }
            decision = try controller.next(step: segment.endStep, losses: losses)
        }
        let main = try #require(decision.segment)
        #expect(main.steps == 4)
        #expect(maxDifference(try #require(controller.state.interactions), expectedA) < 1e-9)
        #expect(maxDifference(main.mixture, expectedP) < 1e-9)
    }

    static let v3Interactions = [[3e-4, 1e-4, 0], [0.5e-4, 2e-4, 0], [1e-4, 0, 4e-4]]

    static func v3Configuration(ema: Double?, initialPhase: AioliConfiguration.InitialPhase? = nil) throws -> AioliConfiguration {
        try AioliConfiguration(
            domainCount: 3, totalSteps: 150 + (initialPhase?.steps ?? 0), roundSteps: 50, sweepsPerRound: 2, intervalSteps: 3,
            oneHotFactor: 0.5, eta: 0.5, emaWeight: ema, initialPhase: initialPhase,
            intervalOrder: .fixed([[0, 1, 2, 2, 0, 1], [1, 2, 0, 0, 2, 1], [2, 1, 0, 1, 0, 2]]))
    }

    /// Design §2.10 V3: end to end against a noise-free linear environment.
    @Test(arguments: [
        (ema: nil as Double?, proportions: [
            [0.343010901514, 0.321354488128, 0.335634610358],
            [0.352712896365, 0.309580953047, 0.337706150588],
            [0.362428885424, 0.298024620733, 0.339546493843],
        ], final: [3.979669062042, 4.987861611311, 4.474648954552]),
        (ema: 0.5, proportions: [[Double]](repeating: [0.343010901514, 0.321354488128, 0.335634610358], count: 3),
         final: [3.97983628295, 4.987683541501, 4.474818726308]),
    ])
    func v3EndToEnd(_ vector: (ema: Double?, proportions: [[Double]], final: [Double])) throws {
        var controller = AioliController(configuration: try Self.v3Configuration(ema: vector.ema))
        var trainer = LinearDynamicsTrainer(losses: [4.0, 5.0, 4.5], perStepInteractions: Self.v3Interactions)
        let run = try drive(&controller, &trainer)
        let mains = run.filter { $0.decision.segment?.kind == .main }
        #expect(mains.count == 3)
        let threeTimesTrue = Self.v3Interactions.map { $0.map { 3 * $0 } }
        for (round, step) in mains.enumerated() {
            #expect(maxDifference(try #require(step.state.interactions), threeTimesTrue) < 1e-12)
            let normalised = try #require(step.state.normalisedInteractions)
            #expect(maxDifference(AioliMath.columnSums(normalised), [27.0 / 69, 18.0 / 69, 24.0 / 69]) < 1e-9)
            #expect(maxDifference(step.decision.segment!.mixture, vector.proportions[round]) < 1e-9)
        }
        #expect(run.last?.decision == .stop)
        #expect(maxDifference(trainer.losses, vector.final) < 1e-9)
    }
}

@Suite struct AioliControllerTests {
    static func segments(_ run: [DrivenStep]) -> [AioliSegment] { run.compactMap(\.decision.segment) }

    /// §2.9: proportions move toward the domain whose upweighting lowers the summed loss most
    /// (largest column sum of the true matrix), away from the one that helps least; the learned
    /// `A` matches `n·A*` despite a mixture-independent trend and evaluation noise.
    @Test(arguments: [nil as Double?, 0.3])
    func proportionsFollowTheTrueInteractions(ema: Double?) throws {
        // Column sums 2.5e-4, 6.5e-4, 3e-4, 4e-4: domain 1 helps most, domain 0 least.
        let truth = [[1e-4, 2e-4, 0, 1e-4], [0.5e-4, 3e-4, 0, 0], [0, 1e-4, 2.5e-4, 0.5e-4], [1e-4, 0.5e-4, 0.5e-4, 2.5e-4]]
        let config = try AioliConfiguration(
            domainCount: 4, totalSteps: 2000, roundSteps: 200, sweepsPerRound: 3, intervalSteps: 8, eta: 0.5, emaWeight: ema,
            intervalOrder: .shuffled(seed: 42))
        var controller = AioliController(configuration: config)
        var trainer = LinearDynamicsTrainer(
            losses: [4.0, 3.5, 5.0, 4.2], perStepInteractions: truth, trend: [2e-4, 1e-4, 3e-4, 1.5e-4], evaluationNoise: 2e-6)
        let run = try drive(&controller, &trainer)
        let mains = run.filter { $0.decision.segment?.kind == .main }
        #expect(mains.count == 10)
        let scaledTruth = truth.map { $0.map { 8 * $0 } }
        for step in mains {
            // The trend adds the same d_i to every entry of row i, which the EGD update ignores.
            let learned = try #require(step.state.interactions)
            for i in 0..<4 {
                let rowOffset = learned[i][0] - scaledTruth[i][0]
                let deviations = (0..<4).map { learned[i][$0] - scaledTruth[i][$0] - rowOffset }
                #expect(deviations.allSatisfy { abs($0) < 0.05 * 8 * 3e-4 }, "row \(i): \(deviations)")
            }
        }
        let proportions = mains.map { $0.decision.segment!.mixture }
        #expect(proportions.allSatisfy { $0[1] == $0.max()! && $0[0] == $0.min()! })
        if ema == nil {
            // Cumulative multiplicative weights: the best domain gains every round.
            for (before, after) in zip(proportions, proportions.dropFirst()) {
                #expect(after[1] > before[1] && after[0] < before[0])
            }
        } else {
            // Non-cumulative: at most a factor e^η between any two shares (column sums of E add to 1).
            for p in proportions { #expect(p.max()! / p.min()! <= exp(0.5) + 1e-12) }
        }
    }

    /// §2.9: with normalisation and EMA, two domains, η = 0.2, no share exceeds e^0.2/(1 + e^0.2).
    @Test func emaBoundsTheLargestShare() throws {
        let config = try AioliConfiguration(domainCount: 2, totalSteps: 1000, roundSteps: 100, eta: 0.2, emaWeight: 0.1, intervalOrder: .shuffled(seed: 3))
        var controller = AioliController(configuration: config)
        var trainer = LinearDynamicsTrainer(losses: [3, 3], perStepInteractions: [[5e-4, 0], [0, 1e-5]])
        let shares = Self.segments(try drive(&controller, &trainer)).filter { $0.kind == .main }.map { $0.mixture[0] }
        #expect(shares.count == 10)
        #expect(shares.allSatisfy { $0 > 0.5 && $0 <= exp(0.2) / (1 + exp(0.2)) + 1e-12 })
    }

    @Test(arguments: [
        (m: 2, total: 5000, round: 250, k: 4, n: 4, initial: 0),
        (m: 3, total: 5250, round: 250, k: 4, n: 6, initial: 250),
        (m: 7, total: 4000, round: 200, k: 2, n: 10, initial: 0),
        (m: 3, total: 1000, round: 1000, k: 1, n: 5, initial: 0),
    ])
    func stepAccountingSumsToTheBudget(_ c: (m: Int, total: Int, round: Int, k: Int, n: Int, initial: Int)) throws {
        let config = try AioliConfiguration(
            domainCount: c.m, totalSteps: c.total, roundSteps: c.round, sweepsPerRound: c.k, intervalSteps: c.n,
            initialPhase: c.initial > 0 ? .init(proportions: [Double](repeating: 1, count: c.m), steps: c.initial) : nil,
            intervalOrder: .shuffled(seed: 11))
        var controller = AioliController(configuration: config)
        var interactions = [[Double]](repeating: [Double](repeating: 0, count: c.m), count: c.m)
        for i in 0..<c.m {
            for j in 0..<c.m { interactions[i][j] = i == j ? 1e-4 : 2e-5 * Double((i + j) % 3) }
        }
        let startLosses: [Double] = (0..<c.m).map { 3 + Double($0) / 10 }
        var trainer = LinearDynamicsTrainer(losses: startLosses, perStepInteractions: interactions)
        let run: [DrivenStep] = try drive(&controller, &trainer)
        let segments: [AioliSegment] = Self.segments(run)
        let stops = run.filter { $0.decision == AioliDecision.stop }.count
        #expect(stops == 1 && run.last?.decision == AioliDecision.stop)
        let stepSum = segments.map(\.steps).reduce(0, +)
        #expect(stepSum == c.total)
        var expectedStart = 0
        for segment in segments {
            #expect(segment.startStep == expectedStart)
            #expect(abs(segment.mixture.reduce(0, +) - 1) < 1e-12 && segment.mixture.allSatisfy { $0 > 0 })
            expectedStart = segment.endStep
        }
        let rounds = (c.total - c.initial) / c.round
        let learnCount = segments.filter { (s: AioliSegment) in s.kind == .learn }.count
        #expect(learnCount == rounds * c.m * c.k)
        let mainSteps: [Int] = segments.filter { (s: AioliSegment) in s.kind == .main }.map(\.steps)
        #expect(mainSteps == [Int](repeating: c.round - c.m * c.k * c.n, count: rounds))
        let initialSteps: [Int] = segments.filter { (s: AioliSegment) in s.kind == .initial }.map(\.steps)
        let expectedInitial: [Int] = c.initial > 0 ? [c.initial] : []
        #expect(initialSteps == expectedInitial)
        let allButLastEvaluate = segments.dropLast().allSatisfy(\.evaluateAfter)
        #expect(allButLastEvaluate && segments.last?.evaluateAfter == false)
        for round in 0..<rounds {
            let visits: [Int] = segments.filter { (s: AioliSegment) in s.kind == .learn && s.round == round }.map { $0.perturbedDomain! }
            for block in stride(from: 0, to: visits.count, by: c.m) {
                #expect(visits[block..<(block + c.m)].sorted() == Array(0..<c.m), "round \(round): \(visits)")
            }
        }
        // After the end the controller keeps answering stop.
        #expect(try controller.next(step: c.total, losses: nil) == .stop)
    }

    /// §2.8: the restricted run trains on the prior first, then starts Aioli from uniform; in a
    /// linear environment the level of the losses does not matter, so its rounds choose the same
    /// proportions as the unrestricted run.
    @Test func restrictedRunStartsWithThePriorThenUniform() throws {
        let initial = AioliConfiguration.InitialPhase(proportions: [6, 3, 1], steps: 40)
        var restricted = AioliController(configuration: try AioliTestVectorTests.v3Configuration(ema: nil, initialPhase: initial))
        #expect(!restricted.lossesRequired)
        #expect(restricted.state.proportions == [Double](repeating: 1.0 / 3, count: 3))
        var trainer = LinearDynamicsTrainer(losses: [4.0, 5.0, 4.5], perStepInteractions: AioliTestVectorTests.v3Interactions)
        let first = try #require(try restricted.next(step: 0, losses: nil).segment)
        #expect(first.kind == .initial && first.round == nil && first.steps == 40 && first.evaluateAfter)
        #expect(maxDifference(first.mixture, [0.6, 0.3, 0.1]) < 1e-15)
        trainer.train(first)
        #expect(restricted.lossesRequired)
        #expect(throws: MixLabInputError.self) { try restricted.next(step: 40, losses: nil) }
        let restrictedRun = try drive(&restricted, &trainer)

        var unrestricted = AioliController(configuration: try AioliTestVectorTests.v3Configuration(ema: nil))
        var fresh = LinearDynamicsTrainer(losses: [4.0, 5.0, 4.5], perStepInteractions: AioliTestVectorTests.v3Interactions)
        let unrestrictedRun = try drive(&unrestricted, &fresh)

        let restrictedMains = Self.segments(restrictedRun).filter { $0.kind == .main }
        let unrestrictedMains = Self.segments(unrestrictedRun).filter { $0.kind == .main }
        #expect(restrictedMains.count == 3)
        for (a, b) in zip(restrictedMains, unrestrictedMains) {
            #expect(maxDifference(a.mixture, b.mixture) < 1e-12)
            #expect(a.startStep == b.startStep + 40)
        }
        #expect(Self.segments(restrictedRun).last?.endStep == 190)
    }

    /// Pitfall P3: a zero-length prior phase means no initial phase, not an endless one.
    @Test func zeroPriorStepsMeansNoInitialPhase() throws {
        let config = try AioliConfiguration(
            domainCount: 2, totalSteps: 100, roundSteps: 50, initialPhase: .init(proportions: [1, 1], steps: 0))
        #expect(config.initialPhase == nil)
        var controller = AioliController(configuration: config)
        #expect(controller.lossesRequired)
        #expect(try controller.next(step: 0, losses: [3, 3]).segment?.kind == .learn)
    }

    /// The coordinator stores the controller after every decision; a controller decoded at any
    /// point continues exactly the trajectory of an uninterrupted one.
    @Test(arguments: [nil as Double?, 0.2])
    func resumesIdenticallyAfterEncodingAtEveryDecision(ema: Double?) throws {
        let config = try AioliConfiguration(
            domainCount: 3, totalSteps: 560, roundSteps: 120, sweepsPerRound: 2, intervalSteps: 5, eta: 0.3, emaWeight: ema,
            initialPhase: .init(proportions: [0.2, 0.5, 0.3], steps: 80), intervalOrder: .shuffled(seed: 2026))
        let environment = LinearDynamicsTrainer(
            losses: [3.1, 4.2, 3.7], perStepInteractions: [[2e-4, 1e-4, 0], [0, 3e-4, 1e-4], [1e-4, 0, 1e-4]],
            trend: [1e-4, 0, 2e-4], evaluationNoise: 1e-5)

        var uninterrupted = AioliController(configuration: config)
        var trainer = environment
        let reference = try drive(&uninterrupted, &trainer)
        #expect(reference.count == 1 + 4 * (6 + 1) + 1)

        for cut in 0..<reference.count {
            var controller = AioliController(configuration: config)
            var trainer = environment
            var decisions: [AioliDecision] = []
            var decision = try controller.next(step: 0, losses: trainer.evaluate())
            decisions.append(decision)
            while case .train(let segment) = decision {
                if decisions.count == cut + 1 {
                    let stored = try JSONEncoder().encode(controller)
                    let restored = try JSONDecoder().decode(AioliController.self, from: stored)
                    #expect(restored == controller)
                    controller = restored
                }
                trainer.train(segment)
                decision = try controller.next(step: segment.endStep, losses: trainer.evaluate())
                decisions.append(decision)
            }
            #expect(decisions == reference.map(\.decision), "diverged after restoring at decision \(cut)")
            #expect(controller == uninterrupted)
        }
    }

    /// Pitfall P6: when no loss moves differently under any mixture, `A` is all zero and cannot
    /// be normalised; the round keeps its proportions instead of producing NaN.
    @Test(arguments: [nil as Double?, 0.5])
    func equalLossesLeaveTheProportionsUnchanged(ema: Double?) throws {
        let config = try AioliConfiguration(domainCount: 3, totalSteps: 300, roundSteps: 100, emaWeight: ema)
        var controller = AioliController(configuration: config)
        var decision = try controller.next(step: 0, losses: [2.5, 2.5, 2.5])
        while case .train(let segment) = decision {
            decision = try controller.next(step: segment.endStep, losses: [2.5, 2.5, 2.5])
        }
        #expect(controller.state.skippedUpdates.map(\.round) == [0, 1, 2])
        #expect(controller.state.skippedUpdates.allSatisfy { $0.reason == .interactionsNotNormalisable })
        #expect(controller.state.proportions == [Double](repeating: 1.0 / 3, count: 3))
        #expect(controller.state.interactions == [[0, 0, 0], [0, 0, 0], [0, 0, 0]])
        #expect(controller.state.normalisedInteractions == nil)
    }

    /// A mixture-independent trend alone gives equal column sums: the proportions stay uniform.
    @Test func commonTrendAloneDoesNotMoveTheProportions() throws {
        let config = try AioliConfiguration(domainCount: 3, totalSteps: 300, roundSteps: 100, eta: 1)
        var controller = AioliController(configuration: config)
        var trainer = LinearDynamicsTrainer(losses: [3, 4, 5], perStepInteractions: [[Double]](repeating: [0, 0, 0], count: 3), trend: [1e-3, 2e-4, 5e-4])
        for segment in Self.segments(try drive(&controller, &trainer)) where segment.kind == .main {
            #expect(maxDifference(segment.mixture, [1.0 / 3, 1.0 / 3, 1.0 / 3]) < 1e-12)
        }
    }

    /// Without normalisation the raw `A` drives the update, so the step scales with the drops.
    @Test func unnormalisedUpdateUsesRawColumnSums() throws {
        let config = try AioliConfiguration(
            domainCount: 2, totalSteps: 20, roundSteps: 20, sweepsPerRound: 1, intervalSteps: 1, oneHotFactor: 1, eta: 10,
            normalisesInteractions: false, intervalOrder: .fixed([[0, 1]]))
        var controller = AioliController(configuration: config)
        _ = try controller.next(step: 0, losses: [3, 3])
        _ = try controller.next(step: 1, losses: [2.9, 2.95])  // domain 0 trained: gains 0.1 + 0.05
        let main = try #require(try controller.next(step: 2, losses: [2.88, 2.90]).segment)  // domain 1 trained: 0.02 + 0.05
        #expect(controller.state.interactions.map { maxDifference($0, [[0.1, 0.02], [0.05, 0.05]]) }! < 1e-12)
        let expectedShare = 1 / (1 + exp(10 * ((0.02 + 0.05) - (0.1 + 0.05))))
        #expect(abs(main.mixture[0] - expectedShare) < 1e-12)
    }

    /// Design §2.6 / pitfall P4: a trainer that can only realise integer batch compositions
    /// (here the released code's allocation: `max(1, ⌊q·8⌋)` per domain, the rest to the last)
    /// reports what it trained on, and the solve recovers `A` exactly; ignoring the realised
    /// compositions gives a wrong `A`.
    @Test func realisedMixturesAreUsedInTheSolve() throws {
        let truth = [[3e-4, 1e-4, 0], [0.5e-4, 2e-4, 0], [1e-4, 0, 4e-4]]
        func realise(_ q: [Double]) -> [Double] {
            var counts = q.dropLast().map { max(1, ($0 * 8).rounded(.down)) }
            counts.append(8 - counts.reduce(0, +))
            return counts.map { $0 / 8 }
        }
        func run(reporting: Bool) throws -> AioliController {
            let config = try AioliConfiguration(domainCount: 3, totalSteps: 100, roundSteps: 100, sweepsPerRound: 2, intervalSteps: 3, oneHotFactor: 0.7)
            var controller = AioliController(configuration: config)
            var trainer = LinearDynamicsTrainer(losses: [4, 5, 4.5], perStepInteractions: truth)
            var decision = try controller.next(step: 0, losses: trainer.evaluate())
            while let segment = decision.segment, segment.kind == .learn {
                let realised = realise(segment.mixture)
                #expect(realised != segment.mixture)
                trainer.train(AioliSegment(
                    kind: .learn, round: 0, interval: segment.interval, perturbedDomain: segment.perturbedDomain, mixture: realised,
                    steps: segment.steps, startStep: segment.startStep, evaluateAfter: true))
                // Counts rather than shares: the controller normalises them.
                decision = try controller.next(
                    step: segment.endStep, losses: trainer.evaluate(), realisedMixture: reporting ? realised.map { $0 * 8 } : nil)
            }
            return controller
        }
        let threeTimesTrue = truth.map { $0.map { 3 * $0 } }
        let reported = try #require(try run(reporting: true).state.interactions)
        #expect(maxDifference(reported, threeTimesTrue) < 1e-12)
        let ignored = try #require(try run(reporting: false).state.interactions)
        #expect(maxDifference(ignored, threeTimesTrue) > 1e-5)
    }

    /// Realised compositions that are all the same leave `A` undetermined: the round is skipped.
    @Test func singularRealisedMixturesSkipTheUpdate() throws {
        let config = try AioliConfiguration(domainCount: 2, totalSteps: 20, roundSteps: 10, sweepsPerRound: 1, intervalSteps: 1)
        var controller = AioliController(configuration: config)
        var losses = [3.0, 3.0]
        var decision = try controller.next(step: 0, losses: losses)
        while let segment = decision.segment, segment.kind == .learn {
            losses = losses.map { $0 - 0.01 * Double(segment.perturbedDomain! + 1) }
            decision = try controller.next(step: segment.endStep, losses: losses, realisedMixture: [1, 1])
        }
        #expect(controller.state.skippedUpdates == [.init(round: 0, reason: .singularMixtures)])
        #expect(controller.state.interactions == nil)
        #expect(decision.segment?.mixture == [0.5, 0.5])
    }

    @Test func badReportsAreRefusedWithoutChangingTheController() throws {
        let config = try AioliConfiguration(domainCount: 3, totalSteps: 200, roundSteps: 100)
        var controller = AioliController(configuration: config)
        let first = try controller.next(step: 0, losses: [3, 3, 3])
        let before = controller
        let cases: [(step: Int, losses: [Double]?, field: String)] = [
            (4, [3, .nan, 3], "losses[1]"),
            (4, [3, 3, .infinity], "losses[2]"),
            (4, [3, 3], "losses"),
            (4, nil, "losses"),
            (8, [3, 3, 3], "step"),
            (3, [3, 3, 3], "step"),
        ]
        for bad in cases {
            #expect {
                _ = try controller.next(step: bad.step, losses: bad.losses)
            } throws: { error in
                (error as? MixLabInputError)?.field == bad.field
            }
            #expect(controller == before)
        }
        for bad in [[1.0, 2], [1, .nan, 1], [-1, 1, 1], [0, 0, 0]] {
            #expect {
                _ = try controller.next(step: 4, losses: [2.9, 2.9, 2.9], realisedMixture: bad)
            } throws: { error in
                (error as? MixLabInputError)?.field == "realisedMixture"
            }
            #expect(controller == before)
        }
        // A repeated request for the segment already handed out gets the same answer.
        #expect(try controller.next(step: 0, losses: [9, 9, 9]) == first)
        #expect(controller == before)
        #expect(try controller.next(step: 4, losses: [2.9, 2.95, 2.97]).segment?.startStep == 4)
    }

    @Test(arguments: [
        (m: 1, total: 100, round: 50, k: 1, n: 1, ohf: nil as Double?, eta: 0.2, ema: nil as Double?, field: "domainCount"),
        (m: 2, total: 100, round: 50, k: 1, n: 1, ohf: 0.5, eta: 0.2, ema: nil, field: "oneHotFactor (one_hot_factor)"),
        (m: 4, total: 100, round: 50, k: 1, n: 1, ohf: 0.2, eta: 0.2, ema: nil, field: "oneHotFactor (one_hot_factor)"),
        (m: 2, total: 100, round: 50, k: 1, n: 1, ohf: 1.1, eta: 0.2, ema: nil, field: "oneHotFactor (one_hot_factor)"),
        (m: 2, total: 100, round: 50, k: 5, n: 5, ohf: nil, eta: 0.2, ema: nil, field: "roundSteps (update_steps)"),
        (m: 2, total: 100, round: 30, k: 1, n: 1, ohf: nil, eta: 0.2, ema: nil, field: "roundSteps (update_steps)"),
        (m: 2, total: 0, round: 50, k: 1, n: 1, ohf: nil, eta: 0.2, ema: nil, field: "totalSteps (max_steps)"),
        (m: 2, total: 100, round: 50, k: 0, n: 1, ohf: nil, eta: 0.2, ema: nil, field: "sweepsPerRound (lp_rounds)"),
        (m: 2, total: 100, round: 50, k: 1, n: 0, ohf: nil, eta: 0.2, ema: nil, field: "intervalSteps (lp_steps)"),
        (m: 2, total: 100, round: 50, k: 1, n: 1, ohf: nil, eta: 0, ema: nil, field: "eta"),
        (m: 2, total: 100, round: 50, k: 1, n: 1, ohf: nil, eta: .nan, ema: nil, field: "eta"),
        (m: 2, total: 100, round: 50, k: 1, n: 1, ohf: nil, eta: 0.2, ema: 1, field: "emaWeight (ema)"),
    ])
    func invalidHyperParametersAreNamed(_ c: (m: Int, total: Int, round: Int, k: Int, n: Int, ohf: Double?, eta: Double, ema: Double?, field: String)) {
        #expect {
            _ = try AioliConfiguration(
                domainCount: c.m, totalSteps: c.total, roundSteps: c.round, sweepsPerRound: c.k, intervalSteps: c.n,
                oneHotFactor: c.ohf, eta: c.eta, emaWeight: c.ema)
        } throws: { error in
            guard let error = error as? MixLabInputError else { return false }
            return error.field == c.field && !error.fix.isEmpty
        }
    }

    @Test func invalidRestrictedSettingsAndOrdersAreNamed() {
        func field(_ make: () throws -> AioliConfiguration) -> String? {
            do { _ = try make(); return nil } catch let error as MixLabInputError { return error.field } catch { return "other" }
        }
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, initialPhase: .init(proportions: [1], steps: 10)) }
            == "initialPhase.proportions (aioli_prior)")
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, initialPhase: .init(proportions: [0, 0], steps: 50)) }
            == "initialPhase.proportions (aioli_prior)")
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, initialPhase: .init(proportions: [1, 1], steps: 100)) }
            == "initialPhase.steps (prior_steps)")
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, initialPhase: .init(proportions: [1, 1], steps: 30)) }
            == "roundSteps (update_steps)")
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, sweepsPerRound: 1, intervalOrder: .fixed([[0, 1]])) }
            == "intervalOrder")
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, sweepsPerRound: 1, intervalOrder: .fixed([[0, 1], [1, 1]])) }
            == "intervalOrder[1]")
        #expect(field { try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50, sweepsPerRound: 1, intervalOrder: .fixed([[0, 1], [0, 2]])) }
            == "intervalOrder[1]")
    }

    /// A stored configuration edited into an invalid one is refused when decoded (here the
    /// singular one-hot factor 1/m, pitfall P5).
    @Test func decodingRevalidatesTheConfiguration() throws {
        let config = try AioliConfiguration(domainCount: 2, totalSteps: 100, roundSteps: 50)
        #expect(config.oneHotFactor == 0.625 && config.smoothing == 0.75)
        let json = try #require(String(data: JSONEncoder().encode(config), encoding: .utf8))
        #expect(try JSONDecoder().decode(AioliConfiguration.self, from: Data(json.utf8)) == config)
        let tampered = json.replacingOccurrences(of: "\"oneHotFactor\":0.625", with: "\"oneHotFactor\":0.5")
        #expect(tampered != json)
        #expect(throws: MixLabInputError.self) { try JSONDecoder().decode(AioliConfiguration.self, from: Data(tampered.utf8)) }
    }

    @Test func shuffledOrdersArePermutationBlocksFixedBySeedAndRound() throws {
        let config = try AioliConfiguration(domainCount: 5, totalSteps: 1000, roundSteps: 100, sweepsPerRound: 3, intervalSteps: 1, intervalOrder: .shuffled(seed: 9))
        let other = try AioliConfiguration(domainCount: 5, totalSteps: 1000, roundSteps: 100, sweepsPerRound: 3, intervalSteps: 1, intervalOrder: .shuffled(seed: 10))
        let orders = (0..<config.rounds).map { config.intervalOrder(forRound: $0) }
        for order in orders {
            #expect(order.count == 15)
            for block in stride(from: 0, to: 15, by: 5) { #expect(order[block..<(block + 5)].sorted() == [0, 1, 2, 3, 4]) }
        }
        #expect(orders == (0..<config.rounds).map { config.intervalOrder(forRound: $0) })
        #expect(Set(orders).count > 1)
        #expect(orders != (0..<other.rounds).map { other.intervalOrder(forRound: $0) })
    }

    @Test func normalisationGuardsAndSmoothingConversions() {
        #expect(AioliMath.normalised([[0, 0], [0, 0]]) == nil)
        #expect(AioliMath.normalised([[-0.2, -0.2], [-0.2, -0.2]]) == nil)
        #expect(AioliMath.normalised([[0.2, 0.2], [0.2, 0.2]]) == [[0.25, 0.25], [0.25, 0.25]])
        let shifted = AioliMath.normalised([[-1, 1], [0, 2]])!
        let expectedShifted: [[Double]] = [[0, 2.0 / 6], [1.0 / 6, 3.0 / 6]]
        #expect(shifted == expectedShifted)
        #expect(AioliConfiguration.oneHotFactor(smoothing: 0.75, domainCount: 3) == 0.5)
        #expect(abs(AioliConfiguration.oneHotFactor(smoothing: 0.2916666666666667, domainCount: 7) - 0.75) < 1e-12)
        #expect(AioliMath.perturbedMixture(domain: 1, domainCount: 3, oneHotFactor: 0.5) == [0.25, 0.5, 0.25])
        #expect(AioliMath.interactionMatrix(meanDrops: [[0.1, 0.2], [0.3, 0.4]], oneHotFactor: 1) == [[0.1, 0.2], [0.3, 0.4]])
    }
}
