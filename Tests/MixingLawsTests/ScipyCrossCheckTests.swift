import Foundation
import Testing
@testable import MixingLaws

/// A reference fit written by `scripts/reference-fits.py` (numpy + scipy L-BFGS-B with analytic
/// gradients): the data, the law's θ order and scipy's optimum, so a law's fit can be checked
/// against an independent optimiser in one line.
struct ScipyFixture: Decodable {
    /// What scipy found, from how many starts, and how long it took.
    struct Reference: Decodable {
        let theta: [Double]
        /// Σ Huber(residual), unscaled, on the fixture's residual scale.
        let objective: Double
        let starts: Int
        let startSet: String
        let seconds: Double
        let scipyVersion: String
        /// The exact starts scipy polished, best first (D-CPT: the variable-projection winners).
        let startList: [[Double]]?
        /// The 30 random `t` vectors of a 5Mix group's start grid.
        let tVectors: [[Double]]?
        /// RegMix OLS: Spearman of numpy's predictions on the 256 held-out 1M mixtures.
        let spearmanTest1M: Double?
    }

    /// Box bounds on θ; `nil` entries are unbounded.
    struct Bounds: Decodable {
        let lower: [Double?]
        let upper: [Double?]
    }

    let problem: String
    let law: String
    let thetaNames: [String]
    let featureNames: [String]
    /// Raw feature rows: `[N, D]`, `[N, D, r]` or mixture shares.
    let features: [[Double]]
    let losses: [Double]
    /// `"log"` (residuals on ln L) or `"loss"`.
    let residualScale: String
    let huberDelta: Double?
    let bounds: Bounds?
    /// scipy's fitted losses (loss scale), one per row.
    let predictions: [Double]
    /// Held-out rows and scipy's predictions for them (RegMix OLS only).
    let testFeatures: [[Double]]?
    let testLosses: [Double]?
    let testPredictions: [Double]?
    let scipy: Reference

    static func load(_ name: String) throws -> ScipyFixture {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ScipyFixture.self, from: Data(contentsOf: Fixtures.url("\(name).json")))
    }

    var dataset: LawDataset { LawDataset(featureNames: featureNames, rows: features, losses: losses) }

    /// The notebook start grid scipy used for a 5Mix group law, θ = (lc, lk, t_1..t_5):
    /// lc ∈ linspace(−2, 1.5, 10) × lk ∈ linspace(−10, 1, 20) × the fixture's `t` vectors, in that
    /// loop order (6,000 starts).
    var mixingLawStarts: [[Double]] {
        let tVectors = scipy.tVectors ?? []
        var starts: [[Double]] = []
        for i in 0..<10 {
            for j in 0..<20 {
                for t in tVectors {
                    starts.append([-2 + 3.5 * Double(i) / 9, -10 + 11 * Double(j) / 19] + t)
                }
            }
        }
        return starts
    }

    /// Σ Huber(residual) of the fixture's own predictions, on its residual scale.
    var objectiveOfStoredPredictions: Double? {
        guard let huberDelta else { return nil }
        let huber = HuberLoss(delta: huberDelta)
        return zip(predictions, losses).reduce(0.0) { sum, pair in
            let residual = residualScale == "log" ? Foundation.log(pair.0) - Foundation.log(pair.1) : pair.0 - pair.1
            return sum + huber.value(residual)
        }
    }

    /// The largest relative difference between two per-row loss predictions.
    static func largestRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) / max(abs($1), 1e-12) }.max() ?? 0
    }

    /// Checks a law against this fixture: the law reproduces scipy's predictions at scipy's θ
    /// (same formula, same θ order), our fit is at least as good as scipy's, and both fits predict
    /// the same losses within `predictionTolerance` (relative).
    func expectAgreement<Law: ParametricLaw>(
        _ law: Law, fitter: LawFitter = LawFitter(), starts: [[Double]]? = nil, predictionTolerance: Double = 1e-4,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        #expect(law.parameterCount == thetaNames.count, "θ has \(thetaNames.count) entries in \(problem)", sourceLocation: sourceLocation)
        #expect(law.residualScale == (residualScale == "log" ? .logLoss : .loss), sourceLocation: sourceLocation)
        let atScipyTheta = features.map { law.predictLoss(scipy.theta, raw: $0) }
        let formulaGap = Self.largestRelativeDifference(atScipyTheta, predictions)
        #expect(formulaGap < 1e-10, "\(problem): our law at scipy's θ differs by \(formulaGap) (relative)", sourceLocation: sourceLocation)

        var options = fitter.options
        options.huberDelta = huberDelta
        if let starts { options.polishCount = starts.count }
        let fit = try LawFitter(options: options).fit(law, to: dataset, starts: starts)
        #expect(
            fit.objective <= scipy.objective * (1 + 1e-6),
            "\(problem): our objective \(fit.objective) vs scipy \(scipy.objective)", sourceLocation: sourceLocation)
        let predictionGap = Self.largestRelativeDifference(fit.predict(dataset), predictions)
        #expect(
            predictionGap < predictionTolerance, "\(problem): predictions differ by \(predictionGap) (relative)",
            sourceLocation: sourceLocation)
    }
}

