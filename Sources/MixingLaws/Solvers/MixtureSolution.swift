/// The mixture a ``MixtureSolver`` found, with the evidence of how it got there.
public struct MixtureSolution: Sendable {
    /// One share per domain; sums to 1 and satisfies the hard constraints.
    public var shares: [Double]
    /// The model's prediction at ``shares``.
    public var predictedLoss: Double
    /// Which solver produced the shares (for example `projected gradient` or
    /// `automatic: projected gradient from 5 starts`).
    public var solver: String
    /// Iterations of a gradient solver, or candidates evaluated by a sampling solver.
    public var iterations: Int
    /// Bounds that hold with equality at ``shares``.
    public var activeConstraints: [FeasibleRegion.ActiveConstraint]
    public var convergence: Convergence

    /// Optimality evidence at the returned shares; the measures need the model's gradient and are
    /// nil without it.
    public struct Convergence: Sendable, Equatable {
        /// Whether the solver's own stopping rule was met (false when it ran out of iterations;
        /// always true for the derivative-free solvers, which have no stopping rule).
        public var converged: Bool
        /// Frank–Wolfe duality gap `∇f·(r − s)`: an upper bound on the loss still to gain for a
        /// convex model.
        public var frankWolfeGap: Double?
        /// `‖r − Π(r − ∇f(r))‖∞`, zero at a stationary point.
        public var projectedGradientNorm: Double?

        public init(converged: Bool, frankWolfeGap: Double? = nil, projectedGradientNorm: Double? = nil) {
            self.converged = converged
            self.frankWolfeGap = frankWolfeGap
            self.projectedGradientNorm = projectedGradientNorm
        }
    }

    public init(
        shares: [Double], predictedLoss: Double, solver: String, iterations: Int, activeConstraints: [FeasibleRegion.ActiveConstraint],
        convergence: Convergence
    ) {
        self.shares = shares
        self.predictedLoss = predictedLoss
        self.solver = solver
        self.iterations = iterations
        self.activeConstraints = activeConstraints
        self.convergence = convergence
    }
}
