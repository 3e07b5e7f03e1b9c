import Foundation
import Testing

@testable import MixingLaws

/// A two-domain mixing law `L(r) = b0 + b1 r + b2 r²` in the first domain's share, fitted by
/// ordinary least squares; small enough to cross-validate and bootstrap in tests.
struct QuadraticShareFitter: MixtureLawFitter {
    struct Model: MixtureLossModel {
        let coefficients: [Double]
        var domainCount: Int { 2 }
        func loss(_ shares: [Double]) -> Double {
            coefficients[0] + coefficients[1] * shares[0] + coefficients[2] * shares[0] * shares[0]
        }
        func gradient(_ shares: [Double]) -> [Double]? { [coefficients[1] + 2 * coefficients[2] * shares[0], 0] }
    }

    var name: String { "quadratic" }
    func minimumRuns(domains: Int, targets: Int) -> Int { 3 }

    func fit(_ runs: MixtureRuns) throws -> FittedMixtureLaw {
        let design = Matrix(rowArrays: runs.mixtures.map { [1, $0[0], $0[0] * $0[0]] })
        let (solution, rank) = LinearSolve.leastSquares(design, runs.aggregatedLosses)
        guard rank == 3 else { throw LawFitError("quadratic fit needs 3 distinct mixtures, got rank \(rank)") }
        return FittedMixtureLaw(
            law: name, parameters: zip(["b0", "b1", "b2"], solution).map { (name: $0.0, value: $0.1) },
            model: Model(coefficients: solution), objective: nil)
    }

    /// The minimising shares on the simplex of a fitted quadratic.
    static func solve(_ fit: FittedMixtureLaw) -> [Double] {
        let b = fit.parameters.map(\.value)
        var candidates: [Double] = [0, 1]
        if b[2] > 0 { candidates.append(min(max(-b[1] / (2 * b[2]), 0), 1)) }
        let best = candidates.min { fit.predict([$0, 1 - $0]) < fit.predict([$1, 1 - $1]) }!
        return [best, 1 - best]
    }
}

@Suite struct CrossValidationTests {
    /// Exactly linear data `y = 1 + 2 x1 − 3 x2`, 10 groups of 3 rows.
    static let linearRows: [[Double]] = (0..<30).map { i in
        let first = Double(i % 7) * 0.5
        let second = Double((i * 3) % 11) * 0.2
        return [first, second]
    }
    static let linearLosses: [Double] = linearRows.map { row in 1 + 2 * row[0] - 3 * row[1] }
    static let linearGroups = (0..<30).map { $0 / 3 }

    static func olsFitAndPredict(_ training: [Int], _ heldOut: [Int]) throws -> [Double] {
        let design = Matrix(rowArrays: training.map { [1] + linearRows[$0] })
        let (beta, rank) = LinearSolve.leastSquares(design, training.map { linearLosses[$0] })
        guard rank == 3 else { throw LawFitError("rank \(rank)") }
        return heldOut.map { beta[0] + beta[1] * linearRows[$0][0] + beta[2] * linearRows[$0][1] }
    }

    @Test func exactlyLinearDataHasZeroHeldOutError() throws {
        for scheme in [CrossValidation.Scheme.kFold(5), .leaveOneGroupOut] {
            let report = try CrossValidation(scheme: scheme, seed: 3).evaluate(
                observed: Self.linearLosses, groups: Self.linearGroups, fitAndPredict: Self.olsFitAndPredict)
            #expect(report.pooled.count == 30)
            #expect(report.pooled.mae < 1e-12)
            #expect(abs(report.pooled.r2 - 1) < 1e-12)
            #expect(report.failedFolds == 0)
            #expect(report.folds.count == (scheme == .leaveOneGroupOut ? 10 : 5))
            #expect(report.folds.allSatisfy { ($0.metrics?.mae ?? 1) < 1e-12 })
        }
    }

    @Test func foldsHoldOutWholeGroupsAndDependOnlyOnTheSeed() throws {
        let cv = CrossValidation(scheme: .kFold(4), seed: 11)
        let folds = try cv.folds(groups: Self.linearGroups)
        #expect(folds.flatMap { $0 }.sorted() == Array(0..<30))
        #expect(folds.map(\.count).sorted() == [6, 6, 9, 9], "10 groups of 3 rows into 4 folds")
        for group in 0..<10 {
            let rows = (0..<30).filter { Self.linearGroups[$0] == group }
            #expect(folds.filter { !Set($0).isDisjoint(with: rows) }.count == 1, "group \(group) is split")
        }
        #expect(try cv.folds(groups: Self.linearGroups) == folds)
        #expect(try CrossValidation(scheme: .kFold(4), seed: 12).folds(groups: Self.linearGroups) != folds)
        let stringGroups = Self.linearGroups.map { "run-\($0)" }
        #expect(try cv.folds(groups: stringGroups) == folds)
    }

