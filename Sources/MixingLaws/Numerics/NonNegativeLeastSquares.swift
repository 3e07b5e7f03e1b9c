/// Lawson–Hanson non-negative least squares, `min ‖X β − y‖ subject to β ≥ 0`.
///
/// Works on the normal equations (`XᵀX`, `Xᵀy`) because every caller has a handful of columns
/// and many rows, and the same Gram matrix is cheap to build once per exponent combination in
/// the variable-projection starts. Columns are rescaled to unit diagonal before solving so that
/// power-law columns of very different magnitudes stay well conditioned.
public enum NonNegativeLeastSquares {
    /// Solves the problem given the Gram matrix `XᵀX` and `Xᵀy`; returns β.
    public static func solve(gram: Matrix, xty: [Double]) -> [Double] {
        let n = gram.rows
        precondition(gram.columns == n && xty.count == n)
        // unit-diagonal scaling
        var scale = Array(repeating: 1.0, count: n)
        var g = gram
        var b = xty
        for i in 0..<n where gram[i, i] > 0 { scale[i] = 1 / gram[i, i].squareRoot() }
        for i in 0..<n {
            b[i] *= scale[i]
            for j in 0..<n { g[i, j] *= scale[i] * scale[j] }
        }
        var beta = Array(repeating: 0.0, count: n)
        var passive = Array(repeating: false, count: n)
        let tolerance = 1e-12 * max(1, b.map(abs).max() ?? 1)
        for _ in 0..<(3 * n + 10) {
            // w = b − G β
            var bestIndex = -1
            var bestValue = tolerance
            for j in 0..<n where !passive[j] {
                var w = b[j]
                for k in 0..<n { w -= g[j, k] * beta[k] }
                if w > bestValue { bestValue = w; bestIndex = j }
            }
            if bestIndex < 0 { break }
            passive[bestIndex] = true
            for _ in 0..<(3 * n + 10) {
                let indices = (0..<n).filter { passive[$0] }
                guard let z = solvePassive(g, b, indices) else {
                    passive[bestIndex] = false
                    break
                }
                var full = Array(repeating: 0.0, count: n)
                for (k, j) in indices.enumerated() { full[j] = z[k] }
                if indices.allSatisfy({ full[$0] > 0 }) { beta = full; break }
                var alpha = Double.infinity
                for j in indices where full[j] <= 0 {
                    let denominator = beta[j] - full[j]
                    if denominator > 0 { alpha = min(alpha, beta[j] / denominator) }
                }
                if !alpha.isFinite { alpha = 0 }
                for j in 0..<n { beta[j] += alpha * (full[j] - beta[j]) }
                for j in indices where beta[j] <= 1e-14 { passive[j] = false; beta[j] = 0 }
            }
        }
        for i in 0..<n { beta[i] *= scale[i] }
        return beta
    }

    /// Convenience: builds the Gram form of `X` and solves.
    public static func solve(_ x: Matrix, _ y: [Double]) -> [Double] {
        solve(gram: x.gram(), xty: x.transposeTimes(y))
    }

    private static func solvePassive(_ g: Matrix, _ b: [Double], _ indices: [Int]) -> [Double]? {
        var sub = Matrix(rows: indices.count, columns: indices.count)
        for (r, i) in indices.enumerated() { for (c, j) in indices.enumerated() { sub[r, c] = g[i, j] } }
        let rhs = indices.map { b[$0] }
        if let z = LinearSolve.choleskySolve(sub, rhs) { return z }
        // Nearly dependent columns: fall back to a ridge-stabilised solve.
        for r in 0..<indices.count { sub[r, r] += 1e-10 }
        return LinearSolve.choleskySolve(sub, rhs)
    }
}
