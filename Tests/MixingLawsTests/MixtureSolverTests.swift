import Foundation
import Testing
@testable import MixingLaws

@Suite struct MixtureSolverTests {
    static let gradientSolvers: [MixtureSolver] = [.projectedGradient, .exponentiatedGradient, .frankWolfe, .automatic]
    static let names3 = ["a", "b", "c"]

    func maxDifference(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) } }

    @Test func twoDomainOptimumMatchesClosedForm() throws {
        let k = [0.8, 1.3], t = [-2.5, -1.7]
        let model = ExponentialSumModel.separable(scales: k, rates: t)
        // d/dx [k1 e^{t1 x} + k2 e^{t2 (1−x)}] = 0
        let x = (log(k[1] * -t[1]) - log(k[0] * -t[0]) + t[1]) / (t[0] + t[1])
        for solver in Self.gradientSolvers {
            let solution = try solver.solve(model, subjectTo: .simplex(domainNames: ["x", "y"]))
            #expect(abs(solution.shares[0] - x) < 1e-8, "\(solver): \(solution.shares[0]) vs \(x)")
            #expect(solution.convergence.converged)
        }
    }

    @Test(arguments: [
        ("free", [0.0, 0, 0], [1.0, 1, 1], [Int: Double]()),
        ("max-share active", [0.0, 0, 0], [0.2, 1, 1], [:]),
        ("min-share active", [0.0, 0.3, 0], [1.0, 1, 1], [:]),
        ("pinned", [0.0, 0, 0], [1.0, 1, 1], [1: 0.15]),
    ])
    func separableOptimumMatchesKKT(caseName: String, lower: [Double], upper: [Double], pins: [Int: Double]) throws {
        let k = [1.0, 0.7, 1.4], t = [-3.0, -1.5, -2.2]
        let model = ExponentialSumModel.separable(scales: k, rates: t)
        let constraints = MixtureConstraints(domainNames: Self.names3, minimumShares: lower, maximumShares: upper, pinnedShares: pins)
        let region = try constraints.feasibleRegion()
        let truth = separableOptimum(scales: k, rates: t, lower: region.lower, upper: region.upper)
        #expect(abs(truth.reduce(0, +) - 1) < 1e-12)
        var results = [[Double]]()
        for solver in Self.gradientSolvers {
            let solution = try solver.solve(model, subjectTo: constraints)
            #expect(maxDifference(solution.shares, truth) < 1e-6, "\(caseName) \(solver): \(solution.shares) vs \(truth)")
            #expect(region.contains(solution.shares, tolerance: 1e-12))
            results.append(solution.shares)
        }
        for pair in zip(results, results.dropFirst()) { #expect(maxDifference(pair.0, pair.1) < 1e-6) }
        if caseName == "max-share active" {
            let solution = try MixtureSolver.projectedGradient.solve(model, subjectTo: constraints)
            #expect(solution.shares[0] == 0.2)
            #expect(solution.activeConstraints.contains { $0.kind == .maximum && $0.name == "a" })
        }
        if caseName == "pinned" {
            let solution = try MixtureSolver.exponentiatedGradient.solve(model, subjectTo: constraints)
            #expect(solution.shares[1] == 0.15)
            #expect(solution.activeConstraints.contains { $0.kind == .pinned && $0.name == "b" })
        }
    }

    @Test func tokenCapBindsLikeAMaximumShare() throws {
        let k = [1.0, 0.7, 1.4], t = [-3.0, -1.5, -2.2]
        let model = ExponentialSumModel.separable(scales: k, rates: t)
        // domain a: 2e9 tokens × 4 epochs over a 1e11-token run → cap 0.08
        let budget = MixtureConstraints.TokenBudget(availableTokens: [2e9, 1e12, 1e12], maximumEpochs: 4, targetTokens: 1e11)
        let constraints = MixtureConstraints(domainNames: Self.names3, tokenBudget: budget)
        let region = try constraints.feasibleRegion()
        #expect(abs(region.upper[0] - 0.08) < 1e-15 && region.tokenCapped == [true, false, false])
        let truth = separableOptimum(scales: k, rates: t, lower: [0, 0, 0], upper: [0.08, 1, 1])
        for solver in Self.gradientSolvers {
            let solution = try solver.solve(model, subjectTo: constraints)
            #expect(maxDifference(solution.shares, truth) < 1e-6, "\(solver)")
            #expect(solution.shares[0] <= 0.08 + 1e-15)
        }
        let active = try MixtureSolver.projectedGradient.solve(model, subjectTo: constraints).activeConstraints
        #expect(active.contains { $0.kind == .tokenCap && $0.name == "a" })
    }

    @Test func coupledModelSolversAgreeWithEachOtherAndBruteForce() throws {
        let model = ExponentialSumModel.coupled
        let constraints = MixtureConstraints(domainNames: Self.names3, maximumShares: [0.5, 1, 0.45])
        let solutions = try Self.gradientSolvers.map { try $0.solve(model, subjectTo: constraints) }
        for s in solutions {
            #expect(maxDifference(s.shares, solutions[0].shares) < 1e-6, "\(s.solver): \(s.shares) vs \(solutions[0].shares)")
            #expect(s.convergence.frankWolfeGap! < 1e-9)
        }
        var best = (loss: Double.infinity, shares: [Double]())
        let steps = 1000
        for i in 0...steps {
            for j in 0...(steps - i) {
                let r = [Double(i) / Double(steps), Double(j) / Double(steps), Double(steps - i - j) / Double(steps)]
                guard r[0] <= 0.5, r[2] <= 0.45 else { continue }
                let loss = model.loss(r)
                if loss < best.loss { best = (loss, r) }
            }
        }
        #expect(solutions[0].predictedLoss <= best.loss + 1e-12)
        #expect(maxDifference(solutions[0].shares, best.shares) < 3e-3)
    }

    @Test func frankWolfeGapGoesToZero() throws {
        let solution = try MixtureSolver.frankWolfe.solve(ExponentialSumModel.coupled, subjectTo: .simplex(domainNames: Self.names3))
        #expect(solution.convergence.converged)
        #expect(solution.convergence.frankWolfeGap! < 1e-13)
        #expect(solution.convergence.projectedGradientNorm! < 1e-7)
    }

    @Test func linearModelGoesToTheCheapestVertexUnderCaps() throws {
        let model = LinearLossModel(intercept: 3, coefficients: [-0.5, -0.2, 0.1, -0.4])
        let constraints = MixtureConstraints(domainNames: ["a", "b", "c", "d"], maximumShares: [0.3, 1, 1, 0.25])
        for solver in [MixtureSolver.projectedGradient, .exponentiatedGradient, .frankWolfe, .automatic] {
            let solution = try solver.solve(model, subjectTo: constraints)
            #expect(maxDifference(solution.shares, [0.3, 0.45, 0, 0.25]) < 1e-6, "\(solver): \(solution.shares)")
        }
    }

    @Test func samplingSolversAreFeasibleAndNearTheOptimum() throws {
        let model = ExponentialSumModel.coupled
        let constraints = MixtureConstraints(domainNames: Self.names3, minimumShares: [0.1, 0, 0], maximumShares: [0.5, 1, 0.45])
        let region = try constraints.feasibleRegion()
        let optimum = try MixtureSolver.projectedGradient.solve(model, in: region)
        let sampled = try MixtureSolver.dirichletSampling(samples: 20_000, topK: 32, seed: 7).solve(GradientFreeModel(base: model), in: region)
        #expect(region.contains(sampled.shares, tolerance: 1e-12))
        #expect(sampled.predictedLoss - optimum.predictedLoss < 1e-3)
        #expect(maxDifference(sampled.shares, optimum.shares) < 0.05)
        let automatic = try MixtureSolver.automatic.solve(GradientFreeModel(base: model), in: region)
        #expect(automatic.solver.contains("no gradient"))
        let lattice = try MixtureSolver.lattice(grid: 1.0 / 16).solve(model, in: region)
        #expect(region.contains(lattice.shares, tolerance: 1e-12))
        #expect(lattice.predictedLoss >= optimum.predictedLoss)
    }

    @Test func gradientSolverWithoutGradientThrows() {
        let model = GradientFreeModel(base: .coupled)
        for solver in [MixtureSolver.projectedGradient, .exponentiatedGradient, .frankWolfe] {
            #expect {
                try solver.solve(model, subjectTo: .simplex(domainNames: Self.names3))
            } throws: { ($0 as? LawFitError)?.message.contains("not differentiable") == true }
        }
    }
}

