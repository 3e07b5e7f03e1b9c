import Foundation
import Testing
@testable import MixingLaws

@Suite struct DCPTUsageTests {
    static let domain = DCPTSyntheticData.fixtureDomainLaw
    static let general = DCPTSyntheticData.fixtureGeneralLaw

    /// laws.md A8, usage 1.
    @Test func tradeOffStopsAtTheGeneralLossTolerance() throws {
        let reference = Self.general.loss(N: 1.8e9, D: 1e10, r: 1)
        #expect(abs(reference - 2.351077) < 5e-7)
        let result = try DCPTUsage.tradeOff(
            domain: Self.domain, general: Self.general, N: 1.8e9, D: 1e10, tolerance: 0.03, referenceGeneralLoss: reference)
        #expect(abs(result.domainShare - 0.582116) < 5e-7, "r_d* = \(result.domainShare)")
        #expect(abs(result.domainLoss - 1.752631) < 5e-7)
        #expect(abs(result.generalLoss - 2.421610) < 5e-7)
        #expect(result.constraintActive)
        #expect(abs(result.generalLossIncrease - 0.03) < 1e-12)
        #expect(result.generalLoss <= 1.03 * reference)
    }

    @Test func tradeOffWithALooseToleranceTakesAllDomainData() throws {
        let result = try DCPTUsage.tradeOff(
            domain: Self.domain, general: Self.general, N: 1.8e9, D: 1e10, tolerance: 1, referenceGeneralLoss: 2.351077)
        #expect(result.domainShare == 1)
        #expect(!result.constraintActive)
    }

