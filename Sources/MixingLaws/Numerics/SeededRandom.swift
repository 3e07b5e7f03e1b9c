import Foundation

/// A small, fast, seedable generator (xoshiro256**) so that every sampled design, start set and
/// bootstrap resample is reproducible from one integer seed on every platform.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in the open interval (0, 1).
    public mutating func nextUniform() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1.0p-53
    }

    /// A standard normal draw (Box–Muller; the second value is discarded for simplicity).
    public mutating func nextNormal() -> Double {
        let u1 = nextUniform()
        let u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// A Gamma(shape, 1) draw in log space (Marsaglia–Tsang, boosted for shape < 1), so tiny
    /// shapes do not underflow to an exact zero.
    public mutating func nextLogGamma(shape: Double) -> Double {
        precondition(shape > 0, "Gamma shape must be positive")
        if shape < 1 {
            let boosted = nextLogGamma(shape: shape + 1)
            return boosted + Foundation.log(nextUniform()) / shape
        }
        let d = shape - 1.0 / 3.0
        let c = 1.0 / (9 * d).squareRoot()
        while true {
            let x = nextNormal()
            let base = 1 + c * x
            if base <= 0 { continue }
            let v = base * base * base
            let u = nextUniform()
            if Foundation.log(u) < 0.5 * x * x + d - d * v + d * Foundation.log(v) {
                return Foundation.log(d * v)
            }
        }
    }

    /// A draw from Dirichlet(alpha); computed in log space and normalised, so every component is
    /// finite and the draw sums to 1 even for concentrations near 1e-3.
    public mutating func nextDirichlet(_ alpha: [Double]) -> [Double] {
        var logs = alpha.map { $0 > 0 ? nextLogGamma(shape: $0) : -Double.infinity }
        let m = logs.max() ?? 0
        var sum = 0.0
        for i in logs.indices {
            logs[i] = logs[i] == -Double.infinity ? 0 : Foundation.exp(logs[i] - m)
            sum += logs[i]
        }
        return logs.map { $0 / sum }
    }
}