@Suite struct ScipyCrossCheckTests {
    @Test func chinchillaFixtureIsTheEpochReplicationData() throws {
        let fixture = try ScipyFixture.load("chinchilla")
        let data = try ChinchillaLawTests.replicationData()
        #expect(fixture.dataset.count == 240)
        #expect(fixture.scipy.starts == 4500)
        // Same rows in the same order, up to the last bit of the CSV → JSON round trip.
        #expect(ScipyFixture.largestRelativeDifference(fixture.dataset.features, data.features) < 1e-15)
        #expect(fixture.dataset.losses == data.losses)
        // laws.md A1 (Epoch AI's published objective).
        #expect(abs(fixture.scipy.objective - 0.0010183) < 1e-7)
    }

    /// Every committed fixture decodes, has one prediction per row, and its stored objective is the
    /// Huber sum of its stored predictions (a corrupt or hand-edited fixture fails here).
    @Test(arguments: [
        "chinchilla", "dcpt_synthetic", "dml_2mix", "dml_5mix_academic", "dml_5mix_prose", "dml_5mix_dialogue",
        "dml_5mix_symbolic", "dml_5mix_internet", "linear_regmix",
    ])
    func fixtureIsSelfConsistent(name: String) throws {
        let fixture = try ScipyFixture.load(name)
        #expect(fixture.problem == name)
        #expect(fixture.predictions.count == fixture.losses.count)
        #expect(fixture.features.allSatisfy { $0.count == fixture.featureNames.count })
        #expect(fixture.scipy.theta.count == fixture.thetaNames.count)
        if let objective = fixture.objectiveOfStoredPredictions {
            #expect(abs(objective - fixture.scipy.objective) <= 1e-9 * fixture.scipy.objective, "\(name): \(objective)")
        }
        if name.hasPrefix("dml_5mix") {
            #expect(fixture.mixingLawStarts.count == fixture.scipy.starts)
        }
        if name == "dcpt_synthetic" {
            #expect(fixture.scipy.startList?.count == fixture.scipy.starts)
        }
    }

    @Test func chinchillaMatchesScipy() throws {
        try ScipyFixture.load("chinchilla").expectAgreement(ChinchillaLaw(), predictionTolerance: 1e-6)
    }

    @Test func dcptMatchesScipyFromItsOwnStarts() throws {
        try ScipyFixture.load("dcpt_synthetic").expectAgreement(DCPTLaw())
    }

    @Test func dcptMatchesScipyFromScipysStarts() throws {
        let fixture = try ScipyFixture.load("dcpt_synthetic")
        let scipyStarts = try #require(fixture.scipy.startList)
        try fixture.expectAgreement(DCPTLaw(), starts: scipyStarts)
    }

