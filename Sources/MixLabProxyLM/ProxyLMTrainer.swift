import MixLabCore

/// Trains a ``ByteLM`` on a mixture of byte domains, from scratch or from a
/// ``ProxyLMCheckpoint``, and measures its held-out loss.
///
/// Each step draws one domain from the current ``weights`` and `batch` uniformly random positions
/// of that domain's training text, then takes one Adam step on the batch's mean cross-entropy.
/// Everything random comes from SplitMix64 streams derived from the seed, and the arithmetic runs
/// on one thread in a fixed order, so the same seed gives bit-identical losses.
public final class ProxyLMTrainer {
    public let configuration: ProxyLMConfiguration
    public let domains: [ByteDomain]
    public private(set) var model: ByteLM
    public private(set) var step = 0
    /// Sampling weight of each domain (same order as ``domains``), normalised.
    public private(set) var weights: [Double]
    private var optimizer: AdamOptimizer
    private let workspace: ByteLMWorkspace
    private var gradient: [Float]
    private var sampler: SplitMix64
    private var contexts: [UInt8]
    private var targets: [UInt8]

    /// Rows of one forward pass during evaluation.
    static let evaluationChunk = 256

    /// - Throws: ``MixLabInputError`` for an empty domain text, a duplicate name or bad weights.
    public init(configuration: ProxyLMConfiguration, domains: [ByteDomain], weights: [String: Double]) throws(MixLabInputError) {
        try configuration.validate()
        guard !domains.isEmpty else { throw MixLabInputError(field: "domains", problem: "is empty", fix: "give at least one domain") }
        for domain in domains {
            guard !domain.train.isEmpty else {
                throw MixLabInputError(field: "domain \(domain.name) train text", problem: "is empty", fix: "give it some training text")
            }
            guard !domain.valid.isEmpty else {
                throw MixLabInputError(field: "domain \(domain.name) valid text", problem: "is empty", fix: "give it some held-out text")
            }
        }
        guard Set(domains.map(\.name)).count == domains.count else {
            throw MixLabInputError(field: "domains", problem: "name a domain twice", fix: "give each domain once")
        }
        if configuration.testBytes > 0 {
            for domain in domains where domain.valid.count < configuration.evalBytes + configuration.testBytes {
                throw MixLabInputError(
                    field: "--test-bytes \(configuration.testBytes)",
                    problem: "needs \(configuration.evalBytes + configuration.testBytes) bytes of valid.txt for domain \(domain.name) (--eval-bytes + --test-bytes), but it has \(domain.valid.count)",
                    fix: "lower --test-bytes or --eval-bytes, or give \(domain.name) a longer valid.txt")
            }
        }
        self.configuration = configuration
        self.domains = domains
        let architecture = configuration.architecture
        model = ByteLM(architecture: architecture, seed: configuration.seed)
        optimizer = AdamOptimizer(
            parameterCount: architecture.parameterCount, learningRate: configuration.learningRate,
            beta1: configuration.beta1, beta2: configuration.beta2, epsilon: configuration.epsilon)
        let capacity = max(configuration.batch, Self.evaluationChunk)
        workspace = ByteLMWorkspace(architecture: architecture, capacity: capacity)
        gradient = [Float](repeating: 0, count: architecture.parameterCount)
        sampler = SplitMix64(seed: configuration.seed)
        contexts = [UInt8](repeating: 0, count: capacity * architecture.context)
        targets = [UInt8](repeating: 0, count: capacity)
        self.weights = []
        try setWeights(weights)
    }

    /// Training tokens seen so far (`step × batch`).
    public var tokens: Int { step * configuration.batch }

    /// How a run started from a checkpoint goes on.
    public enum Continuation: Sendable, Hashable {
        /// Continual pre-training: the checkpoint's weights with a fresh Adam state, step and
        /// token count 0, and the data order of this run's seed.
        case restart
        /// The same run, continued: Adam's moments, the step and token counts and the data order
        /// carry over (the batch must match), so saving and resuming is bit-identical to not stopping.
        case resume
    }

    /// The whole training state at this step.
    public func checkpoint() -> ProxyLMCheckpoint {
        ProxyLMCheckpoint(
            architecture: configuration.architecture, batch: configuration.batch, parameters: model.parameters,
            optimizer: optimizer.state, step: step, tokens: tokens, samplerState: sampler.state)
    }