extension MixtureSolverTests {
    @Test func automaticMultiStartEscapesTheShallowWell() throws {
        let model = TwoWellModel()
        let simplex = MixtureConstraints.simplex(domainNames: Self.names3)
        let single = try MixtureSolver.projectedGradient.solve(model, subjectTo: simplex)
        #expect(maxDifference(single.shares, model.shallow) < 1e-3)
        let automatic = try MixtureSolver.automatic.solve(model, subjectTo: simplex)
        #expect(maxDifference(automatic.shares, model.deep) < 1e-3, "\(automatic.shares)")
        #expect(automatic.predictedLoss < single.predictedLoss - 0.4)
        #expect(automatic.solver.hasPrefix("automatic: projected gradient from"))
    }
}

extension MixtureSolverTests {
    @Test func oneDimensionalSearchMatchesKKTWithAPinnedDomain() throws {
        let k = [1.0, 0.7, 1.4], t = [-3.0, -1.5, -2.2]
        let model = ExponentialSumModel.separable(scales: k, rates: t)
        let constraints = MixtureConstraints(domainNames: Self.names3, maximumShares: [1, 0.5, 1], pinnedShares: [2: 0.3])
        let truth = separableOptimum(scales: k, rates: t, lower: [0, 0, 0.3], upper: [1, 0.5, 0.3])
        let line = try MixtureSolver.oneDimensional.solve(model, subjectTo: constraints)
        #expect(maxDifference(line.shares, truth) < 1e-8, "\(line.shares) vs \(truth)")
        let automatic = try MixtureSolver.automatic.solve(GradientFreeModel(base: model), subjectTo: constraints)
        #expect(automatic.solver.contains("one-dimensional"))
        #expect(maxDifference(automatic.shares, truth) < 1e-8)
        #expect(throws: LawFitError.self) { try MixtureSolver.oneDimensional.solve(model, subjectTo: .simplex(domainNames: Self.names3)) }
    }

    @Test func recentredSamplingIsFeasibleAndNearTheOptimum() throws {
        let model = ExponentialSumModel.coupled
        let constraints = MixtureConstraints(domainNames: Self.names3, maximumShares: [0.5, 1, 0.45])
        let region = try constraints.feasibleRegion()
        let optimum = try MixtureSolver.projectedGradient.solve(model, in: region)
        let sampled = try MixtureSolver.recentredSampling(rounds: 10, samples: 4000, seed: 3).solve(GradientFreeModel(base: model), in: region)
        #expect(region.contains(sampled.shares, tolerance: 1e-12))
        // The round mean averages every sample within 1e-3 of the best, so it is only that accurate.
        #expect(sampled.predictedLoss - optimum.predictedLoss < 1e-3, "\(sampled.predictedLoss) vs \(optimum.predictedLoss)")
        #expect(maxDifference(sampled.shares, optimum.shares) < 0.05)
    }
}
