/// The pseudo-random generator of the synthetic corpus: SplitMix64, chosen because it is tiny, fast and
/// gives the same sequence on every platform (integer arithmetic only).
public struct SplitMix64: Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound`; the modulo bias is negligible for the small bounds used here.
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "below(\(bound))")
        return Int(next() % UInt64(bound))
    }

    /// A value in `range` (both ends included).
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `numerator / denominator`.
    public mutating func chance(_ numerator: Int, in denominator: Int) -> Bool { below(denominator) < numerator }

    public mutating func element<T>(of array: [T]) -> T { array[below(array.count)] }
}

/// 64-bit FNV-1a of a string's UTF-8 bytes: a stable hash for deriving seeds from names.
public func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash &*= 0x0000_0100_0000_01B3
    }
    return hash
}

/// Draws ranks 0..<count with Zipf weights `(1 << 20) / (rank + 1)` from a cumulative table, so that the
/// sampling uses integers only.
struct ZipfTable: Sendable {
    private let cumulative: [UInt64]

    init(count: Int) {
        precondition(count > 0)
        var total: UInt64 = 0
        var table: [UInt64] = []
        table.reserveCapacity(count)
        for rank in 0..<count {
            total += UInt64((1 << 20) / (rank + 1))
            table.append(total)
        }
        cumulative = table
    }

    var count: Int { cumulative.count }

    func draw(_ rng: inout SplitMix64) -> Int {
        let target = rng.next() % cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] > target { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
