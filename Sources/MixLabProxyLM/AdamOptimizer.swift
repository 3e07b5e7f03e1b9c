/// Adam (Kingma & Ba) over a flat parameter vector, in PyTorch's formulation:
/// `p -= lr/(1-β1ᵗ) · m / (√v/√(1-β2ᵗ) + ε)`.
public struct AdamOptimizer: Sendable {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public private(set) var step = 0
    private var beta1Power = 1.0
    private var beta2Power = 1.0
    private var firstMoment: [Float]
    private var secondMoment: [Float]

    public init(parameterCount: Int, learningRate: Float = 3e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoment = [Float](repeating: 0, count: parameterCount)
        secondMoment = [Float](repeating: 0, count: parameterCount)
    }

    /// Everything the optimiser carries from step to step (the hyper-parameters excluded), for
    /// checkpoints.
    public struct State: Sendable, Equatable {
        public var step: Int
        public var beta1Power: Double
        public var beta2Power: Double
        public var firstMoment: [Float]
        public var secondMoment: [Float]

        public init(step: Int, beta1Power: Double, beta2Power: Double, firstMoment: [Float], secondMoment: [Float]) {
            self.step = step
            self.beta1Power = beta1Power
            self.beta2Power = beta2Power
            self.firstMoment = firstMoment
            self.secondMoment = secondMoment
        }
    }

    /// Everything the optimizer carries between steps, to save in a checkpoint and restore from one;
    /// setting a state of another parameter count is a programming error (checked by a precondition).
    public var state: State {
        get {
            State(step: step, beta1Power: beta1Power, beta2Power: beta2Power, firstMoment: firstMoment, secondMoment: secondMoment)
        }
        set {
            precondition(
                newValue.firstMoment.count == firstMoment.count && newValue.secondMoment.count == secondMoment.count,
                "optimizer state of another parameter count")
            step = newValue.step
            beta1Power = newValue.beta1Power
            beta2Power = newValue.beta2Power
            firstMoment = newValue.firstMoment
            secondMoment = newValue.secondMoment
        }
    }

    public mutating func update(_ parameters: inout [Float], gradient: [Float]) {
        precondition(parameters.count == firstMoment.count && gradient.count == firstMoment.count, "size mismatch")
        step += 1
        beta1Power *= Double(beta1)
        beta2Power *= Double(beta2)
        let stepSize = learningRate / Float(1 - beta1Power)
        let secondCorrection = Float(1 / (1 - beta2Power).squareRoot())
        let (beta1, beta2, epsilon) = (beta1, beta2, epsilon)
        let count = parameters.count
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        Kernels.adamUpdate(
                            parameters: p.baseAddress!, gradient: g.baseAddress!, firstMoment: m.baseAddress!,
                            secondMoment: v.baseAddress!, count: count, beta1: beta1, beta2: beta2, epsilon: epsilon,
                            stepSize: stepSize, secondCorrection: secondCorrection)
                    }
                }
            }
        }
    }
}
