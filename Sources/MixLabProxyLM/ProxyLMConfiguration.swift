import MixLabCore

/// Everything that decides a ProxyLM training run besides its data and mixture: the model shape,
/// the optimiser, the batch and the held-out slice.
public struct ProxyLMConfiguration: Sendable, Hashable {
    public var architecture = ByteLMArchitecture()
    /// Positions per step, all drawn from one domain.
    public var batch = 64
    public var learningRate: Float = 3e-3
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    /// Held-out positions per domain: the first `evalBytes` bytes of each `valid` text.
    public var evalBytes = 16_384
    /// Test positions per domain, right after the held-out slice in each `valid` text; 0 for none.
    /// Reported as the evaluation-only domains `NAME.test` (see ``ProxyLMTrainer/testDomainName(_:)``),
    /// so a method can steer by the held-out slice while it is judged on text it never saw.
    public var testBytes = 0
    public var seed: UInt64 = 0

    public init() {}

    /// Hidden widths of the named model sizes (embedding 16, context 16, one layer).
    public static let modelSizes: [(name: String, hidden: Int)] = [
        ("tiny", 32), ("small", 64), ("medium", 96), ("large", 192), ("xl", 384),
    ]

    /// The model shape and the batch, each with its name, the flag that sets it and the range a run
    /// accepts: the one rule for both ``validate()`` and a checkpoint's header.
    static func shapeFields(
        architecture: ByteLMArchitecture, batch: Int
    ) -> [(name: String, flag: String, value: Int, range: ClosedRange<Int>)] {
        [
            ("context", "--context", architecture.context, 1...1024),
            ("embedding", "--embedding", architecture.embedding, 1...1024),
            ("hidden", "--hidden", architecture.hidden, 1...8192),
            ("layers", "--layers", architecture.layers, 1...2),
            ("batch", "--batch", batch, 1...65_536),
        ]
    }

    /// Checks every field is in range.
    ///
    /// - Throws: ``MixLabInputError`` naming the flag and a valid range.
    public func validate() throws(MixLabInputError) {
        func check(_ value: Int, _ flag: String, _ range: ClosedRange<Int>) throws(MixLabInputError) {
            guard range.contains(value) else {
                throw MixLabInputError(
                    field: flag, problem: "is \(value)", fix: "use a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
        }
        for field in Self.shapeFields(architecture: architecture, batch: batch) { try check(field.value, field.flag, field.range) }
        try check(evalBytes, "--eval-bytes", 1...100_000_000)
        try check(testBytes, "--test-bytes", 0...100_000_000)
        guard learningRate.isFinite, learningRate > 0 else {
            throw MixLabInputError(field: "--lr", problem: "is \(learningRate)", fix: "use a finite learning rate > 0, e.g. 3e-3")
        }
    }
}
