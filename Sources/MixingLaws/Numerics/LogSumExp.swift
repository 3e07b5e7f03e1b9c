import Foundation

/// Numerically stable `ln Σ exp(x_i)` and its softmax weights, for laws fitted in log space.
///
/// A term equal to `-infinity` contributes nothing (weight 0), which is how an absent power-law
/// term (for example the D-CPT data term at `r = 0`) is expressed.
public enum LogSumExp {
    /// Returns `ln Σ exp(terms)` and writes the softmax weights `exp(terms_i − result)` into `weights`.
    @inlinable
    public static func evaluate(_ terms: UnsafeBufferPointer<Double>, weights: UnsafeMutableBufferPointer<Double>) -> Double {
        var m = -Double.infinity
        for t in terms where t > m { m = t }
        if m == -Double.infinity {
            for i in weights.indices { weights[i] = 0 }
            return -Double.infinity
        }
        var sum = 0.0
        for i in terms.indices {
            let e = terms[i] == -Double.infinity ? 0 : Foundation.exp(terms[i] - m)
            weights[i] = e
            sum += e
        }
        for i in weights.indices { weights[i] /= sum }
        return m + Foundation.log(sum)
    }

    /// `ln Σ exp(terms)` without weights.
    @inlinable
    public static func value(_ terms: [Double]) -> Double {
        var m = -Double.infinity
        for t in terms where t > m { m = t }
        if m == -Double.infinity { return m }
        var sum = 0.0
        for t in terms where t != -Double.infinity { sum += Foundation.exp(t - m) }
        return m + Foundation.log(sum)
    }
}
