/// The exponent grid of the variable-projection starts for the D-CPT law family (laws.md §1.5):
/// every combination is scored by an NNLS fit of the scales, and the best are polished.
///
/// ``standard`` is the grid of laws.md (61,440 combinations for the L3 law); ``coarse`` is a
/// cheaper grid for quick fits and tests. The additive law ignores ``eta``.
public struct DCPTStartGrid: Sendable, Equatable {
    public var alpha: [Double]
    public var beta: [Double]
    public var eta: [Double]
    public var gamma: [Double]
    public var epsilon: [Double]

    public init(alpha: [Double], beta: [Double], eta: [Double], gamma: [Double], epsilon: [Double]) {
        self.alpha = alpha
        self.beta = beta
        self.eta = eta
        self.gamma = gamma
        self.epsilon = epsilon
    }

    /// α, β ∈ linspace(.05, .8, 16), η ∈ {.25, .5, .75, 1, 1.5, 2}, γ ∈ linspace(.1, 1.5, 8),
    /// ε ∈ {.003, .01, .03, .1, .3}: 61,440 combinations (laws.md §1.5).
    public static let standard = DCPTStartGrid(
        alpha: linspace(0.05, 0.8, 16), beta: linspace(0.05, 0.8, 16), eta: [0.25, 0.5, 0.75, 1, 1.5, 2],
        gamma: linspace(0.1, 1.5, 8), epsilon: [0.003, 0.01, 0.03, 0.1, 0.3])

    /// α, β ∈ linspace(.05, .8, 6), η ∈ {.25, .5, 1, 2}, γ ∈ linspace(.1, 1.5, 4),
    /// ε ∈ {.01, .1}: 2,304 combinations.
    public static let coarse = DCPTStartGrid(
        alpha: linspace(0.05, 0.8, 6), beta: linspace(0.05, 0.8, 6), eta: [0.25, 0.5, 1, 2],
        gamma: linspace(0.1, 1.5, 4), epsilon: [0.01, 0.1])

    /// Number of NNLS solves for the L3 law.
    public var combinationCount: Int { alpha.count * beta.count * eta.count * gamma.count * epsilon.count }

    /// `count` evenly spaced values from `first` to `last` inclusive.
    public static func linspace(_ first: Double, _ last: Double, _ count: Int) -> [Double] {
        guard count > 1 else { return [first] }
        return (0..<count).map { first + (last - first) * Double($0) / Double(count - 1) }
    }
}
