import Foundation
import Testing
@testable import MixingLaws

@Suite struct MixtureFinishingTests {
    let model = LinearLossModel(intercept: 1, coefficients: [0, 0, 0, 0])

    func solution(_ shares: [Double]) -> MixtureSolution {
        MixtureSolution(shares: shares, predictedLoss: 1, solver: "test", iterations: 0, activeConstraints: [], convergence: .init(converged: true))
    }

    @Test func largestRemainderSumsToExactlyOne() throws {
        let constraints = MixtureConstraints.simplex(domainNames: ["a", "b", "c"])
        let finished = try MixtureFinishing(decimals: 4).finish(
            solution([1.0 / 3, 1.0 / 3, 1.0 / 3]), model: LinearLossModel(intercept: 1, coefficients: [0, 0, 0]), constraints: constraints)
        #expect(finished.units.reduce(0, +) == 10_000)
        #expect(finished.formattedShares == ["0.3334", "0.3333", "0.3333"])
        var random = SeededRandom(seed: 5)
        for decimals in [1, 2, 3, 6] {
            for _ in 0..<50 {
                let shares = random.nextDirichlet([0.5, 0.5, 0.5, 0.5])
                let result = try MixtureFinishing(decimals: decimals).finish(
                    solution(shares), model: model, constraints: .simplex(domainNames: ["a", "b", "c", "d"]))
                #expect(result.units.reduce(0, +) == Int(pow(10, Double(decimals))))
                let printedTotal = result.formattedShares.map { Decimal(string: $0)! }.reduce(Decimal(0), +)
                #expect(printedTotal == 1)
                for j in 0..<4 { #expect(abs(result.shares[j] - shares[j]) <= pow(10, -Double(decimals)) + 1e-12) }
            }
        }
    }

    @Test func smallSharesAreZeroedAndTheRestReprojected() throws {
        let constraints = MixtureConstraints(domainNames: ["a", "b", "c", "d"], maximumShares: [0.5, 1, 1, 1], minimumNonZeroShare: 0.05)
        let finished = try MixtureFinishing(decimals: 4).finish(solution([0.49, 0.48, 0.02, 0.01]), model: model, constraints: constraints)
        #expect(finished.shares[2] == 0 && finished.shares[3] == 0)
        #expect(finished.shares[0] == 0.5)  // renormalising would push a above its cap; re-projection keeps it at 0.5
        #expect(finished.units.reduce(0, +) == 10_000)
    }

    @Test func zeroingThatBreaksTheCapsThrows() {
        let constraints = MixtureConstraints(domainNames: ["a", "b", "c"], maximumShares: [0.5, 0.48, 1], minimumNonZeroShare: 0.05)
        #expect {
            try MixtureFinishing().finish(solution([0.5, 0.48, 0.02]), model: model, constraints: constraints)
        } throws: { ($0 as? LawFitError)?.message.contains("minimumNonZeroShare") == true }
    }

    @Test func extrapolationIsWarnedPerDomain() throws {
        let fitting = [[0.5, 0.25, 0.25, 0], [0.25, 0.5, 0.125, 0.125], [0.25, 0.25, 0.25, 0.25]]
        let constraints = MixtureConstraints.simplex(domainNames: ["a", "b", "c", "d"])
        let finished = try MixtureFinishing(fittingMixtures: fitting, references: [.init(name: "uniform", shares: [0.25, 0.25, 0.25, 0.25])])
            .finish(solution([0.7, 0.25, 0, 0.05]), model: model, constraints: constraints)
        #expect(finished.warnings.contains { $0.contains("domain a") && $0.contains("above the largest") })
        #expect(finished.warnings.contains { $0.contains("domain d") && $0.contains("below the smallest non-zero") })
        #expect(finished.warnings.contains { $0.contains("domain c") && $0.contains("every fitting mixture contains it") })
        #expect(!finished.warnings.contains { $0.contains("domain b") })
        #expect(finished.referenceLosses.first?.loss == 1)
    }

    @Test func impliedEpochsFollowTheTokenBudget() throws {
        let budget = MixtureConstraints.TokenBudget(availableTokens: [1e11, 1e10, 1e12], maximumEpochs: 4, targetTokens: 1e11)
        let constraints = MixtureConstraints(domainNames: ["a", "b", "c"], tokenBudget: budget)
        let finished = try MixtureFinishing().finish(
            solution([0.5, 0.4, 0.1]), model: LinearLossModel(intercept: 1, coefficients: [0, 0, 0]), constraints: constraints)
        #expect(finished.shares == [0.5, 0.4, 0.1])
        #expect(finished.impliedEpochs! == [0.5, 4, 0.01])
    }
}
