import Foundation
import Testing
@testable import MixingLaws

@Suite struct TwoDomainExponentialLawTests {
    /// laws.md A2 and A3: 2Mix, 70M; `r` is the share of the validation domain itself.
    @Test(arguments: [
        (validation: "Github", step: 10000, c: 1.3235, kappa: -2.4385, b: -0.5977, maxError: 0.0071),
        (validation: "Pile-CC", step: 30000, c: 3.4182, kappa: -2.5191, b: -0.6257, maxError: 0.0030),
    ])
    func correlationScanMatchesNotebook(_ expected: (validation: String, step: Int, c: Double, kappa: Double, b: Double, maxError: Double)) throws {
        let points = try MixtureLawFixtures.twoMix(model: "70M", step: expected.step, validation: expected.validation)
        #expect(points.count == 5)
        let shares = points.map { expected.validation == "Github" ? $0.github : $0.pileCC }
        let losses = points.map(\.loss)
        let fitter = TwoDomainExponentialFitter()
        let scan = try fitter.fitByCorrelationScan(shares: shares, losses: losses)
        let maxError = zip(shares, losses).map { abs(scan.loss(atShare: $0) - $1) }.max()!
        print("A2/A3 \(expected.validation) scan: c \(scan.c) κ \(scan.kappa) b \(scan.b) max err \(maxError) objective \(scan.objective)")
        #expect(abs(scan.c - expected.c) < 2e-3)
        #expect(abs(scan.kappa - expected.kappa) < 2e-3)
        #expect(abs(scan.b - expected.b) < 2e-3)
        #expect(abs(maxError - expected.maxError) < 5e-4)

        let joint = try fitter.fitJointly(shares: shares, losses: losses)
        let jointError = zip(shares, losses).map { abs(joint.loss(atShare: $0) - $1) }.max()!
        print("A2/A3 \(expected.validation) joint: c \(joint.c) κ \(joint.kappa) b \(joint.b) max err \(jointError) objective \(joint.objective)")
        #expect(joint.objective <= scan.objective)
        #expect(joint.c >= 0 && joint.c < losses.min()!)
    }

    /// laws.md A4: continual pre-training of Pythia-70M on Pile/Python; the Pile share at which
    /// the Pile loss after 10k steps returns to the starting checkpoint's loss.
    @Test func criticalProportionMatchesNotebook() throws {
        let data = try MixtureLawFixtures.continualTraining(step: 10000)
        let fitting = data.runs.filter { [0.125, 0.25, 0.375, 0.5].contains($0.pileShare) }
        #expect(fitting.count == 4)
        let fitter = TwoDomainExponentialFitter()
        let scan = try fitter.fitByCorrelationScan(shares: fitting.map(\.pileShare), losses: fitting.map(\.loss))
        let critical = try scan.criticalProportion(baseline: data.base)
        print("A4 scan: c \(scan.c) κ \(scan.kappa) b \(scan.b) L0 \(data.base) r* \(critical)")
        #expect(abs(data.base - 2.87337) < 1e-4)
        #expect(abs(critical - 0.2862) <= 0.001)
        let joint = try fitter.fitJointly(shares: fitting.map(\.pileShare), losses: fitting.map(\.loss))
        print("A4 joint: c \(joint.c) κ \(joint.kappa) b \(joint.b) r* \((try? joint.criticalProportion(baseline: data.base)) ?? .nan)")
        if let validation = data.runs.first(where: { $0.pileShare == 0.28515625 }) {
            print("A4 validation run r = 0.28515625: loss \(validation.loss), predicted \(scan.loss(atShare: 0.28515625))")
        }
    }

    @Test func criticalProportionBelowFloorThrows() {
        let fit = TwoDomainExponentialFit(c: 2.9, kappa: -3, b: -1.5)
        #expect(throws: LawFitError.self) { try fit.criticalProportion(baseline: 2.85) }
        #expect(throws: LawFitError.self) { try fit.criticalProportion(baseline: 2.9) }
        #expect((try? fit.criticalProportion(baseline: 2.9 + Foundation.exp(-3 * 0.4 - 1.5))).map { abs($0 - 0.4) < 1e-12 } == true)
    }
}
