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
