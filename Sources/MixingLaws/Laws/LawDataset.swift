/// Observations a law is fitted to: one row of features (for example `N, D`, or a mixture's
/// shares) and the measured loss per row.
public struct LawDataset: Sendable, Equatable {
    /// What each feature column is (`N`, `D`, `r`, or a domain name).
    public let featureNames: [String]
    /// Row-major features, `count × featureNames.count`.
    public let features: [Double]
    /// The measured loss of each row.
    public let losses: [Double]

    public init(featureNames: [String], rows: [[Double]], losses: [Double]) {
        precondition(rows.count == losses.count, "one loss per row")
        precondition(rows.allSatisfy { $0.count == featureNames.count }, "every row needs one value per feature")
        self.featureNames = featureNames
        self.features = rows.flatMap { $0 }
        self.losses = losses
    }

    public init(featureNames: [String], features: [Double], losses: [Double]) {
        precondition(features.count == losses.count * featureNames.count, "feature matrix shape")
        self.featureNames = featureNames
        self.features = features
        self.losses = losses
    }

    public var count: Int { losses.count }
    public var width: Int { featureNames.count }

    public func row(_ index: Int) -> ArraySlice<Double> {
        features[(index * width)..<((index + 1) * width)]
    }

    public var rows: [[Double]] { (0..<count).map { Array(row($0)) } }

    /// The rows at `indices` (repeats allowed, for bootstrap resamples).
    public func subset(_ indices: [Int]) -> LawDataset {
        var f: [Double] = []
        f.reserveCapacity(indices.count * width)
        for i in indices { f.append(contentsOf: row(i)) }
        return LawDataset(featureNames: featureNames, features: f, losses: indices.map { losses[$0] })
    }
}
