import Foundation

/// The fitted `dml-power` law: per validation target a sum of a few exponentials whose exponents
/// are linear in the shares *and* in a concave power of the shares,
///
/// ```
/// L_i(r) = c_i + Σ_k exp( t_ik · r + u_ik · (r + ε)^a )        (powers taken element-wise)
/// ```
///
/// and the aggregated loss `Σ_i s_i L_i(r)`. With one component and `u = 0` it is the Data Mixing
/// Law of Ye et al. (its `log k` absorbed into `t`, since shares sum to 1); the power term adds
/// the diminishing return of a domain's first few percent, and several components the implicit
/// aggregation of latent validation domains. The offset `ε` keeps the law differentiable on the
/// simplex boundary.
public struct PowerExponentialMixtureModel: MixtureLossModel, Sendable, Equatable {
    /// The law of one validation target.
    public struct Target: Sendable, Equatable {
        /// The irreducible loss `c_i ≥ 0`.
        public var floor: Double
        /// One `(t, u)` pair of coefficient vectors per exponential component.
        public var components: [Component]
        /// The target's weight `s_i` in the aggregated loss.
        public var weight: Double

        public init(floor: Double, components: [Component], weight: Double) {
            self.floor = floor
            self.components = components
            self.weight = weight
        }
    }

    /// One exponential component `exp(t · r + u · (r + ε)^a)`.
    public struct Component: Sendable, Equatable {
        /// Coefficients of the shares.
        public var linear: [Double]
        /// Coefficients of the powered shares `(r_j + ε)^a`.
        public var power: [Double]

        public init(linear: [Double], power: [Double]) {
            self.linear = linear
            self.power = power
        }
    }

    public let domainCount: Int
    /// The power `a` applied to the shares.
    public let exponent: Double
    /// The offset `ε` added to every share before the power.
    public let offset: Double
    public let targets: [Target]

    public init(domainCount: Int, exponent: Double, offset: Double, targets: [Target]) {
        self.domainCount = domainCount
        self.exponent = exponent
        self.offset = offset
        self.targets = targets
    }

    /// The powered shares `(r_j + ε)^a`.
    func poweredShares(_ shares: [Double]) -> [Double] {
        shares.map { Foundation.pow(max($0, 0) + offset, exponent) }
    }

    /// The predicted loss of target `index` alone.
    public func loss(ofTarget index: Int, at shares: [Double]) -> Double {
        targetLoss(targets[index], shares: shares, powered: poweredShares(shares))
    }

    public func loss(_ shares: [Double]) -> Double {
        let powered = poweredShares(shares)
        return targets.reduce(0.0) { $0 + $1.weight * targetLoss($1, shares: shares, powered: powered) }
    }

    public func gradient(_ shares: [Double]) -> [Double]? {
        let powered = poweredShares(shares)
        // d(r_j + ε)^a / dr_j = a (r_j + ε)^a / (r_j + ε)
        let slope = shares.indices.map { exponent * powered[$0] / (max(shares[$0], 0) + offset) }
        var gradient = Array(repeating: 0.0, count: domainCount)
        for target in targets {
            for component in target.components {
                let scale = target.weight * Foundation.exp(exponentValue(component, shares: shares, powered: powered))
                for j in 0..<domainCount {
                    gradient[j] += scale * (component.linear[j] + component.power[j] * slope[j])
                }
            }
        }
        return gradient
    }

    private func targetLoss(_ target: Target, shares: [Double], powered: [Double]) -> Double {
        target.components.reduce(target.floor) { $0 + Foundation.exp(exponentValue($1, shares: shares, powered: powered)) }
    }

    private func exponentValue(_ component: Component, shares: [Double], powered: [Double]) -> Double {
        var z = 0.0
        for j in 0..<domainCount { z += component.linear[j] * shares[j] + component.power[j] * powered[j] }
        return z
    }
}
