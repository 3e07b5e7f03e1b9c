/// Uncertainty of a recommended mixture by the bootstrap over runs (laws.md §5.2): resample the
/// runs with replacement, refit, re-solve, and report percentile intervals of every domain's
/// share and of the predicted loss. Resamples whose fit or solve fails are counted and reported.
///
/// Resampled run sets are drawn in order from one seeded generator before any fitting, and the
/// refits run in parallel with results collected in resample order, so the intervals depend only
/// on the seed.
public struct RecommendationBootstrap: Sendable, Equatable {
    /// What one refit-and-solve produces: the recommended shares and their predicted loss.
    public struct Estimate: Sendable, Equatable {
        public var shares: [Double]
        public var predictedLoss: Double

        public init(shares: [Double], predictedLoss: Double) {
            self.shares = shares
            self.predictedLoss = predictedLoss
        }
    }

    /// Number of resamples `B`.
    public var resamples: Int
    /// Coverage of the percentile intervals, for example 0.95.
    public var confidence: Double
    public var seed: UInt64
    public var parallel = true

    public init(resamples: Int = 200, confidence: Double = 0.95, seed: UInt64 = 0) {
        self.resamples = resamples
        self.confidence = confidence
        self.seed = seed
    }

    /// The row indices of each resample: groups drawn with replacement, each contributing all of
    /// its rows (so a group drawn twice appears twice).
    public func resampledRows<Group: Hashable>(groups: [Group]) -> [[Int]] {
        let rowsOfGroup = GroupedRows.rows(of: groups)
        var rng = SeededRandom(seed: seed)
        return (0..<resamples).map { _ in
            var rows: [Int] = []
            for _ in rowsOfGroup.indices {
                let pick = min(Int(rng.nextUniform() * Double(rowsOfGroup.count)), rowsOfGroup.count - 1)
                rows.append(contentsOf: rowsOfGroup[pick])
            }
            return rows
        }
    }

    /// Runs the bootstrap.
    ///
    /// - Parameters:
    ///   - groups: The run (or mixture) of every row; whole groups are resampled.
    ///   - refitAndSolve: Fits on the given rows (indices into the caller's data, repeats
    ///     allowed) and returns the recommendation of that fit.
    /// - Throws: ``LawFitError`` for invalid settings, fewer than two groups, estimates of
    ///   differing widths, or fewer than two resamples that could be fitted.
    public func run<Group: Hashable>(
        groups: [Group], refitAndSolve: @Sendable (_ rows: [Int]) throws -> Estimate
    ) throws -> RecommendationInterval {
        guard resamples >= 2 else { throw LawFitError("bootstrap: resamples is \(resamples); use at least 2 (200 or more for 95% intervals)") }
        guard confidence > 0, confidence < 1 else {
            throw LawFitError("bootstrap: confidence is \(confidence); use a value strictly between 0 and 1, such as 0.95")
        }
        guard Set(groups).count >= 2 else {
            throw LawFitError("bootstrap: needs at least 2 runs to resample, got \(Set(groups).count)")
        }
        let samples = resampledRows(groups: groups)
        let outcomes = ParallelMap.map(count: samples.count, parallel: parallel) { index -> Result<Estimate, LawFitError> in
            do {
                let estimate = try refitAndSolve(samples[index])
                guard estimate.predictedLoss.isFinite, estimate.shares.allSatisfy(\.isFinite) else {
                    return .failure(LawFitError("the recommendation or its predicted loss is not finite"))
                }
                return .success(estimate)
            } catch {
                return .failure(LawFitError("\(error)"))
            }
        }
        var estimates: [Estimate] = []
        var failures: [String] = []
        for outcome in outcomes {
            switch outcome {
            case .success(let estimate): estimates.append(estimate)
            case .failure(let error): failures.append(error.message)
            }
        }
        guard estimates.count >= 2 else {
            throw LawFitError(
                "bootstrap: only \(estimates.count) of \(resamples) resamples could be fitted; first failure: \(failures.first ?? "none")")
        }
        let width = estimates[0].shares.count
        guard estimates.allSatisfy({ $0.shares.count == width }) else {
            throw LawFitError("bootstrap: the solve returned recommendations of different widths; return one share per domain every time")
        }
        var distinctFailures: [String] = []
        for message in failures where !distinctFailures.contains(message) && distinctFailures.count < 5 {
            distinctFailures.append(message)
        }
        return RecommendationInterval(
            confidence: confidence,
            shares: (0..<width).map { j in PercentileInterval(of: estimates.map { $0.shares[j] }, confidence: confidence) },
            predictedLoss: PercentileInterval(of: estimates.map(\.predictedLoss), confidence: confidence),
            resamples: resamples, failedResamples: failures.count, failureMessages: distinctFailures)
    }
}

/// Percentile intervals of a recommendation over bootstrap resamples.
public struct RecommendationInterval: Sendable, Equatable {
    public var confidence: Double
    /// One interval per domain, in the order of the recommended shares.
    public var shares: [PercentileInterval]
    public var predictedLoss: PercentileInterval
    /// Resamples attempted.
    public var resamples: Int
    /// Resamples whose refit or solve failed; they are left out of the intervals.
    public var failedResamples: Int
    /// Up to five distinct failure messages, in order of first occurrence.
    public var failureMessages: [String]
}
