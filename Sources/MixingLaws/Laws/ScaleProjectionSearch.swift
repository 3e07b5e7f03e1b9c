/// Variable-projection ranking of exponent combinations for laws that are a sum of power-law
/// terms with non-negative scales (laws.md §1.5, §5.3).
///
/// Each *family* lists candidate design-matrix columns for one term (for instance `N^−α / L` for
/// every `α` on a grid); a combination picks one candidate per family. With the columns fixed the
/// scales solve a non-negative least-squares problem against a vector of ones (the columns are
/// already divided by the observed loss, so residuals are relative). Dot products between
/// candidates are computed once, so each of the many combinations costs one tiny NNLS solve.
struct ScaleProjectionSearch: Sendable {
    /// One candidate per column family, chosen by index, with its NNLS scales and residual.
    struct Candidate: Sendable {
        var residual: Double
        var choice: [Int]
        var scales: [Double]
    }

    let families: [[[Double]]]
    let rowCount: Int
    /// `dots[f][g][i * families[g].count + j]` = column i of family f · column j of family g (f ≤ g;
    /// within one family only i == j is used).
    private let dots: [[[Double]]]
    private let sums: [[Double]]

    /// - Parameter families: `families[f][i]` is candidate column `i` of term `f` (length = rows).
    init(families: [[[Double]]]) {
        self.families = families
        rowCount = families.first?.first?.count ?? 0
        var dots: [[[Double]]] = []
        for f in families.indices {
            var row: [[Double]] = []
            for g in families.indices {
                guard g >= f else { row.append([]); continue }
                var block = Array(repeating: 0.0, count: families[f].count * families[g].count)
                for i in families[f].indices {
                    for j in families[g].indices where f != g || i == j {
                        block[i * families[g].count + j] = Self.dot(families[f][i], families[g][j])
                    }
                }
                row.append(block)
            }
            dots.append(row)
        }
        self.dots = dots
        sums = families.map { $0.map { $0.reduce(0, +) } }
    }

    var combinationCount: Int { families.reduce(1) { $0 * $1.count } }

    /// The `keep` combinations with the smallest relative residual, best first (ties by index).
    func best(_ keep: Int, parallel: Bool = true) -> [Candidate] {
        let total = combinationCount
        guard total > 0, keep > 0 else { return [] }
        let chunkCount = min(total, 64)
        let chunks = ParallelMap.map(count: chunkCount, parallel: parallel) { chunk -> [(Double, Int)] in
            let start = total * chunk / chunkCount, end = total * (chunk + 1) / chunkCount
            var found: [(Double, Int)] = []
            found.reserveCapacity(end - start)
            for flat in start..<end {
                let solved = solve(choice: choice(of: flat))
                found.append((solved.residual.isFinite ? solved.residual : .infinity, flat))
            }
            return found
        }
        let ranked = chunks.joined().sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        return ranked.prefix(keep).map { entry in
            let picked = choice(of: entry.1)
            let solved = solve(choice: picked)
            return Candidate(residual: solved.residual, choice: picked, scales: solved.scales)
        }
    }

    private func choice(of flat: Int) -> [Int] {
        var rest = flat
        var picked = Array(repeating: 0, count: families.count)
        for f in families.indices.reversed() {
            picked[f] = rest % families[f].count
            rest /= families[f].count
        }
        return picked
    }

    private func solve(choice: [Int]) -> (residual: Double, scales: [Double]) {
        let k = families.count
        var gram = Matrix(rows: k, columns: k)
        var xty = Array(repeating: 0.0, count: k)
        for f in 0..<k {
            xty[f] = sums[f][choice[f]]
            for g in f..<k {
                let value = dots[f][g][choice[f] * families[g].count + choice[g]]
                gram[f, g] = value
                gram[g, f] = value
            }
        }
        let scales = NonNegativeLeastSquares.solve(gram: gram, xty: xty)
        var residual = Double(rowCount)
        for f in 0..<k {
            residual -= 2 * scales[f] * xty[f]
            for g in 0..<k { residual += scales[f] * gram[f, g] * scales[g] }
        }
        return (max(residual, 0), scales)
    }

    private static func dot(_ x: [Double], _ y: [Double]) -> Double {
        var total = 0.0
        for i in x.indices { total += x[i] * y[i] }
        return total
    }
}
