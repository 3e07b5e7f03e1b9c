/// Held-out error of a fitting procedure by k-fold or leave-one-group-out cross-validation.
///
/// Folds are made of whole *groups* (a mixture, or a run with all its checkpoints), never of
/// single rows, so a run's checkpoints cannot leak between training and held-out sets
/// (laws.md §5.3). The fit is a closure, so any procedure can be evaluated: a ``ParametricLaw``
/// through ``LawFitter``, any ``MixtureLawFitter``, or a plain regression.
public struct CrossValidation: Sendable, Equatable {
    /// How groups are split into folds.
    public enum Scheme: Sendable, Equatable, Codable {
        /// `k` folds of groups, assigned at random from the seed (fold sizes differ by ≤ 1 group).
        case kFold(Int)
        /// One fold per group.
        case leaveOneGroupOut
    }

    public var scheme: Scheme
    /// Drives the fold assignment of `kFold`; the same seed gives the same folds.
    public var seed: UInt64
    /// Huber δ of the reported metrics, on the loss scale.
    public var huberDelta = 1e-3
    /// Fits the folds concurrently (results are combined in fold order either way).
    public var parallel = true

    public init(scheme: Scheme, seed: UInt64 = 0) {
        self.scheme = scheme
        self.seed = seed
    }

    /// The held-out rows of each fold, ascending within a fold. Groups are numbered in order of
    /// first appearance; leave-one-group-out folds follow that order.
    ///
    /// - Throws: ``LawFitError`` when there are fewer than two groups or `k` is outside
    ///   `2…groupCount`.
    public func folds<Group: Hashable>(groups: [Group]) throws -> [[Int]] {
        let rowsOfGroup = GroupedRows.rows(of: groups)
        guard rowsOfGroup.count >= 2 else {
            throw LawFitError("cross-validation needs at least 2 groups (mixtures or runs), got \(rowsOfGroup.count)")
        }
        switch scheme {
        case .leaveOneGroupOut:
            return rowsOfGroup
        case .kFold(let k):
            guard k >= 2, k <= rowsOfGroup.count else {
                throw LawFitError("k-fold cross-validation: k = \(k) but there are \(rowsOfGroup.count) groups; use 2 ≤ k ≤ \(rowsOfGroup.count)")
            }
            var order = Array(rowsOfGroup.indices)
            var rng = SeededRandom(seed: seed)
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                order.swapAt(i, min(Int(rng.nextUniform() * Double(i + 1)), i))
            }
            var folds = Array(repeating: [Int](), count: k)
            for (position, group) in order.enumerated() { folds[position % k].append(contentsOf: rowsOfGroup[group]) }
            return folds.map { $0.sorted() }
        }
    }

    /// Fits on each fold's training rows and predicts its held-out rows.
    ///
    /// - Parameters:
    ///   - observed: The measured loss of every row.
    ///   - groups: The group of every row (rows of one group are always held out together).
    ///   - fitAndPredict: Given the training rows and the held-out rows (both ascending row
    ///     indices), fits and returns one predicted loss per held-out row.
    /// - Returns: Pooled metrics over every held-out prediction plus per-fold metrics. A fold
    ///   whose fit throws or predicts a non-finite loss is reported in the result, not hidden.
    /// - Throws: ``LawFitError`` for mismatched inputs, invalid folds, or when no fold could be
    ///   fitted.
    public func evaluate<Group: Hashable>(
        observed: [Double], groups: [Group],
        fitAndPredict: @Sendable (_ training: [Int], _ heldOut: [Int]) throws -> [Double]
    ) throws -> CrossValidationReport {
        guard observed.count == groups.count else {
            throw LawFitError("cross-validation: \(observed.count) losses but \(groups.count) group ids; give one group id per row")
        }
        let folds = try self.folds(groups: groups)
        let rowCount = observed.count
        let outcomes = ParallelMap.map(count: folds.count, parallel: parallel) { index -> Result<[Double], LawFitError> in
            let heldOut = folds[index]
            var isHeldOut = Array(repeating: false, count: rowCount)
            for row in heldOut { isHeldOut[row] = true }
            let training = (0..<rowCount).filter { !isHeldOut[$0] }
            do {
                let predictions = try fitAndPredict(training, heldOut)
                guard predictions.count == heldOut.count else {
                    return .failure(LawFitError("returned \(predictions.count) predictions for \(heldOut.count) held-out rows"))
                }
                guard predictions.allSatisfy(\.isFinite) else {
                    return .failure(LawFitError("predicted a non-finite loss"))
                }
                return .success(predictions)
            } catch {
                return .failure(LawFitError("\(error)"))
            }
        }
        var predictions = [Double?](repeating: nil, count: rowCount)
        var reports: [CrossValidationReport.Fold] = []
        for (heldOut, outcome) in zip(folds, outcomes) {
            switch outcome {
            case .success(let predicted):
                for (row, value) in zip(heldOut, predicted) { predictions[row] = value }
                let metrics = FitMetrics(observed: heldOut.map { observed[$0] }, predicted: predicted, huberDelta: huberDelta)
                reports.append(.init(heldOutRows: heldOut, metrics: metrics, failure: nil))
            case .failure(let error):
                reports.append(.init(heldOutRows: heldOut, metrics: nil, failure: error.message))
            }
        }
        let predictedRows = predictions.indices.filter { predictions[$0] != nil }
        guard !predictedRows.isEmpty else {
            throw LawFitError("cross-validation: no fold could be fitted; first failure: \(reports.first?.failure ?? "unknown")")
        }
        let pooled = FitMetrics(
            observed: predictedRows.map { observed[$0] }, predicted: predictedRows.map { predictions[$0]! },
            huberDelta: huberDelta)
        return CrossValidationReport(pooled: pooled, folds: reports, predictions: predictions)
    }

    /// Group ids that put runs with identical mixtures in the same group (numbered in order of
    /// first appearance), the default grouping for held-out tests over mixtures.
    public static func groupsByMixture(_ mixtures: [[Double]]) -> [Int] {
        var ids: [[Double]: Int] = [:]
        return mixtures.map { mixture in
            if let id = ids[mixture] { return id }
            ids[mixture] = ids.count
            return ids.count - 1
        }
    }
}

/// The outcome of a ``CrossValidation``: held-out predictions and how well they match.
public struct CrossValidationReport: Sendable, Equatable {
    /// One fold's held-out rows and either its metrics or why its fit failed.
    public struct Fold: Sendable, Equatable {
        public var heldOutRows: [Int]
        /// Metrics on this fold's held-out rows; nil when the fit failed.
        public var metrics: FitMetrics?
        /// Why the fold could not be fitted, if it could not.
        public var failure: String?
    }

    /// Metrics of every held-out prediction pooled together (observed vs predicted).
    public var pooled: FitMetrics
    public var folds: [Fold]
    /// The held-out prediction of every row; nil for rows of failed folds.
    public var predictions: [Double?]

    /// How many folds could not be fitted.
    public var failedFolds: Int { folds.filter { $0.failure != nil }.count }
}