    /// Mean-only model, leave-one-out: the prediction for y_i is the mean of the others, so
    /// for y = (1, 2, 3, 4, 10) the held-out errors are 3.75, 2.5, 1.25, 0, 7.5 and the MAE is
    /// 3 = n/(n−1) · mean|y − ȳ|.
    @Test func leaveOneOutOfMeanModelMatchesHandComputation() throws {
        let y = [1.0, 2, 3, 4, 10]
        let report = try CrossValidation(scheme: .leaveOneGroupOut).evaluate(observed: y, groups: Array(0..<5)) { training, heldOut in
            let mean = training.map { y[$0] }.reduce(0, +) / Double(training.count)
            return heldOut.map { _ in mean }
        }
        #expect(report.predictions == [4.75, 4.5, 4.25, 4, 2.5])
        #expect(abs(report.pooled.mae - 3) < 1e-12)
        #expect(report.folds.map { $0.metrics!.mae } == [3.75, 2.5, 1.25, 0, 7.5])
    }

    @Test func failedFoldsAreReportedNotHidden() throws {
        let report = try CrossValidation(scheme: .leaveOneGroupOut).evaluate(
            observed: Self.linearLosses, groups: Self.linearGroups
        ) { training, heldOut in
            if heldOut.contains(0) { throw LawFitError("fold with row 0 refuses to fit") }
            return try Self.olsFitAndPredict(training, heldOut)
        }
        #expect(report.failedFolds == 1)
        #expect(report.folds[0].failure == "fold with row 0 refuses to fit")
        #expect(report.pooled.count == 27)
        #expect(report.predictions[0...2].allSatisfy { $0 == nil })
    }

    @Test func invalidSetupsThrow() {
        let cv = CrossValidation(scheme: .kFold(11))
        #expect(throws: LawFitError.self) { try cv.folds(groups: Self.linearGroups) }
        #expect(throws: LawFitError.self) { try CrossValidation(scheme: .kFold(1)).folds(groups: Self.linearGroups) }
        #expect(throws: LawFitError.self) { try CrossValidation(scheme: .leaveOneGroupOut).folds(groups: [1, 1, 1]) }
        #expect(throws: LawFitError.self) {
            try CrossValidation(scheme: .kFold(2)).evaluate(observed: [1, 2, 3], groups: [0, 1]) { _, h in h.map { _ in 0 } }
        }
        #expect(throws: LawFitError.self) {
            try CrossValidation(scheme: .kFold(2)).evaluate(observed: [1, 2, 3, 4], groups: [0, 1, 2, 3]) { _, _ in
                throw LawFitError("never fits")
            }
        }
    }

    /// Noiseless Chinchilla data: the law fitted on the other folds predicts held-out runs.
    @Test func parametricLawThroughLawFitter() throws {
        let law = ChinchillaLaw()
        let truth = law.theta(E: 1.8, A: 400, B: 2000, alpha: 0.34, beta: 0.37)
        var rows: [[Double]] = []
        for n in [1e8, 3e8, 1e9, 3e9] { for d in [2e9, 5e9, 1e10, 2e10, 5e10] { rows.append([n, d]) } }
        let data = LawDataset(featureNames: ["N", "D"], rows: rows, losses: rows.map { law.predictLoss(truth, raw: $0) })
        var fitter = LawFitter()
        fitter.options.polishCount = 16
        let report = try CrossValidation(scheme: .kFold(4), seed: 1).evaluate(law, data: data, groups: Array(0..<20), fitter: fitter)
        #expect(report.failedFolds == 0)
        #expect(report.pooled.count == 20)
        #expect(report.pooled.mae < 1e-4, "held-out MAE \(report.pooled.mae)")
    }

    @Test func mixtureLawFitterGroupsRepeatedMixtures() throws {
        let shares = [0.0, 0.2, 0.2, 0.4, 0.6, 0.6, 0.8, 1.0]
        let runs = MixtureRuns(
            domains: ["a", "b"], mixtures: shares.map { [$0, 1 - $0] }, targetNames: ["val"],
            targetLosses: shares.map { [2 + 1.5 * ($0 - 0.3) * ($0 - 0.3)] })
        let report = try CrossValidation(scheme: .leaveOneGroupOut).evaluate(QuadraticShareFitter(), runs: runs)
        #expect(report.folds.count == 6, "the repeated mixtures 0.2 and 0.6 are one group each")
        #expect(report.folds[1].heldOutRows == [1, 2])
        #expect(report.pooled.mae < 1e-10)
        let fiveRuns = runs.subset([0, 1, 3, 4, 7])
        let halves = try CrossValidation(scheme: .kFold(2)).evaluate(QuadraticShareFitter(), runs: fiveRuns)
        #expect(halves.failedFolds == 1, "the fold that leaves 2 runs for training cannot be fitted")
        #expect(halves.folds.contains { $0.failure?.contains("needs at least 3") == true })
        #expect(halves.pooled.count == 2)
        #expect(throws: LawFitError.self) {
            try CrossValidation(scheme: .kFold(2)).evaluate(QuadraticShareFitter(), runs: runs.subset([0, 1, 3, 4]))
        }
    }
}
