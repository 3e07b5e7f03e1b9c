/// The Huber loss used by every robust fit: quadratic within `delta`, linear beyond it.
///
/// `H(x) = x²/2` for `|x| ≤ delta`, else `delta·(|x| − delta/2)` — the PyTorch and Chinchilla
/// convention. Fit objectives sum it over residuals ("sum" reduction), so a tolerance keeps one
/// meaning whatever the number of rows.
public struct HuberLoss: Sendable, Hashable {
    public var delta: Double

    public init(delta: Double) {
        precondition(delta > 0, "Huber delta must be positive")
        self.delta = delta
    }

    @inlinable
    public func value(_ x: Double) -> Double {
        let a = abs(x)
        return a <= delta ? 0.5 * x * x : delta * (a - 0.5 * delta)
    }

    @inlinable
    public func derivative(_ x: Double) -> Double {
        if x > delta { return delta }
        if x < -delta { return -delta }
        return x
    }
}