    /// Takes the weights (and, with `.resume`, the optimiser state, step and data order) of
    /// `checkpoint`; `source` names it in errors (e.g. `--init-from PATH`).
    ///
    /// - Throws: ``MixLabInputError`` when the checkpoint's architecture differs from this run's
    ///   (naming the flags to change), or a resume would change the batch.
    public func load(_ checkpoint: ProxyLMCheckpoint, _ continuation: Continuation, source: String) throws(MixLabInputError) {
        let mine = configuration.architecture, theirs = checkpoint.architecture
        guard mine == theirs else {
            let differences = [
                ("--context", mine.context, theirs.context), ("--embedding", mine.embedding, theirs.embedding),
                ("--hidden (or --model-size)", mine.hidden, theirs.hidden), ("--layers", mine.layers, theirs.layers),
            ].filter { $0.1 != $0.2 }
            throw MixLabInputError(
                field: source,
                problem: "holds a model of another shape (\(theirs)) than this run's (\(mine))",
                fix: "give " + differences.map { "\($0.0) \($0.2)" }.joined(separator: ", ") + " as the checkpoint was trained, or a checkpoint of this shape")
        }
        switch continuation {
        case .restart:
            model.parameters = checkpoint.parameters
            optimizer = AdamOptimizer(
                parameterCount: mine.parameterCount, learningRate: configuration.learningRate, beta1: configuration.beta1,
                beta2: configuration.beta2, epsilon: configuration.epsilon)
            step = 0
            sampler = SplitMix64(seed: configuration.seed)
        case .resume:
            guard checkpoint.batch == configuration.batch else {
                throw MixLabInputError(
                    field: source, problem: "was trained with --batch \(checkpoint.batch), this run has --batch \(configuration.batch)",
                    fix: "resume with --batch \(checkpoint.batch)")
            }
            model.parameters = checkpoint.parameters
            optimizer.state = checkpoint.optimizer
            step = checkpoint.step
            sampler = SplitMix64(seed: checkpoint.samplerState)
        }
    }

    /// Replaces the mixture. Domains not named get weight 0; weights are normalised.
    ///
    /// - Throws: ``MixLabInputError`` for an unknown domain, a negative or non-finite weight, or all zero.
    public func setWeights(_ named: [String: Double]) throws(MixLabInputError) {
        for (name, weight) in named {
            guard domains.contains(where: { $0.name == name }) else {
                throw MixLabInputError(
                    field: "mixture domain \(name)", problem: "has no data",
                    fix: "use one of \(domains.map(\.name).joined(separator: ", ")) or add its data directory")
            }
            guard weight.isFinite, weight >= 0 else {
                throw MixLabInputError(field: "mixture weight of \(name)", problem: "is \(weight)", fix: "use a finite weight ≥ 0")
            }
        }
        let raw = domains.map { named[$0.name] ?? 0 }
        let total = raw.reduce(0, +)
        guard total > 0 else {
            throw MixLabInputError(field: "mixture", problem: "gives every domain weight 0", fix: "give at least one domain a positive weight")
        }
        weights = raw.map { $0 / total }
    }

    /// One Adam step on one batch; returns the batch's mean training loss (nats per byte).
    @discardableResult
    public func trainStep() -> Double {
        let domainIndex = sampleDomain()
        let batch = configuration.batch, context = configuration.architecture.context
        domains[domainIndex].train.withUnsafeBufferPointer { text in
            contexts.withUnsafeMutableBufferPointer { contextBuffer in
                targets.withUnsafeMutableBufferPointer { targetBuffer in
                    for row in 0..<batch {
                        let position = sampler.nextIndex(below: text.count)
                        ByteDomain.gather(
                            text, position: position, context: context, row: row, contexts: contextBuffer, targets: targetBuffer)
                    }
                }
            }
        }
        let loss = workspace.meanLossAndGradient(model, contexts: contexts, targets: targets, rows: batch, gradient: &gradient)
        optimizer.update(&model.parameters, gradient: gradient)
        step += 1
        return loss
    }

    /// Trains `steps` steps and returns each step's training loss.
    @discardableResult
    public func train(steps: Int) -> [Double] {
        (0..<steps).map { _ in trainStep() }
    }

    /// Mean cross-entropy (nats per byte) of each domain on its fixed held-out slice, and with
    /// ``ProxyLMConfiguration/testBytes`` on its test slice, keyed ``testDomainName(_:)``.
    public func evaluate() -> [String: Double] {
        var losses: [String: Double] = [:]
        for domain in domains {
            let heldOut = heldOutPositions(domain)
            losses[domain.name] = meanLoss(domain, positions: 0..<heldOut)
            if configuration.testBytes > 0 {
                losses[Self.testDomainName(domain.name)] = meanLoss(domain, positions: heldOut..<heldOut + configuration.testBytes)
            }
        }
        return losses
    }

    /// The evaluation-only domain under which a domain's test-slice loss is reported.
    public static func testDomainName(_ domain: String) -> String { domain + ".test" }

    /// Held-out positions evaluated per domain (the start of `valid`).
    public func heldOutPositions(_ domain: ByteDomain) -> Int { min(configuration.evalBytes, domain.valid.count) }

    private func meanLoss(_ domain: ByteDomain, positions: Range<Int>) -> Double {
        let context = configuration.architecture.context
        var total = 0.0
        var start = positions.lowerBound
        while start < positions.upperBound {
            let rows = min(Self.evaluationChunk, positions.upperBound - start)
            domain.valid.withUnsafeBufferPointer { text in
                contexts.withUnsafeMutableBufferPointer { contextBuffer in
                    targets.withUnsafeMutableBufferPointer { targetBuffer in
                        for row in 0..<rows {
                            ByteDomain.gather(
                                text, position: start + row, context: context, row: row, contexts: contextBuffer,
                                targets: targetBuffer)
                        }
                    }
                }
            }
            total += workspace.totalLoss(model, contexts: contexts, targets: targets, rows: rows)
            start += rows
        }
        return total / Double(positions.count)
    }

    private func sampleDomain() -> Int {
        let u = sampler.nextUnit()
        var cumulative = 0.0
        for (index, weight) in weights.enumerated() where weight > 0 {
            cumulative += weight
            if u < cumulative { return index }
        }
        return weights.lastIndex { $0 > 0 }!
    }
}
