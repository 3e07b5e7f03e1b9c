import Foundation

extension MixtureSolver {
    /// RegMix-style search: Dirichlet samples, the infeasible ones dropped, the `topK` best averaged.
    /// The average of feasible points is feasible (the region is convex); it is re-checked anyway.
    static func dirichletSampling(
        _ model: any MixtureLossModel, in region: FeasibleRegion, samples: Int, topK: Int, seed: UInt64, options: Options
    ) throws -> RawSolution {
        guard samples > 0, topK > 0 else { throw LawFitError("Dirichlet sampling needs samples > 0 and topK > 0 (got \(samples), \(topK))") }
        let ranked = try rankedSamples(model, in: region, samples: samples, seed: seed, options: options)
        let top = ranked.prefix(topK)
        var mean = Array(repeating: 0.0, count: region.dimension)
        for sample in top { for j in mean.indices { mean[j] += sample.shares[j] / Double(top.count) } }
        if !region.contains(mean, tolerance: 1e-12) { mean = region.project(mean) }
        return RawSolution(
            shares: mean, solver: "Dirichlet sampling (mean of the best \(top.count) of \(ranked.count) feasible samples)",
            iterations: ranked.count, converged: true)
    }

    /// The `count` best distinct feasible samples, best first (starts for multi-start solvers).
    static func bestSamples(
        _ model: any MixtureLossModel, in region: FeasibleRegion, samples: Int, count: Int, seed: UInt64, options: Options
    ) -> [[Double]] {
        guard count > 0, let ranked = try? rankedSamples(model, in: region, samples: samples, seed: seed, options: options) else { return [] }
        var chosen = [[Double]]()
        for sample in ranked where chosen.count < count && !chosen.contains(sample.shares) { chosen.append(sample.shares) }
        return chosen
    }

    /// Feasible samples with finite predicted loss, sorted by loss (ties by draw order).
    ///
    /// Samples are drawn as `r = l + (1 − Σl)·w`, `w ~ Dirichlet(λ·q)` with `q` the prior's excess
    /// over the lower bounds, so lower bounds and pins always hold and only caps and group bounds
    /// can reject a sample; `λ` cycles through `options.concentrations`.
    static func rankedSamples(
        _ model: any MixtureLossModel, in region: FeasibleRegion, samples: Int, seed: UInt64, options: Options
    ) throws -> [(shares: [Double], loss: Double)] {
        let draws = try feasibleDraws(in: region, samples: samples, seed: seed, options: options)
        guard !draws.isEmpty else {
            throw LawFitError(
                "none of \(samples) Dirichlet samples satisfies the caps and group bounds; set options.prior to a mixture inside them, raise the sample count, or use a gradient solver"
            )
        }
        let losses = losses(model, at: draws)
        let order = draws.indices.filter { losses[$0].isFinite }.sorted { losses[$0] < losses[$1] || (losses[$0] == losses[$1] && $0 < $1) }
        guard !order.isEmpty else { throw LawFitError("the model's predicted loss is not finite at any sampled mixture; check the fitted parameters") }
        return order.map { (draws[$0], losses[$0]) }
    }

    private static func feasibleDraws(in region: FeasibleRegion, samples: Int, seed: UInt64, options: Options) throws -> [[Double]] {
        let concentrations = options.concentrations.filter { $0 > 0 && $0.isFinite }
        guard !concentrations.isEmpty else { throw LawFitError("options.concentrations needs at least one positive finite value") }
        var random = SeededRandom(seed: seed)
        return draws(in: region, around: try samplingCentre(in: region, options: options), count: samples, random: &random) { i, _ in
            concentrations[i % concentrations.count]
        }
    }

    /// The prior projected onto the region, or the region's centre.
    static func samplingCentre(in region: FeasibleRegion, options: Options) throws -> [Double] {
        guard let prior = options.prior else { return region.centre }
        guard prior.count == region.dimension, prior.allSatisfy({ $0.isFinite && $0 >= 0 }), prior.reduce(0, +) > 0 else {
            throw LawFitError("options.prior must have \(region.dimension) finite non-negative shares with a positive sum")
        }
        let total = prior.reduce(0, +)
        return region.project(prior.map { $0 / total })
    }

    /// Feasible draws `l + (1 − Σl)·Dirichlet(λ·excess)` around `centre`, `λ = concentration(i, &random)`.
    static func draws(
        in region: FeasibleRegion, around centre: [Double], count: Int, random: inout SeededRandom,
        concentration: (Int, inout SeededRandom) -> Double
    ) -> [[Double]] {
        let n = region.dimension
        let spare = 1 - region.lower.reduce(0, +)
        if spare <= FeasibleRegion.slack { return region.contains(region.lower) ? [region.lower] : [] }
        let free = (0..<n).filter { region.upper[$0] > region.lower[$0] }
        var excess = (0..<n).map { region.upper[$0] > region.lower[$0] ? max(centre[$0] - region.lower[$0], 0) + 1e-3 * spare / Double(free.count) : 0 }
        let excessSum = excess.reduce(0, +)
        excess = excess.map { $0 / excessSum }
        var draws = [[Double]]()
        for i in 0..<count {
            let lambda = concentration(i, &random)
            let w = random.nextDirichlet(excess.map { lambda * $0 })
            guard w.allSatisfy(\.isFinite) else { continue }
            let r = (0..<n).map { region.lower[$0] + spare * w[$0] }
            if region.contains(r, tolerance: 1e-12) { draws.append(r) }
        }
        return draws
    }

    /// The model's loss at each point, evaluated in parallel chunks (order preserved).
    static func losses(_ model: any MixtureLossModel, at points: [[Double]]) -> [Double] {
        let chunk = 1024
        return ParallelMap.map(count: (points.count + chunk - 1) / chunk) { c in
            points[(c * chunk)..<min(points.count, (c + 1) * chunk)].map { model.loss($0) }
        }.flatMap { $0 }
    }

    /// Evaluates every feasible lattice point and returns the best.
    static func latticeSearch(_ model: any MixtureLossModel, in region: FeasibleRegion, grid: Double) throws -> RawSolution {
        let candidates = try MixtureLattice.candidates(caps: region.upper, grid: grid).filter { region.contains($0, tolerance: 1e-12) }
        guard !candidates.isEmpty else {
            throw LawFitError(
                "no point of the lattice with grid \(grid) satisfies the constraints (minimum shares, pins or group bounds off the grid); use a finer grid or another solver"
            )
        }
        var best: (shares: [Double], loss: Double)?
        for candidate in candidates {
            let loss = model.loss(candidate)
            if loss.isFinite, best == nil || loss < best!.loss { best = (candidate, loss) }
        }
        guard let best else { throw LawFitError("the model's predicted loss is not finite at any lattice point; check the fitted parameters") }
        return RawSolution(shares: best.shares, solver: "lattice (grid \(grid), \(candidates.count) candidates)", iterations: candidates.count, converged: true)
    }
}
