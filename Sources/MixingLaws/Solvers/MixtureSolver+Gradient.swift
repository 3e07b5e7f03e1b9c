import Foundation

extension MixtureSolver {
    /// Armijo sufficient-decrease constant.
    static let armijo = 1e-4

    /// Whether a trial point is acceptable, with its gradient when that was needed to decide.
    ///
    /// Armijo on the loss; once the change in loss is within rounding noise (near the optimum, where
    /// Armijo can no longer be checked), the trial is accepted when the slope along the move at the
    /// trial point is still non-positive, which for a convex loss means it did not increase.
    static func acceptTrial(
        _ model: any MixtureLossModel, candidate: [Double], loss candidateLoss: Double, from loss: Double, gradient g: [Double], move: [Double],
        solver: String
    ) throws -> (accepted: Bool, gradient: [Double]?) {
        guard candidateLoss.isFinite else { return (false, nil) }
        let predicted = zip(g, move).reduce(0) { $0 + $1.0 * $1.1 }
        if candidateLoss <= loss + armijo * predicted { return (true, nil) }
        guard abs(candidateLoss - loss) <= 16 * Double.ulpOfOne * max(1, abs(loss)) else { return (false, nil) }
        let next = try gradient(of: model, at: candidate, solver: solver)
        let slope = zip(next, move).reduce(0) { $0 + $1.0 * $1.1 }
        return (slope <= 0, next)
    }

    /// `r ← Π(r − η ∇f(r))`; η starts from the Barzilai–Borwein step and is halved until Armijo holds.
    static func projectedGradient(
        _ model: any MixtureLossModel, in region: FeasibleRegion, from start: [Double], options: Options
    ) throws -> RawSolution {
        let name = "projected gradient"
        var r = region.project(start)
        var f = model.loss(r)
        var g = try gradient(of: model, at: r, solver: name)
        var step = 1 / max(g.reduce(0) { max($0, abs($1)) }, 1e-12)
        var previous: (r: [Double], g: [Double])?
        for iteration in 0..<options.maxIterations {
            if region.projectedGradientNorm(at: r, gradient: g) < options.gradientTolerance {
                return RawSolution(shares: r, solver: name, iterations: iteration, converged: true)
            }
            if let (pr, pg) = previous {
                var ss = 0.0, sy = 0.0
                for j in r.indices {
                    let s = r[j] - pr[j], y = g[j] - pg[j]
                    ss += s * s
                    sy += s * y
                }
                step = sy > 0 ? ss / sy : step * 2
                step = min(max(step, 1e-20), 1e20)
            }
            let accepted = try backtrack(model, from: r, loss: f, gradient: g, step: &step, solver: name) { step in
                region.project((0..<r.count).map { r[$0] - step * g[$0] })
            }
            guard let next = accepted else {
                return RawSolution(shares: r, solver: name, iterations: iteration, converged: false)
            }
            previous = (r, g)
            r = next.r
            f = next.f
            g = try next.g ?? gradient(of: model, at: r, solver: name)
        }
        let converged = region.projectedGradientNorm(at: r, gradient: g) < options.gradientTolerance
        return RawSolution(shares: r, solver: name, iterations: options.maxIterations, converged: converged)
    }

    /// Halves `step` until the candidate it gives is accepted (Armijo, or a non-increasing slope
    /// where the loss change is below rounding); nil when no step moves or none is accepted.
    private static func backtrack(
        _ model: any MixtureLossModel, from r: [Double], loss f: Double, gradient g: [Double], step: inout Double, solver name: String,
        candidateAt: (Double) -> [Double]
    ) throws -> (r: [Double], f: Double, g: [Double]?)? {
        for _ in 0..<80 {
            let candidate = candidateAt(step)
            let move = zip(candidate, r).map { $0 - $1 }
            if move.allSatisfy({ $0 == 0 }) { return nil }
            let fc = model.loss(candidate)
            let trial = try acceptTrial(model, candidate: candidate, loss: fc, from: f, gradient: g, move: move, solver: name)
            if trial.accepted { return (candidate, fc, trial.gradient) }
            step /= 2
        }
        return nil
    }

    /// Mirror descent: `r ← Π_KL(r ⊙ exp(−η ∇f(r)))`, η doubled after each accepted step and halved
    /// until Armijo holds. Iterates stay strictly positive wherever the bounds allow.
    static func exponentiatedGradient(
        _ model: any MixtureLossModel, in region: FeasibleRegion, from start: [Double], options: Options
    ) throws -> RawSolution {
        let name = "exponentiated gradient"
        let feasibleStart = region.project(start)
        let interior = feasibleStart.indices.map { j in max(feasibleStart[j], 1e-3 * region.upper[j]) }
        var r = region.projectKL(interior)
        var f = model.loss(r)
        var g = try gradient(of: model, at: r, solver: name)
        var step = 1 / max(g.reduce(0) { max($0, abs($1)) }, 1e-12)
        for iteration in 0..<options.maxIterations {
            if region.projectedGradientNorm(at: r, gradient: g) < options.gradientTolerance {
                return RawSolution(shares: r, solver: name, iterations: iteration, converged: true)
            }
            let smallest = g.min() ?? 0
            let accepted = try backtrack(model, from: r, loss: f, gradient: g, step: &step, solver: name) { step in
                region.projectKL((0..<r.count).map { r[$0] * exp(-step * (g[$0] - smallest)) })
            }
            guard let next = accepted else {
                return RawSolution(shares: r, solver: name, iterations: iteration, converged: false)
            }
            r = next.r
            f = next.f
            g = try next.g ?? gradient(of: model, at: r, solver: name)
            step = min(step * 2, 1e20)
        }
        let converged = region.projectedGradientNorm(at: r, gradient: g) < options.gradientTolerance
        return RawSolution(shares: r, solver: name, iterations: options.maxIterations, converged: converged)
    }
}
