import Foundation

/// Turns a fitted ``MixtureLossModel`` into the mixture it predicts to be best within the
/// constraints (laws.md §6): one entry point, ``solve(_:subjectTo:)``, over several methods.
///
/// - ``projectedGradient``, ``exponentiatedGradient``, ``frankWolfe``: for differentiable models;
///   they reach the global optimum of convex models (mixing-law objectives are convex, §6.3).
/// - ``dirichletSampling(samples:topK:seed:)``: RegMix-style, any model (trees included).
/// - ``lattice(grid:)``: the Data Mixing Laws grid search, any model, few domains.
/// - ``recentredSampling(rounds:samples:seed:)``: the AllenAI iterative variant, any model.
/// - ``oneDimensional``: grid and golden section when exactly two shares are free.
/// - ``automatic``: the one-dimensional search when two shares are free; otherwise multi-start
///   projected gradient from the best Dirichlet samples when the model has a gradient, Dirichlet
///   sampling when it has none.
public struct MixtureSolver: Sendable, Equatable, CustomStringConvertible {
    enum Method: Sendable, Equatable {
        case projectedGradient, exponentiatedGradient, frankWolfe, automatic, oneDimensional
        case dirichletSampling(samples: Int, topK: Int, seed: UInt64)
        case recentredSampling(rounds: Int, samples: Int, seed: UInt64)
        case lattice(grid: Double)
    }

    let method: Method
    public var options: Options

    /// Stopping rules and starting points shared by the methods.
    public struct Options: Sendable, Equatable {
        /// Iteration cap of the gradient solvers.
        public var maxIterations = 20_000
        /// Projected gradient / exponentiated gradient stop when `‖r − Π(r − ∇f)‖∞` falls below this.
        public var gradientTolerance = 1e-10
        /// Frank–Wolfe stops when its duality gap falls below this.
        public var gapTolerance = 1e-13
        /// Starting mixture of the gradient solvers (projected onto the region); the region's
        /// centre when nil.
        public var start: [Double]?
        /// Centre of the Dirichlet samples (for example natural token shares); the region's
        /// centre when nil.
        public var prior: [Double]?
        /// Total Dirichlet concentrations cycled through by the sampler: small values reach the
        /// corners, large ones stay near the prior.
        public var concentrations: [Double] = (0..<16).map { 0.1 * pow(10_000, Double($0) / 15) }
        /// How many of the best samples ``MixtureSolver/automatic`` polishes with projected gradient.
        public var automaticStarts = 4
        /// Seed of the samples ``automatic`` draws for its extra starts (or its sampling fallback).
        public var seed: UInt64 = 0

        public init() {}
    }

    init(_ method: Method, options: Options = Options()) {
        self.method = method
        self.options = options
    }

    /// Projected gradient with Barzilai–Borwein trial steps and Armijo backtracking (§6.3e).
    public static let projectedGradient = MixtureSolver(.projectedGradient)
    /// Mirror descent with the KL projection onto the bounds (§6.3f).
    public static let exponentiatedGradient = MixtureSolver(.exponentiatedGradient)
    /// Pairwise Frank–Wolfe with exact line search, stopped on the duality gap (§6.3g).
    public static let frankWolfe = MixtureSolver(.frankWolfe)
    /// Gradient solvers from several starts when the model is differentiable, sampling otherwise.
    public static let automatic = MixtureSolver(.automatic)

    /// Dirichlet sampling around the prior at several concentrations; infeasible samples are
    /// dropped and the `topK` best feasible samples averaged (§6.2b, §3.4).
    public static func dirichletSampling(samples: Int = 100_000, topK: Int = 128, seed: UInt64 = 0) -> MixtureSolver {
        MixtureSolver(.dirichletSampling(samples: samples, topK: topK, seed: seed))
    }

    /// Iterative re-centred sampling (AllenAI; §3.5, §6.2c), for piecewise-constant regressors.
    public static func recentredSampling(rounds: Int = 10, samples: Int = 20_000, seed: UInt64 = 0) -> MixtureSolver {
        MixtureSolver(.recentredSampling(rounds: rounds, samples: samples, seed: seed))
    }

    /// Grid plus golden section along the single free direction when exactly two shares are free
    /// (§6.2d); derivative-free and safe for non-convex laws.
    public static let oneDimensional = MixtureSolver(.oneDimensional)

    /// Enumeration of the dyadic lattice of §6.2(a) under the region's caps; returns the best point.
    public static func lattice(grid: Double = 1.0 / 16) -> MixtureSolver { MixtureSolver(.lattice(grid: grid)) }

    /// The same method with other options.
    public func with(_ options: Options) -> MixtureSolver { MixtureSolver(method, options: options) }

    public var description: String {
        switch method {
        case .projectedGradient: "projected gradient"
        case .exponentiatedGradient: "exponentiated gradient"
        case .frankWolfe: "Frank–Wolfe"
        case .automatic: "automatic"
        case .oneDimensional: "one-dimensional search"
        case .recentredSampling(let rounds, let samples, _): "re-centred sampling (\(rounds) rounds of \(samples))"
        case .dirichletSampling(let samples, let topK, _): "Dirichlet sampling (\(samples) samples, top \(topK))"
        case .lattice(let grid): "lattice (grid \(grid))"
        }
    }

