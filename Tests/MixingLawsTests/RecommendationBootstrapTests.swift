import Foundation
import Testing

@testable import MixingLaws

@Suite struct RecommendationBootstrapTests {
    /// Runs at r = 0, 1/24, …, 1 with loss `2 + 1.5 (r − 0.3)²` plus Gaussian noise; the true
    /// optimum is (0.3, 0.7) with loss 2.
    static func runs(noise: Double, seed: UInt64) -> MixtureRuns {
        var rng = SeededRandom(seed: seed)
        let shares = (0...24).map { Double($0) / 24 }
        return MixtureRuns(
            domains: ["a", "b"], mixtures: shares.map { [$0, 1 - $0] }, targetNames: ["val"],
            targetLosses: shares.map { [2 + 1.5 * ($0 - 0.3) * ($0 - 0.3) + noise * rng.nextNormal()] })
    }

    static func refitAndSolve(_ runs: MixtureRuns) -> @Sendable ([Int]) throws -> RecommendationBootstrap.Estimate {
        { rows in
            let fit = try QuadraticShareFitter().fit(runs.subset(rows))
            let shares = QuadraticShareFitter.solve(fit)
            return .init(shares: shares, predictedLoss: fit.predict(shares))
        }
    }

    @Test func intervalsContainTheTruthAndAreDeterministic() throws {
        let data = Self.runs(noise: 0.005, seed: 1)
        let bootstrap = RecommendationBootstrap(resamples: 400, confidence: 0.95, seed: 5)
        let interval = try bootstrap.run(groups: Array(0..<25), refitAndSolve: Self.refitAndSolve(data))
        #expect(interval.failedResamples == 0)
        #expect(interval.shares[0].contains(0.3), "\(interval.shares[0])")
        #expect(interval.shares[1].contains(0.7), "\(interval.shares[1])")
        #expect(interval.predictedLoss.contains(2.0), "\(interval.predictedLoss)")
        #expect(interval.shares[0].upper - interval.shares[0].lower < 0.05)
        #expect(try bootstrap.run(groups: Array(0..<25), refitAndSolve: Self.refitAndSolve(data)) == interval)
        var serial = bootstrap
        serial.parallel = false
        #expect(try serial.run(groups: Array(0..<25), refitAndSolve: Self.refitAndSolve(data)) == interval)
        var other = bootstrap
        other.seed = 6
        #expect(try other.run(groups: Array(0..<25), refitAndSolve: Self.refitAndSolve(data)) != interval)
    }

    /// Over 40 independent noisy data sets, the 90% percentile interval of the optimal share
    /// should cover the truth about 90% of the time.
    @Test func percentileIntervalsHaveNominalCoverage() throws {
        var covered = 0
        for replicate in 0..<40 {
            let data = Self.runs(noise: 0.02, seed: 100 + UInt64(replicate))
            let bootstrap = RecommendationBootstrap(resamples: 200, confidence: 0.9, seed: UInt64(replicate))
            let interval = try bootstrap.run(groups: Array(0..<25), refitAndSolve: Self.refitAndSolve(data))
            if interval.shares[0].contains(0.3) { covered += 1 }
        }
        #expect(covered >= 30 && covered <= 40, "covered \(covered) of 40")
    }

    @Test func resamplesDrawWholeGroups() {
        let groups = ["x", "x", "y", "z", "z", "z"]
        let samples = RecommendationBootstrap(resamples: 50, seed: 3).resampledRows(groups: groups)
        #expect(samples.count == 50)
        let blocks: [[Int]] = [[0, 1], [2], [3, 4, 5]]
        for rows in samples {
            var rest = rows[...]
            var drawn = 0
            while let first = rest.first {
                let block = blocks.first { $0[0] == first }!
                #expect(Array(rest.prefix(block.count)) == block)
                rest = rest.dropFirst(block.count)
                drawn += 1
            }
            #expect(drawn == 3, "one draw per group")
        }
        #expect(Set(samples).count > 5)
    }

