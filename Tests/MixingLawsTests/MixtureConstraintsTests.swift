import Foundation
import Testing
@testable import MixingLaws

@Suite struct MixtureConstraintsTests {
    static let names = ["web", "code", "books"]

    func message(_ constraints: MixtureConstraints) -> String? {
        do {
            _ = try constraints.feasibleRegion()
            return nil
        } catch {
            return (error as? LawFitError)?.message
        }
    }

    @Test func minimumsAboveOneAreInfeasibleWithTheExcess() throws {
        let text = try #require(message(MixtureConstraints(domainNames: Self.names, minimumShares: [0.5, 0.4, 0.3])))
        #expect(text.contains("infeasible") && text.contains("web 0.5") && text.contains("by 0.2"), "\(text)")
        // The solvers refuse too, never returning a default.
        #expect(throws: LawFitError.self) {
            try MixtureSolver.automatic.solve(
                ExponentialSumModel.coupled, subjectTo: MixtureConstraints(domainNames: Self.names, minimumShares: [0.5, 0.4, 0.3]))
        }
    }

    @Test func maximumsBelowOneAreInfeasible() throws {
        let text = try #require(message(MixtureConstraints(domainNames: Self.names, maximumShares: [0.3, 0.3, 0.3])))
        #expect(text.contains("short of 1") && text.contains("books 0.3"), "\(text)")
    }

    @Test func pinAboveMaximumNamesTheDomain() throws {
        let text = try #require(message(MixtureConstraints(domainNames: Self.names, maximumShares: [1, 0.2, 1], pinnedShares: [1: 0.3])))
        #expect(text.contains("domain code") && text.contains("pinned share 0.3"), "\(text)")
    }

    @Test func zeroTokensNamesTheDomain() throws {
        let budget = MixtureConstraints.TokenBudget(availableTokens: [1e12, 0, 1e9], maximumEpochs: 4, targetTokens: 1e11)
        let text = try #require(message(MixtureConstraints(domainNames: Self.names, tokenBudget: budget)))
        #expect(text.contains("domain code") && text.contains("available tokens"), "\(text)")
        let noTarget = MixtureConstraints.TokenBudget(availableTokens: [1e12, 1e9, 1e9], maximumEpochs: 4, targetTokens: 0)
        #expect(message(MixtureConstraints(domainNames: Self.names, tokenBudget: noTarget))?.contains("targetTokens") == true)
    }

    @Test func tokenCapsThatCannotCoverTheRunAreInfeasible() throws {
        // 1e9 + 2e9 + 3e9 tokens × 2 epochs = 1.2e10 < 2e10 needed.
        let budget = MixtureConstraints.TokenBudget(availableTokens: [1e9, 2e9, 3e9], maximumEpochs: 2, targetTokens: 2e10)
        let text = try #require(message(MixtureConstraints(domainNames: Self.names, tokenBudget: budget)))
        #expect(text.contains("token cap") && text.contains("short of 1 by 0.4"), "\(text)")
    }

    @Test func badBoundsNameTheDomainAndTheFix() throws {
        #expect(message(MixtureConstraints(domainNames: Self.names, minimumShares: [0, .nan, 0]))?.contains("domain code") == true)
        #expect(message(MixtureConstraints(domainNames: Self.names, minimumShares: [0, 0, 0.6], maximumShares: [1, 1, 0.5]))?
            .contains("domain books: minimum share 0.6 exceeds maximum share 0.5") == true)
        #expect(message(MixtureConstraints(domainNames: Self.names, maximumShares: [1, 1.5, 1]))?.contains("domain code") == true)
        #expect(message(MixtureConstraints(domainNames: Self.names, minimumShares: [0, 0]))?.contains("minimumShares has 2 values") == true)
        let minimumNeedsTooManyEpochs = MixtureConstraints(
            domainNames: Self.names, minimumShares: [0, 0.2, 0],
            tokenBudget: .init(availableTokens: [1e12, 1e9, 1e12], maximumEpochs: 4, targetTokens: 1e11))
        #expect(message(minimumNeedsTooManyEpochs)?.contains("domain code: minimum share 0.2 needs 20 epochs") == true)
    }

    @Test func pinsBecomeFixedBounds() throws {
        let region = try MixtureConstraints(domainNames: Self.names, pinnedShares: [2: 0.25]).feasibleRegion()
        #expect(region.lower[2] == 0.25 && region.upper[2] == 0.25)
        let sample = try MixtureSolver.dirichletSampling(samples: 2000, topK: 16).solve(GradientFreeModel(base: .coupled), in: region)
        #expect(sample.shares[2] == 0.25)
    }
}
