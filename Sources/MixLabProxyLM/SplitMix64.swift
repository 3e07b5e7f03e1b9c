/// The SplitMix64 pseudo-random generator: tiny, fast and fully specified, so a run's data order
/// and initial weights depend only on its seed (and a twin written in another language can
/// reproduce them).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits of the next output.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A uniform index in `0..<count` (`next() % count`; the bias is below 2⁻⁴⁰ for corpus sizes).
    public mutating func nextIndex(below count: Int) -> Int {
        Int(next() % UInt64(count))
    }
}
