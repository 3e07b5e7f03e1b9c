import Foundation
import Testing
@testable import MixingLaws

@Suite struct CrossDomainDCPTLawTests {
    /// Five training domains sharing one L3 law, each shifted by `F·K^−μ`; a sixth domain is
    /// predicted from its `(k1, k2)` alone.
    @Test func recoversSharedLawAndPredictsAnUnseenDomain() throws {
        var shared = DCPTSyntheticData.fixtureDomainLaw
        shared.E = 0.5
        let law = CrossDomainDCPTLaw()
        let truth = law.theta(shared, F: 0.3, mu: 1.0, w1: 0.4)
        let domains: [(k1: Double, k2: Double)] = [(1.5, 0.05), (2.0, 0.2), (2.5, 0.1), (1.2, 0.3), (3.0, 0.15), (1.8, 0.25)]
        let design = DCPTSyntheticData(tokenCounts: [1e9, 2e9, 5e9, 1e10, 2e10]).rows
        var rows: [[Double]] = []
        for domain in domains.prefix(5) { rows += design.map { $0 + [domain.k1, domain.k2] } }
        let data = LawDataset(
            featureNames: CrossDomainDCPTLaw.featureNames, rows: rows, losses: rows.map { law.predictLoss(truth, raw: $0) })
        var options = LawFitter.Options()
        options.polishCount = 4
        let fit = try law.fit(data, using: LawFitter(options: options))
        #expect(fit.objective < 1e-12, "objective \(fit.objective)")
        for (got, expected) in zip(fit.law.reportedParameters(fit.theta), law.reportedParameters(truth)) {
            #expect(abs(got - expected) < 1e-4 * max(1, expected), "\(got) vs \(expected)")
        }
        let unseen = domains[5]
        let perDomain = law.domainLaw(fit.theta, k1: unseen.k1, k2: unseen.k2)
        for row in design {
            let expected = law.predictLoss(truth, raw: row + [unseen.k1, unseen.k2])
            #expect(abs(fit.predict(row + [unseen.k1, unseen.k2]) - expected) < 1e-6)
            #expect(abs(perDomain.loss(N: row[0], D: row[1], r: row[2]) - expected) < 1e-6)
        }
    }

    @Test func weightsAreNormalisedAndKStaysPositive() {
        let law = CrossDomainDCPTLaw()
        let theta = law.theta(DCPTSyntheticData.fixtureDomainLaw, F: 0.2, mu: 2, w1: law.bounds.lower[11])
        let reported = law.reportedParameters(theta)
        #expect(abs(reported[11] + reported[12] - 1) < 1e-15)
        let loss = law.predictLoss(theta, raw: [1e9, 1e9, 0.5, 2.0, 0])
        #expect(loss.isFinite && loss > 0)
    }
}
