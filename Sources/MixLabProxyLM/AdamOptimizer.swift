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
        let b1 = beta1, b2 = beta2, eps = epsilon
        let count = parameters.count
        parameters.withUnsafeMutableBufferPointer { p in
            gradient.withUnsafeBufferPointer { g in
                firstMoment.withUnsafeMutableBufferPointer { m in
                    secondMoment.withUnsafeMutableBufferPointer { v in
                        let p = p.baseAddress!, g = g.baseAddress!, m = m.baseAddress!, v = v.baseAddress!
                        var index = 0
                        while index + 8 <= count {
                            let gradient8 = MatrixKernels.load(g + index)
                            let m8 = MatrixKernels.load(m + index) * b1 + gradient8 * (1 - b1)
                            let v8 = MatrixKernels.load(v + index) * b2 + gradient8 * gradient8 * (1 - b2)
                            MatrixKernels.store(m8, m + index)
                            MatrixKernels.store(v8, v + index)
                            let denominator = v8.squareRoot() * secondCorrection + eps
                            MatrixKernels.store(MatrixKernels.load(p + index) - stepSize * m8 / denominator, p + index)
                            index += 8
                        }
                        while index < count {
                            m[index] = m[index] * b1 + g[index] * (1 - b1)
                            v[index] = v[index] * b2 + g[index] * g[index] * (1 - b2)
                            p[index] -= stepSize * m[index] / (v[index].squareRoot() * secondCorrection + eps)
                            index += 1
                        }
                    }
                }
            }
        }
    }
}