    /// Validates the constraints, then solves.
    ///
    /// - Throws: `LawFitError` when the constraints are invalid or infeasible, when the model and
    ///   the constraints disagree on the number of domains, when a gradient method is asked for a
    ///   model without a gradient, or when the model's loss is not finite at the start.
    public func solve(_ model: any MixtureLossModel, subjectTo constraints: MixtureConstraints) throws -> MixtureSolution {
        try solve(model, in: constraints.feasibleRegion())
    }

    /// Solves over an already validated region.
    public func solve(_ model: any MixtureLossModel, in region: FeasibleRegion) throws -> MixtureSolution {
        guard model.domainCount == region.dimension else {
            throw LawFitError("the model has \(model.domainCount) domains but the constraints name \(region.dimension); give one constraint entry per model domain")
        }
        let start = try startingPoint(in: region)
        guard model.loss(start).isFinite else {
            throw LawFitError("the model's predicted loss is not finite at the start mixture \(start); check the fitted parameters")
        }
        let raw: RawSolution
        switch method {
        case .projectedGradient: raw = try Self.projectedGradient(model, in: region, from: start, options: options)
        case .exponentiatedGradient: raw = try Self.exponentiatedGradient(model, in: region, from: start, options: options)
        case .frankWolfe: raw = try Self.frankWolfe(model, in: region, from: start, options: options)
        case .dirichletSampling(let samples, let topK, let seed):
            raw = try Self.dirichletSampling(model, in: region, samples: samples, topK: topK, seed: seed, options: options)
        case .lattice(let grid): raw = try Self.latticeSearch(model, in: region, grid: grid)
        case .oneDimensional: raw = try Self.oneDimensional(model, in: region)
        case .recentredSampling(let rounds, let samples, let seed):
            raw = try Self.recentredSampling(model, in: region, rounds: rounds, samples: samples, seed: seed, options: options)
        case .automatic: raw = try automatic(model, in: region)
        }
        return Self.report(raw, model: model, region: region)
    }

    /// What a method returns before the common diagnostics are added.
    struct RawSolution: Sendable {
        var shares: [Double]
        var solver: String
        var iterations: Int
        var converged: Bool
    }

    private func startingPoint(in region: FeasibleRegion) throws -> [Double] {
        guard let start = options.start else { return region.centre }
        guard start.count == region.dimension, start.allSatisfy(\.isFinite) else {
            throw LawFitError("options.start has \(start.count) values (finite required) for \(region.dimension) domains; give one share per domain")
        }
        return region.project(start)
    }

    private func automatic(_ model: any MixtureLossModel, in region: FeasibleRegion) throws -> RawSolution {
        if (0..<region.dimension).filter({ region.lower[$0] < region.upper[$0] }).count == 2 {
            var line = try Self.oneDimensional(model, in: region)
            line.solver = "automatic: \(line.solver)"
            return line
        }
        guard model.gradient(region.centre) != nil else {
            var sampled = try Self.dirichletSampling(model, in: region, samples: 100_000, topK: 128, seed: options.seed, options: options)
            sampled.solver = "automatic: \(sampled.solver) (the model has no gradient)"
            return sampled
        }
        let starts = [region.centre] + Self.bestSamples(model, in: region, samples: 4096, count: options.automaticStarts, seed: options.seed, options: options)
        let options = self.options
        let runs = ParallelMap.map(count: starts.count) { i in
            Result { try Self.projectedGradient(model, in: region, from: starts[i], options: options) }
        }
        var best: (raw: RawSolution, loss: Double)?
        var iterations = 0
        for run in runs {
            let raw = try run.get()
            iterations += raw.iterations
            let loss = model.loss(raw.shares)
            if best == nil || loss < best!.loss { best = (raw, loss) }
        }
        var raw = best!.raw
        raw.solver = "automatic: projected gradient from \(starts.count) starts"
        raw.iterations = iterations
        return raw
    }

    static func report(_ raw: RawSolution, model: any MixtureLossModel, region: FeasibleRegion) -> MixtureSolution {
        var convergence = MixtureSolution.Convergence(converged: raw.converged)
        if let g = model.gradient(raw.shares), g.count == region.dimension, g.allSatisfy(\.isFinite) {
            convergence.projectedGradientNorm = region.projectedGradientNorm(at: raw.shares, gradient: g)
            convergence.frankWolfeGap = region.frankWolfeGap(at: raw.shares, gradient: g)
        }
        return MixtureSolution(
            shares: raw.shares, predictedLoss: model.loss(raw.shares), solver: raw.solver, iterations: raw.iterations,
            activeConstraints: region.activeConstraints(at: raw.shares), convergence: convergence)
    }

    /// The model's gradient, or an error that says which methods work without one.
    static func gradient(of model: any MixtureLossModel, at r: [Double], solver: String) throws -> [Double] {
        guard let g = model.gradient(r) else {
            throw LawFitError(
                "\(solver) needs the model's gradient, but this model is not differentiable; use .dirichletSampling, .lattice or .automatic")
        }
        guard g.count == r.count, g.allSatisfy(\.isFinite) else {
            throw LawFitError("the model's gradient at \(r) is not finite or has the wrong length (\(g.count)); check the fitted parameters")
        }
        return g
    }
}