    @Test func tradeOffThrowsWhenNothingIsFeasible() {
        let error = #expect(throws: LawFitError.self) {
            try DCPTUsage.tradeOff(
                domain: Self.domain, general: Self.general, N: 1.8e9, D: 1e10, tolerance: 0.03, referenceGeneralLoss: 1.5)
        }
        #expect(error?.message.contains("no domain share") == true)
    }

    /// laws.md A8, usage 2.
    @Test func limitedDomainDataBalancesEpochsAgainstShare() throws {
        let small = try DCPTUsage.limitedDomainData(domain: Self.domain, N: 1.8e9, domainTokens: 2e8)
        #expect(abs(small.domainShare - 0.68386) < 5e-6, "r_d* = \(small.domainShare)")
        #expect(abs(small.domainLoss - 1.918179) < 5e-7)
        #expect(!small.atBoundary)
        #expect(abs(small.totalTokens - 2e8 / small.domainShare) < 1)
        let medium = try DCPTUsage.limitedDomainData(domain: Self.domain, N: 1.8e9, domainTokens: 5e8)
        #expect(abs(medium.domainShare - 0.86597) < 5e-6, "r_d* = \(medium.domainShare)")
        for tokens in [1e9, 5e9] {
            let large = try DCPTUsage.limitedDomainData(domain: Self.domain, N: 1.8e9, domainTokens: tokens)
            #expect(large.domainShare == 1 && large.atBoundary)
        }
        // two epochs over 1e8 tokens is the same budget as one over 2e8
        let epochs = try DCPTUsage.limitedDomainData(domain: Self.domain, N: 1.8e9, domainTokens: 1e8, epochs: 2)
        #expect(abs(epochs.domainShare - small.domainShare) < 1e-9)
    }

    /// laws.md A8, usage 3, plus a brute-force search over N at the same compute.
    @Test func computeAllocationMatchesClosedFormAndBruteForce() throws {
        let allocation = try DCPTUsage.computeAllocation(law: Self.domain, share: 0.5, flops: 1e21)
        #expect(abs(allocation.N / 3.3810e10 - 1) < 5e-5, "N = \(allocation.N)")
        #expect(abs(allocation.D / 4.9294e9 - 1) < 5e-5, "D = \(allocation.D)")
        #expect(abs(allocation.loss - 1.665450) < 5e-7)
        let brute = LineMinimizer.minimize(on: log(1e9), log(1e12)) { lnN in
            Self.domain.loss(N: exp(lnN), D: 1e21 / (6 * exp(lnN)), r: 0.5)
        }
        #expect(abs(exp(brute.x) / allocation.N - 1) < 1e-4)
        let free = try DCPTUsage.computeAllocation(law: Self.domain, flops: 1e21, shareRange: 0.1...1)
        for r in stride(from: 0.1, through: 1, by: 0.05) {
            #expect(free.loss <= (try DCPTUsage.computeAllocation(law: Self.domain, share: r, flops: 1e21)).loss + 1e-12)
        }
        #expect(throws: LawFitError.self) { try DCPTUsage.computeAllocation(law: Self.domain, share: 0, flops: 1e21) }
    }

    /// laws.md §1.2: with η < 1 the fixture law rises on ≈ (0, 4e-7) at N = 1.8e9, D = 1e10.
    @Test func fixtureLawRisesOnlyOnATinyInterval() throws {
        let report = try DCPTMonotonicityReport(law: Self.domain, D: 1e10, smallestFittedShare: 0.1)
        #expect(report.risingRegions.count == 1)
        let end = try #require(report.risingFromZeroUntil)
        #expect(end > 3e-7 && end < 5e-7, "rises until \(end)")
        #expect(abs(Self.domain.derivativeR(N: 1.8e9, D: 1e10, r: end)) < 1e-6 * Self.domain.derivativeR(N: 1.8e9, D: 1e10, r: end / 2))
        #expect(!report.risesInRecommendedRange)
        #expect(report.recommendedShareRange == 0.1...1)
    }

    /// η = γ = 1/2, so `∂L/∂r = 0` ⇔ `(r+ε)³ / r = (C / (B D^−β))²`: two roots, the law rises on
    /// `[0, r1]` and `[r2, 1]`.
    @Test func nonMonotoneLawReportsBothRisingRegions() throws {
        let law = DCPTParameters(E: 1, A: 100, alpha: 0.3, B: 100, eta: 0.5, beta: 0.25, C: 0.1, gamma: 0.5, epsilon: 1e-3)
        let report = try DCPTMonotonicityReport(law: law, D: 1e10, smallestFittedShare: 0.1)
        try #require(report.risingRegions.count == 2)
        let (first, second) = (report.risingRegions[0], report.risingRegions[1])
        #expect(first.lowerBound == 0 && second.upperBound == 1)
        let target = pow(0.1 / (100 * pow(1e10, -0.25)), 2)
        for root in [first.upperBound, second.lowerBound] {
            #expect(abs(pow(root + 1e-3, 3) / root / target - 1) < 1e-8, "root \(root)")
        }
        #expect(second.lowerBound > 0.2 && second.lowerBound < 0.4)
        #expect(report.risesInRecommendedRange)
    }

    @Test func derivativesMatchCentralDifferences() {
        let law = Self.domain
        for (n, d, r) in [(1.8e9, 1e10, 0.5), (5e8, 2e9, 0.05), (4e9, 2e10, 1.0)] {
            let h = 1e-6
            let dN = (law.loss(N: n * (1 + h), D: d, r: r) - law.loss(N: n * (1 - h), D: d, r: r)) / (2 * h * n)
            let dD = (law.loss(N: n, D: d * (1 + h), r: r) - law.loss(N: n, D: d * (1 - h), r: r)) / (2 * h * d)
            let dR = (law.loss(N: n, D: d, r: r + h) - law.loss(N: n, D: d, r: r - h)) / (2 * h)
            let dDR = (law.derivativeR(N: n, D: d * (1 + h), r: r) - law.derivativeR(N: n, D: d * (1 - h), r: r)) / (2 * h * d)
            #expect(abs(dN / law.derivativeN(N: n, D: d, r: r) - 1) < 1e-6)
            #expect(abs(dD / law.derivativeD(N: n, D: d, r: r) - 1) < 1e-6)
            #expect(abs(dR / law.derivativeR(N: n, D: d, r: r) - 1) < 1e-6)
            #expect(abs(dDR / law.derivativeDR(N: n, D: d, r: r) - 1) < 1e-6)
        }
        #expect(law.derivativeR(N: 1e9, D: 1e10, r: 0) == .infinity)
        #expect(law.derivativeD(N: 1e9, D: 1e10, r: 0) == 0)
    }
}
