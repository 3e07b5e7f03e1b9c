/// Box constraints `lower ≤ x ≤ upper` for an optimiser; infinite ends mean "unbounded".
public struct Box: Sendable, Equatable {
    public var lower: [Double]
    public var upper: [Double]

    public init(lower: [Double], upper: [Double]) {
        precondition(lower.count == upper.count, "bounds of different lengths")
        precondition(zip(lower, upper).allSatisfy { $0 <= $1 }, "a lower bound exceeds its upper bound")
        self.lower = lower
        self.upper = upper
    }

    /// No bounds on `dimension` variables.
    public static func unbounded(_ dimension: Int) -> Box {
        Box(lower: Array(repeating: -.infinity, count: dimension), upper: Array(repeating: .infinity, count: dimension))
    }

    public init(_ ranges: [ClosedRange<Double>]) {
        self.init(lower: ranges.map(\.lowerBound), upper: ranges.map(\.upperBound))
    }

    public var dimension: Int { lower.count }

    public func project(_ x: inout [Double]) {
        for i in x.indices { x[i] = min(max(x[i], lower[i]), upper[i]) }
    }

    public func projected(_ x: [Double]) -> [Double] {
        var y = x
        project(&y)
        return y
    }

    public func contains(_ x: [Double]) -> Bool {
        x.indices.allSatisfy { x[$0] >= lower[$0] && x[$0] <= upper[$0] }
    }
}