    @Test func failedResamplesAreCounted() throws {
        let data = Self.runs(noise: 0.005, seed: 2).subset([0, 6, 12, 18, 24])
        let bootstrap = RecommendationBootstrap(resamples: 300, seed: 8)
        let expectedFailures = bootstrap.resampledRows(groups: Array(0..<5)).filter { Set($0).count < 3 }.count
        #expect(expectedFailures > 0)
        let interval = try bootstrap.run(groups: Array(0..<5), refitAndSolve: Self.refitAndSolve(data))
        #expect(interval.failedResamples == expectedFailures)
        #expect(interval.resamples == 300)
        #expect(
            Set(interval.failureMessages) == [
                "quadratic fit needs 3 distinct mixtures, got rank 1", "quadratic fit needs 3 distinct mixtures, got rank 2",
            ])
    }

    @Test func mixtureLawFitterConvenience() throws {
        let data = Self.runs(noise: 0.005, seed: 1)
        let bootstrap = RecommendationBootstrap(resamples: 400, confidence: 0.95, seed: 5)
        let viaFitter = try bootstrap.run(QuadraticShareFitter(), runs: data, solve: QuadraticShareFitter.solve)
        let viaClosure = try bootstrap.run(groups: Array(0..<25), refitAndSolve: Self.refitAndSolve(data))
        #expect(viaFitter == viaClosure)
    }

    @Test func parametricLawConvenience() throws {
        let law = ChinchillaLaw()
        let truth = law.theta(E: 1.8, A: 400, B: 2000, alpha: 0.34, beta: 0.37)
        var rows: [[Double]] = []
        for n in [1e8, 3e8, 1e9, 3e9] { for d in [2e9, 5e9, 1e10, 2e10, 5e10] { rows.append([n, d]) } }
        var rng = SeededRandom(seed: 4)
        let data = LawDataset(
            featureNames: ["N", "D"], rows: rows,
            losses: rows.map { law.predictLoss(truth, raw: $0) * Foundation.exp(0.002 * rng.nextNormal()) })
        var fitter = LawFitter()
        fitter.options.polishCount = 8
        let interval = try RecommendationBootstrap(resamples: 40, seed: 1).run(
            law, data: data, groups: Array(0..<20), fitter: fitter
        ) { fit in
            .init(shares: [fit.parameter("alpha")!], predictedLoss: fit.predict([1e10, 2e11]))
        }
        #expect(interval.failedResamples == 0)
        #expect(interval.shares[0].lower < 0.34 && interval.shares[0].upper > 0.34, "\(interval.shares[0])")
        let truthLoss = law.predictLoss(truth, raw: [1e10, 2e11])
        #expect(interval.predictedLoss.lower < truthLoss && truthLoss < interval.predictedLoss.upper, "\(interval.predictedLoss) vs \(truthLoss)")
    }

    @Test func invalidSettingsAndTotalFailureThrow() {
        #expect(throws: LawFitError.self) {
            try RecommendationBootstrap(resamples: 1).run(groups: [0, 1]) { _ in .init(shares: [1], predictedLoss: 0) }
        }
        #expect(throws: LawFitError.self) {
            try RecommendationBootstrap(confidence: 1).run(groups: [0, 1]) { _ in .init(shares: [1], predictedLoss: 0) }
        }
        #expect(throws: LawFitError.self) { try RecommendationBootstrap().run(groups: [0, 0]) { _ in .init(shares: [1], predictedLoss: 0) } }
        #expect(throws: LawFitError.self) { try RecommendationBootstrap().run(groups: [0, 1]) { _ in throw LawFitError("no") } }
    }

    @Test func quantilesInterpolateLikeNumpy() {
        // numpy.percentile([1, 2, 3, 4, 10], [2.5, 50, 97.5]) = [1.1, 3.0, 9.4]
        let interval = PercentileInterval(of: [10, 3, 1, 4, 2], confidence: 0.95)
        #expect(abs(interval.lower - 1.1) < 1e-12 && interval.median == 3 && abs(interval.upper - 9.4) < 1e-12)
    }
}
