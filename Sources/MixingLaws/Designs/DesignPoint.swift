/// One planned proxy run of a sweep: the mixture it trains on and, for designs that also vary
/// scale (the D-CPT grid), its model size `N` and training tokens `D`.
public struct DesignPoint: Sendable, Hashable, Codable {
    /// One share per design domain, in the design's domain order; non-negative, summing to 1.
    public var shares: [Double]
    /// Model size `N` in parameters, when the design varies it.
    public var parameterCount: Double?
    /// Training tokens `D` (a budget or a checkpoint), when the design varies it.
    public var tokens: Double?

    public init(shares: [Double], parameterCount: Double? = nil, tokens: Double? = nil) {
        self.shares = shares
        self.parameterCount = parameterCount
        self.tokens = tokens
    }
}

/// The points a ``SweepDesign`` expands to, with warnings about what the design cannot support
/// (for example too few model sizes to fit an `N` dependence).
public struct GeneratedDesign: Sendable, Equatable {
    public var domains: [String]
    public var points: [DesignPoint]
    /// Human-readable caveats; an empty list means none.
    public var warnings: [String]

    public init(domains: [String], points: [DesignPoint], warnings: [String] = []) {
        self.domains = domains
        self.points = points
        self.warnings = warnings
    }

    /// The mixture of every point, in point order.
    public var mixtures: [[Double]] { points.map(\.shares) }
}

/// Why a sweep design could not be generated; the message names the field, row or domain at
/// fault and how to fix it.
public struct DesignError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
