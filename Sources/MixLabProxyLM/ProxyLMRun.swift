import MixLabCore

/// Where a training run's reports go (the trainer-protocol socket, or JSON lines on stdout).
public protocol ProxyLMReporter {
    mutating func eval(step: Int, tokens: Int, losses: [String: Double]) throws
    mutating func progress(step: Int, tokens: Int) throws
    /// Online runs: the next segment to train, or `nil` to stop.
    mutating func next(step: Int) throws -> ProxyLMSegment?
    mutating func done() throws
}

/// One round of an online run: train `steps` steps on `weights`.
public struct ProxyLMSegment: Sendable, Hashable {
    public var weights: [String: Double]
    public var steps: Int

    public init(weights: [String: Double], steps: Int) {
        self.weights = weights
        self.steps = steps
    }
}

/// Drives a ``ProxyLMTrainer`` through a whole run: training steps, held-out evaluations every
/// `evalEvery` steps and after each of `evalSteps` (and at the end, and at every online segment
/// boundary), progress reports at least every `progressInterval`, then `done`.
public struct ProxyLMRun {
    /// How long the run is: a fixed number of steps on the initial mixture, or online segments
    /// requested with `next` until the reporter answers stop.
    public enum Length: Sendable, Hashable {
        case steps(Int)
        case online
    }

    public var length: Length
    /// Steps between held-out evaluations; 0 evaluates only at the end (and segment boundaries).
    public var evalEvery: Int
    /// Further steps after which to evaluate (checkpoints of a D-CPT design).
    public var evalSteps: Set<Int>
    public var progressInterval: Duration

    public init(length: Length, evalEvery: Int = 0, evalSteps: Set<Int> = [], progressInterval: Duration = .seconds(2)) {
        self.length = length
        self.evalEvery = evalEvery
        self.evalSteps = evalSteps
        self.progressInterval = progressInterval
    }

    /// What a finished run measured.
    public struct Summary: Sendable, Hashable {
        public var steps: Int
        public var tokens: Int
        public var finalLosses: [String: Double]
        /// Wall-clock seconds spent in training steps (evaluations excluded).
        public var trainingSeconds: Double
        public var evaluationSeconds: Double
        public var trainingFLOPsPerToken: Int

        public var tokensPerSecond: Double { trainingSeconds > 0 ? Double(tokens) / trainingSeconds : 0 }
        /// Effective training throughput, counting 6 FLOPs per dense weight per token.
        public var gigaFLOPsPerSecond: Double { tokensPerSecond * Double(trainingFLOPsPerToken) / 1e9 }
    }

    public func run(_ trainer: ProxyLMTrainer, reporter: inout some ProxyLMReporter) throws -> Summary {
        let clock = ContinuousClock()
        var trainingTime = Duration.zero, evaluationTime = Duration.zero
        var lastReport = clock.now
        var lastEvaluation: (step: Int, losses: [String: Double])?

        func evaluate() throws -> [String: Double] {
            let start = clock.now
            let losses = trainer.evaluate()
            evaluationTime += clock.now - start
            try reporter.eval(step: trainer.step, tokens: trainer.tokens, losses: losses)
            lastEvaluation = (trainer.step, losses)
            lastReport = clock.now
            return losses
        }

        func train(steps: Int) throws {
            for _ in 0..<steps {
                let start = clock.now
                trainer.trainStep()
                let now = clock.now
                trainingTime += now - start
                if (evalEvery > 0 && trainer.step % evalEvery == 0) || evalSteps.contains(trainer.step) {
                    _ = try evaluate()
                } else if now - lastReport >= progressInterval {
                    try reporter.progress(step: trainer.step, tokens: trainer.tokens)
                    lastReport = now
                }
            }
        }

        switch length {
        case .steps(let steps):
            try train(steps: steps)
        case .online:
            while let segment = try reporter.next(step: trainer.step) {
                try trainer.setWeights(segment.weights)
                try train(steps: segment.steps)
                if lastEvaluation?.step != trainer.step { _ = try evaluate() }
            }
        }
        let finalLosses: [String: Double]
        if let lastEvaluation, lastEvaluation.step == trainer.step {
            finalLosses = lastEvaluation.losses
            try reporter.eval(step: trainer.step, tokens: trainer.tokens, losses: finalLosses)
        } else {
            finalLosses = try evaluate()
        }
        try reporter.done()
        return Summary(
            steps: trainer.step, tokens: trainer.tokens, finalLosses: finalLosses, trainingSeconds: trainingTime.seconds,
            evaluationSeconds: evaluationTime.seconds,
            trainingFLOPsPerToken: trainer.configuration.architecture.trainingFLOPsPerToken)
    }
}

extension Duration {
    var seconds: Double {
        inSeconds
    }
}
