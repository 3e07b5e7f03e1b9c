import Foundation

/// The per-round arithmetic of Aioli (design `aioli.md` §2.4–§2.5 and §1.4), as pure functions on
/// small dense matrices stored as arrays of rows.
///
/// Sign convention: `A[i][j] > 0` means training on domain `j` lowers the held-out loss of
/// domain `i`.
public enum AioliMath {
    /// The smoothed one-hot mixture `q_j`: `oneHotFactor` on `domain`, the rest spread evenly.
    public static func perturbedMixture(domain: Int, domainCount: Int, oneHotFactor: Double) -> [Double] {
        let other = (1 - oneHotFactor) / Double(domainCount - 1)
        return (0..<domainCount).map { $0 == domain ? oneHotFactor : other }
    }

    /// Undoes the smoothing of the perturbed mixtures: returns `A` with `B[i][j] = Σ_l A[i][l]·q_j[l]`.
    ///
    /// `meanDrops[i][j]` is the mean drop of domain `i`'s loss over the intervals trained on
    /// `q_j`. With `β = (1 − f)/(m − 1)` and `α = f − β` the mixture matrix is `Q = α·I + β·11ᵀ`,
    /// whose inverse is `(I − β·11ᵀ)/α`, so each entry is `(B[i][l] − β·Σ_j B[i][j]) / α`.
    /// The closed form needs no general solve, and ``AioliConfiguration`` rejects the only
    /// singular case, `f = 1/m` (`α = 0`, pitfall P5). At `f = 1` it returns `B` unchanged.
    public static func interactionMatrix(meanDrops: [[Double]], oneHotFactor: Double) -> [[Double]] {
        let m = meanDrops.count
        let beta = (1 - oneHotFactor) / Double(m - 1)
        let alpha = oneHotFactor - beta
        return meanDrops.map { row in
            let total = row.reduce(0, +)
            return row.map { ($0 - beta * total) / alpha }
        }
    }

    /// The general form of ``interactionMatrix(meanDrops:oneHotFactor:)`` for mixtures the
    /// trainer could not realise exactly (design §2.6; pitfall P4): row `j` of `mixtures` is the
    /// mean composition actually trained on in the intervals meant for `q_j`, and each row `i`
    /// of `A` solves `Q·A[i]ᵀ = B[i]ᵀ`.
    ///
    /// - Returns: nil when `Q` is numerically singular (rank below `m` at a relative pivot
    ///   tolerance of 1e-10), e.g. when two perturbed intervals trained on the same composition;
    ///   there is then no unique `A` and the caller must not update.
    public static func interactionMatrix(meanDrops: [[Double]], mixtures: [[Double]]) -> [[Double]]? {
        let q = Matrix(rowArrays: mixtures)
        var rows: [[Double]] = []
        for dropRow in meanDrops {
            let solved = LinearSolve.leastSquares(q, dropRow, relativeRankTolerance: 1e-10)
            guard solved.rank == mixtures.count else { return nil }
            rows.append(solved.solution)
        }
        return rows
    }

    /// Shifts `A` so its smallest entry is 0 when any entry is negative, then divides by the sum
    /// of all entries (design §2.5). The division makes the column sums non-negative and add up
    /// to 1, so one update changes the ratio of two proportions by at most `e^η`.
    ///
    /// - Returns: nil when the sum to divide by is not positive and finite — `A` all zero, or all
    ///   entries equal and negative. The released code divides anyway and produces NaN
    ///   proportions (pitfall P6); the controller skips the update instead.
    public static func normalised(_ matrix: [[Double]]) -> [[Double]]? {
        let smallest = matrix.lazy.flatMap { $0 }.min() ?? 0
        let shift = smallest < 0 ? -smallest : 0
        let shifted = matrix.map { row in row.map { $0 + shift } }
        let total = shifted.lazy.flatMap { $0 }.reduce(0, +)
        guard total > 0, total.isFinite else { return nil }
        return shifted.map { row in row.map { $0 / total } }
    }

    /// `colsum(X)_j = Σ_i X[i][j]`: how much one unit of domain `j` lowers the summed loss, the
    /// negative gradient of the round's objective with respect to `p_j` (§1.4).
    public static func columnSums(_ matrix: [[Double]]) -> [Double] {
        guard let width = matrix.first?.count else { return [] }
        var sums = [Double](repeating: 0, count: width)
        for row in matrix {
            for j in 0..<width { sums[j] += row[j] }
        }
        return sums
    }

    /// One exponentiated-gradient (multiplicative-weights) step on the simplex:
    /// `p_j ∝ p_j·exp(η·gains_j)`, normalised to sum to 1.
    ///
    /// It is computed as a softmax of `ln p_j + η·gains_j` with ``LogSumExp``, so large
    /// cumulative updates neither overflow nor underflow, and the result is renormalised every
    /// round rather than carried as unbounded weights (pitfall P8). A share that is exactly 0 stays 0.
    /// (The library's ``MixtureSolver/exponentiatedGradient`` is a full line-searched solver for a
    /// loss model; Aioli needs this single fixed-step update.)
    public static func exponentiatedGradientStep(from proportions: [Double], gains: [Double], eta: Double) -> [Double] {
        let logits = zip(proportions, gains).map { p, gain in p > 0 ? log(p) + eta * gain : -Double.infinity }
        let total = LogSumExp.value(logits)
        return logits.map { $0 == -Double.infinity ? 0 : exp($0 - total) }
    }

    /// `E ← (1 − γ)·current + γ·previous` (pitfall P9: `γ` weights the *previous* matrix).
    public static func exponentialAverage(current: [[Double]], previous: [[Double]], previousWeight: Double) -> [[Double]] {
        zip(current, previous).map { rowNow, rowBefore in
            zip(rowNow, rowBefore).map { (1 - previousWeight) * $0 + previousWeight * $1 }
        }
    }
}
