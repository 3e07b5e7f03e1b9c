import Foundation

/// The dyadic candidate lattice of the Data Mixing Laws search (laws.md §6.2a): each domain but
/// the last takes `g·⌊cap/g⌋·2^(−s)` (values below `g` become 0), the last takes the remainder
/// when it fits under its cap. Coarse by design: a start or a search for a handful of domains.
public enum MixtureLattice {
    /// Enumerations larger than this are refused rather than run for hours.
    public static let maximumCombinations = 20_000_000

    /// The values one domain takes on the lattice, descending, 0 last.
    public static func values(cap: Double, grid: Double) -> [Double] {
        let top = grid * (cap / grid + 1e-12).rounded(.down)
        var values = [Double]()
        var value = top
        while value >= grid * (1 - 1e-12) {
            values.append(value)
            value /= 2
        }
        if !values.contains(0) { values.append(0) }
        return values
    }

    /// All distinct lattice mixtures under `caps`, in enumeration order.
    ///
    /// - Throws: `LawFitError` for a grid outside (0, 1], caps outside [0, 1], or an enumeration
    ///   above ``maximumCombinations``.
    public static func candidates(caps: [Double], grid: Double = 1.0 / 16) throws -> [[Double]] {
        guard grid > 0, grid <= 1, grid.isFinite else { throw LawFitError("lattice grid \(grid) must be in (0, 1], for example 1/16") }
        guard !caps.isEmpty else { throw LawFitError("lattice: no domains") }
        guard caps.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else { throw LawFitError("lattice caps \(caps) must lie in [0, 1]") }
        let sets = caps.dropLast().map { values(cap: $0, grid: grid) }
        let combinations = sets.reduce(1.0) { $0 * Double($1.count) }
        guard combinations <= Double(maximumCombinations) else {
            throw LawFitError(
                "the lattice with grid \(grid) over \(caps.count) domains has \(Int(combinations)) combinations (limit \(maximumCombinations)); use a coarser grid or Dirichlet sampling"
            )
        }
        let lastCap = caps[caps.count - 1]
        var seen = Set<[Double]>()
        var result = [[Double]]()
        var current = [Double]()
        func extend(_ depth: Int, _ sum: Double) {
            if depth == sets.count {
                let remainder = 1 - sum
                guard remainder >= -1e-12, remainder <= lastCap + 1e-12 else { return }
                let point = current + [max(remainder, 0)]
                if seen.insert(point).inserted { result.append(point) }
                return
            }
            for value in sets[depth] where sum + value <= 1 + 1e-12 {
                current.append(value)
                extend(depth + 1, sum + value)
                current.removeLast()
            }
        }
        extend(0, 0)
        return result
    }
}
