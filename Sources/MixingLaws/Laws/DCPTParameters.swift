import Foundation

/// The nine constants of a fitted D-CPT law `L = E + A·N^−α + B·r^η·D^−β + C·(r + ε)^−γ`, with
/// the loss and its partial derivatives, for the mixture usages of laws.md §1.6.
public struct DCPTParameters: Sendable, Equatable, Codable {
    public var E: Double
    public var A: Double
    public var alpha: Double
    public var B: Double
    public var eta: Double
    public var beta: Double
    public var C: Double
    public var gamma: Double
    public var epsilon: Double

    public init(
        E: Double, A: Double, alpha: Double, B: Double, eta: Double, beta: Double, C: Double, gamma: Double,
        epsilon: Double
    ) {
        self.E = E
        self.A = A
        self.alpha = alpha
        self.B = B
        self.eta = eta
        self.beta = beta
        self.C = C
        self.gamma = gamma
        self.epsilon = epsilon
    }

    /// From the internal vector `(e, a, α, b, η, β, c, γ, s)` of ``DCPTLaw`` (extra entries ignored).
    public init(theta: [Double]) {
        self.init(
            E: Foundation.exp(theta[0]), A: Foundation.exp(theta[1]), alpha: theta[2], B: Foundation.exp(theta[3]),
            eta: theta[4], beta: theta[5], C: Foundation.exp(theta[6]), gamma: theta[7], epsilon: Foundation.exp(theta[8]))
    }

    /// The constants of a fitted ``DCPTLaw``.
    public init(_ fitted: FittedLaw<DCPTLaw>) {
        self.init(theta: fitted.theta)
    }

    /// `E, A, alpha, B, eta, beta, C, gamma, epsilon`, the order of ``DCPTLaw/parameterNames``.
    public var values: [Double] { [E, A, alpha, B, eta, beta, C, gamma, epsilon] }

    /// The internal vector of ``DCPTLaw`` (scales must be positive).
    public var theta: [Double] {
        [Foundation.log(E), Foundation.log(A), alpha, Foundation.log(B), eta, beta, Foundation.log(C), gamma,
         Foundation.log(epsilon)]
    }

    /// `B·r^η`, exactly 0 at `r = 0`.
    private func dataWeight(_ r: Double) -> Double { r > 0 ? B * Foundation.pow(r, eta) : 0 }

    /// `L(N, D, r)`.
    public func loss(N: Double, D: Double, r: Double) -> Double {
        E + A * Foundation.pow(N, -alpha) + dataWeight(r) * Foundation.pow(D, -beta)
            + C * Foundation.pow(r + epsilon, -gamma)
    }

    /// `∂L/∂N = −α A N^(−α−1)`.
    public func derivativeN(N: Double, D: Double, r: Double) -> Double {
        -alpha * A * Foundation.pow(N, -alpha - 1)
    }

    /// `∂L/∂D = −β B r^η D^(−β−1)`.
    public func derivativeD(N: Double, D: Double, r: Double) -> Double {
        -beta * dataWeight(r) * Foundation.pow(D, -beta - 1)
    }

    /// `∂L/∂r = η B r^(η−1) D^−β − γ C (r+ε)^(−γ−1)`; at `r = 0` the data part is its right limit
    /// (`+∞` when `η < 1`, `B D^−β` when `η = 1`, 0 when `η > 1`).
    public func derivativeR(N: Double, D: Double, r: Double) -> Double {
        dataSlope(D: D, r: r) - gamma * C * Foundation.pow(r + epsilon, -gamma - 1)
    }

    /// `∂²L/∂D∂r = −β η B r^(η−1) D^(−β−1)`.
    public func derivativeDR(N: Double, D: Double, r: Double) -> Double {
        -beta * dataSlope(D: D, r: r) / D
    }

    private func dataSlope(D: Double, r: Double) -> Double {
        guard B > 0, eta > 0 else { return 0 }
        let scale = eta * B * Foundation.pow(D, -beta)
        if r > 0 { return scale * Foundation.pow(r, eta - 1) }
        if eta < 1 { return .infinity }
        return eta == 1 ? scale : 0
    }
}
