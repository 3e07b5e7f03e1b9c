/// A percentile interval of a bootstrap distribution, with its median.
public struct PercentileInterval: Sendable, Equatable, Codable {
    public var lower: Double
    public var median: Double
    public var upper: Double

    public init(lower: Double, median: Double, upper: Double) {
        self.lower = lower
        self.median = median
        self.upper = upper
    }

    /// The central `confidence` interval of `values` (linearly interpolated quantiles, numpy's
    /// default); `values` must not be empty.
    public init(of values: [Double], confidence: Double) {
        let sorted = values.sorted()
        let tail = (1 - confidence) / 2
        self.init(
            lower: Self.quantile(sorted, tail), median: Self.quantile(sorted, 0.5),
            upper: Self.quantile(sorted, 1 - tail))
    }

    public func contains(_ value: Double) -> Bool { lower <= value && value <= upper }

    /// The `q`-quantile of ascending `sorted`, interpolating between order statistics.
    public static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        precondition(!sorted.isEmpty, "quantile of no values")
        let position = q * Double(sorted.count - 1)
        let below = min(max(Int(position.rounded(.down)), 0), sorted.count - 1)
        let above = min(below + 1, sorted.count - 1)
        return sorted[below] + (position - Double(below)) * (sorted[above] - sorted[below])
    }
}
