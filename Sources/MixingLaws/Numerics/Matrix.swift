/// A dense row-major matrix of doubles, just big enough for the regressions and small systems
/// the fitters need (design matrices of a few thousand rows, Gram matrices of a few columns).
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var storage: [Double]

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.rows = rows
        self.columns = columns
        self.storage = Array(repeating: value, count: rows * columns)
    }

    /// Builds a matrix from equally long rows.
    public init(rowArrays: [[Double]]) {
        let columns = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == columns }, "ragged matrix rows")
        self.rows = rowArrays.count
        self.columns = columns
        self.storage = rowArrays.flatMap { $0 }
    }

    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    public func row(_ index: Int) -> ArraySlice<Double> {
        storage[(index * columns)..<((index + 1) * columns)]
    }

    /// `Aᵀ A`.
    public func gram() -> Matrix {
        var g = Matrix(rows: columns, columns: columns)
        for r in 0..<rows {
            let base = r * columns
            for i in 0..<columns {
                let a = storage[base + i]
                if a == 0 { continue }
                for j in i..<columns { g.storage[i * columns + j] += a * storage[base + j] }
            }
        }
        for i in 0..<columns { for j in 0..<i { g.storage[i * columns + j] = g.storage[j * columns + i] } }
        return g
    }

    /// `Aᵀ v`.
    public func transposeTimes(_ v: [Double]) -> [Double] {
        precondition(v.count == rows)
        var out = Array(repeating: 0.0, count: columns)
        for r in 0..<rows {
            let x = v[r]
            if x == 0 { continue }
            let base = r * columns
            for c in 0..<columns { out[c] += storage[base + c] * x }
        }
        return out
    }

    /// `A v`.
    public func times(_ v: [Double]) -> [Double] {
        precondition(v.count == columns)
        var out = Array(repeating: 0.0, count: rows)
        for r in 0..<rows {
            var s = 0.0
            let base = r * columns
            for c in 0..<columns { s += storage[base + c] * v[c] }
            out[r] = s
        }
        return out
    }
}

/// Dense least-squares and symmetric solves used by the regressions and NNLS.
public enum LinearSolve {
    /// Solves `min ‖A x − b‖₂` by Householder QR with column pivoting.
    ///
    /// Columns whose pivot falls below `relativeRankTolerance · |R₀₀|` are treated as dependent
    /// and get coefficient 0 (a basic solution). Predictions on points in the row space of `A`
    /// are the same for every least-squares solution, so this is safe for collinear designs such
    /// as mixture shares plus an intercept.
    public static func leastSquares(_ a: Matrix, _ b: [Double], relativeRankTolerance: Double = 1e-12) -> (solution: [Double], rank: Int) {
        precondition(b.count == a.rows, "right-hand side length must equal the row count")
        let m = a.rows, n = a.columns
        var r = a.storage
        var rhs = b
        var perm = Array(0..<n)
        var norms = (0..<n).map { c in (0..<m).reduce(0.0) { $0 + r[$1 * n + c] * r[$1 * n + c] } }
        let steps = min(m, n)
        var rank = 0
        var firstPivot = 0.0
        for k in 0..<steps {
            // pivot: the remaining column with the largest norm
            var best = k
            for c in (k + 1)..<max(n, k + 1) where c < n && norms[c] > norms[best] { best = c }
            if best != k {
                for row in 0..<m { r.swapAt(row * n + k, row * n + best) }
                norms.swapAt(k, best)
                perm.swapAt(k, best)
            }
            var alpha = 0.0
            for row in k..<m { alpha += r[row * n + k] * r[row * n + k] }
            alpha = alpha.squareRoot()
            if k == 0 { firstPivot = alpha }
            if alpha <= relativeRankTolerance * firstPivot || alpha == 0 { break }
            if r[k * n + k] > 0 { alpha = -alpha }
            // Householder vector v = x − alpha e1, stored in place
            r[k * n + k] -= alpha
            var vnorm2 = 0.0
            for row in k..<m { vnorm2 += r[row * n + k] * r[row * n + k] }
            if vnorm2 > 0 {
                for c in (k + 1)..<max(n, k + 1) where c < n {
                    var dot = 0.0
                    for row in k..<m { dot += r[row * n + k] * r[row * n + c] }
                    let f = 2 * dot / vnorm2
                    for row in k..<m { r[row * n + c] -= f * r[row * n + k] }
                }
                var dot = 0.0
                for row in k..<m { dot += r[row * n + k] * rhs[row] }
                let f = 2 * dot / vnorm2
                for row in k..<m { rhs[row] -= f * r[row * n + k] }
            }
            r[k * n + k] = alpha
            for c in (k + 1)..<max(n, k + 1) where c < n {
                norms[c] = 0
                for row in (k + 1)..<m { norms[c] += r[row * n + c] * r[row * n + c] }
            }
            rank = k + 1
        }
        var x = Array(repeating: 0.0, count: n)
        var i = rank - 1
        while i >= 0 {
            var s = rhs[i]
            for c in (i + 1)..<rank { s -= r[i * n + c] * x[c] }
            x[i] = s / r[i * n + i]
            i -= 1
        }
        var solution = Array(repeating: 0.0, count: n)
        for k in 0..<n { solution[perm[k]] = x[k] }
        return (solution, rank)
    }

    /// Solves the symmetric positive definite system `G x = b` by Cholesky; returns nil when `G`
    /// is not numerically positive definite.
    public static func choleskySolve(_ g: Matrix, _ b: [Double]) -> [Double]? {
        let n = g.rows
        var l = Array(repeating: 0.0, count: n * n)
        for j in 0..<n {
            var d = g[j, j]
            for k in 0..<j { d -= l[j * n + k] * l[j * n + k] }
            if !(d > 1e-300) { return nil }
            let ljj = d.squareRoot()
            l[j * n + j] = ljj
            for i in (j + 1)..<max(n, j + 1) where i < n {
                var s = g[i, j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = s / ljj
            }
        }
        var y = b
        for i in 0..<n {
            for k in 0..<i { y[i] -= l[i * n + k] * y[k] }
            y[i] /= l[i * n + i]
        }
        var i = n - 1
        while i >= 0 {
            for k in (i + 1)..<n { y[i] -= l[k * n + i] * y[k] }
            y[i] /= l[i * n + i]
            i -= 1
        }
        return y
    }
}
