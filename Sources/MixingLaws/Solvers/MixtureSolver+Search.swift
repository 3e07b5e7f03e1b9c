import Foundation

extension MixtureSolver {
    /// AllenAI-style iterative sampling (laws.md §3.5, §6.2c): each round draws around the current
    /// centre with concentrations log-uniform in `[2(s+1), 200(s+1)]`, takes the mean of the feasible
    /// samples within 1e-3 of the round's best prediction, zeroes shares below 1e-5, and moves the
    /// centre halfway to that mean. Returns the best round mean.
    static func recentredSampling(
        _ model: any MixtureLossModel, in region: FeasibleRegion, rounds: Int, samples: Int, seed: UInt64, options: Options
    ) throws -> RawSolution {
        guard rounds > 0, samples > 0 else { throw LawFitError("re-centred sampling needs rounds > 0 and samples > 0 (got \(rounds), \(samples))") }
        var centre = try samplingCentre(in: region, options: options)
        var random = SeededRandom(seed: seed)
        var best: (shares: [Double], loss: Double)?
        var evaluated = 0
        for round in 0..<rounds {
            let low = log(2 * Double(round + 1)), high = log(200 * Double(round + 1))
            let points = draws(in: region, around: centre, count: samples, random: &random) { _, random in
                exp(low + (high - low) * random.nextUniform())
            }
            let values = losses(model, at: points)
            evaluated += points.count
            let finite = values.indices.filter { values[$0].isFinite }
            guard let roundBest = finite.map({ values[$0] }).min() else { continue }
            let near = finite.filter { values[$0] <= roundBest + 1e-3 }
            var mean = Array(repeating: 0.0, count: region.dimension)
            for i in near { for j in mean.indices { mean[j] += points[i][j] / Double(near.count) } }
            mean = mean.indices.map { mean[$0] < 1e-5 && region.lower[$0] == 0 ? 0 : mean[$0] }
            let total = mean.reduce(0, +)
            mean = region.project(mean.map { $0 / total })
            let loss = model.loss(mean)
            if loss.isFinite, best == nil || loss < best!.loss { best = (mean, loss) }
            centre = region.project(zip(mean, centre).map { 0.5 * ($0 + $1) })
        }
        guard let best else {
            throw LawFitError(
                "no feasible sample with a finite prediction in \(rounds) rounds of \(samples); set options.prior inside the constraints or use a gradient solver")
        }
        return RawSolution(
            shares: best.shares, solver: "re-centred sampling (\(rounds) rounds of \(samples) samples)", iterations: evaluated, converged: true)
    }

    /// Exhaustive search when exactly two shares are free (two-corpus D-CPT, two-domain mixing
    /// laws; §6.2d): a 10,001-point grid over the feasible interval, then golden section, always
    /// comparing with the end points. Uses only loss values, so it is safe for non-convex laws.
    static func oneDimensional(_ model: any MixtureLossModel, in region: FeasibleRegion) throws -> RawSolution {
        let free = (0..<region.dimension).filter { region.lower[$0] < region.upper[$0] }
        guard free.count == 2 else {
            throw LawFitError("the one-dimensional search needs exactly two domains with free shares; this problem has \(free.count): use another solver")
        }
        let (a, b) = (free[0], free[1])
        let rest = 1 - (0..<region.dimension).filter { $0 != a && $0 != b }.reduce(0) { $0 + region.lower[$1] }
        var lo = max(region.lower[a], rest - region.upper[b])
        var hi = min(region.upper[a], rest - region.lower[b])
        for group in region.groups {
            let fixed = group.members.filter { $0 != a && $0 != b }.reduce(0) { $0 + region.lower[$1] }
            switch (group.members.contains(a), group.members.contains(b)) {
            case (true, false):
                lo = max(lo, group.minimum - fixed)
                hi = min(hi, group.maximum - fixed)
            case (false, true):
                lo = max(lo, fixed + rest - group.maximum)
                hi = min(hi, fixed + rest - group.minimum)
            default: break
            }
        }
        func point(_ x: Double) -> [Double] {
            var r = region.lower
            r[a] = x
            r[b] = rest - x
            return r
        }
        let best = LineMinimizer.minimize(on: lo, max(lo, hi)) { x in
            let value = model.loss(point(x))
            return value.isFinite ? value : .infinity
        }
        return RawSolution(shares: point(best.x), solver: "one-dimensional search (grid + golden section)", iterations: 10_001, converged: true)
    }
}