    @Test(arguments: ["academic", "prose", "dialogue", "symbolic", "internet"])
    func dataMixingLawMatchesScipy(group: String) throws {
        let fixture = try ScipyFixture.load("dml_5mix_\(group)")
        try fixture.expectAgreement(ExponentialTargetLaw(targetName: group, domains: fixture.featureNames), predictionTolerance: 1e-3)
    }

    /// The notebook's full 6,000-start grid per group, every start polished, as scipy did.
    @Test(arguments: ["academic", "prose", "dialogue", "symbolic", "internet"])
    func dataMixingLawMatchesScipyFromTheNotebookGrid(group: String) throws {
        let fixture = try ScipyFixture.load("dml_5mix_\(group)")
        try fixture.expectAgreement(
            ExponentialTargetLaw(targetName: group, domains: fixture.featureNames), starts: fixture.mixingLawStarts,
            predictionTolerance: 1e-3)
    }

    /// The joint `(c, κ, b)` fit (`c ∈ [0, min y)`) as `TwoDomainExponentialFitter` runs it.
    @Test func twoDomainJointFitMatchesScipy() throws {
        let fixture = try ScipyFixture.load("dml_2mix")
        let fit = try TwoDomainExponentialFitter(huberDelta: try #require(fixture.huberDelta))
            .fitJointly(shares: fixture.features.map { $0[0] }, losses: fixture.losses)
        #expect(fit.objective <= fixture.scipy.objective * (1 + 1e-6), "ours \(fit.objective) vs scipy \(fixture.scipy.objective)")
        let predictions = fixture.features.map { fit.loss(atShare: $0[0]) }
        let gap = ScipyFixture.largestRelativeDifference(predictions, fixture.predictions)
        #expect(gap < 1e-3, "predictions differ by \(gap) (relative)")
    }

    @Test func twoDomainLawMatchesScipy() throws {
        let fixture = try ScipyFixture.load("dml_2mix")
        let upper = try #require(fixture.bounds?.upper[0])
        try fixture.expectAgreement(TwoDomainExponentialLaw(cRange: 0...upper), predictionTolerance: 1e-3)
    }

    /// RegMix's OLS baseline on the raw (unrenormalised) weights: our pivoted QR against numpy's lstsq.
    @Test func ordinaryLeastSquaresMatchesNumpy() throws {
        let fixture = try ScipyFixture.load("linear_regmix")
        let design = Matrix(rowArrays: fixture.features.map { [1] + $0 })
        let (coefficients, rank) = LinearSolve.leastSquares(design, fixture.losses)
        #expect(rank == design.columns)
        let predictions = design.times(coefficients)
        #expect(ScipyFixture.largestRelativeDifference(predictions, fixture.predictions) < 1e-9)
    }

    /// `LinearLawFitter` renormalises each row to sum 1 while numpy fitted the raw 3-decimal
    /// weights (row sums 0.996–1.003), so the two fits differ by that rounding: held-out
    /// predictions within 0.5 % and the same held-out Spearman to within 0.002.
    @Test func linearLawFitterAgreesWithNumpyOnHeldOutMixtures() throws {
        let fixture = try ScipyFixture.load("linear_regmix")
        let runs = MixtureRuns(
            domains: fixture.featureNames, mixtures: fixture.features, targetNames: ["pile_cc"], targetLosses: fixture.losses.map { [$0] })
        let fit = try LinearLawFitter().fit(runs)
        let testMixtures = try #require(fixture.testFeatures).map { row in row.map { $0 / row.reduce(0, +) } }
        let predictions = testMixtures.map(fit.predict)
        let gap = ScipyFixture.largestRelativeDifference(predictions, try #require(fixture.testPredictions))
        #expect(gap < 5e-3, "held-out predictions differ by \(gap) (relative)")
        let spearman = Correlation.spearman(predictions, try #require(fixture.testLosses))
        let numpySpearman = try #require(fixture.scipy.spearmanTest1M)
        #expect(abs(spearman - numpySpearman) < 2e-3, "Spearman \(spearman) vs numpy \(numpySpearman)")
        #expect(abs(numpySpearman - 0.902) < 1e-3)
    }
}
