/// Scratch buffers for the forward and backward pass of a ``ByteLM`` on up to `capacity`
/// positions at once, allocated once and reused every step.
///
/// A batch is `rows` positions: `contexts` holds each position's previous bytes (`rows × context`,
/// oldest first) and `targets` the byte to predict. Losses are cross-entropy in nats.
public final class ByteLMWorkspace {
    public let architecture: ByteLMArchitecture
    public let capacity: Int
    private let tensors: [ByteLMArchitecture.Tensor]
    private var inputs: [Float]
    private var activations: [[Float]]
    private var logits: [Float]
    private var deltaA: [Float]
    private var deltaB: [Float]
    private var transposed: [Float]
    /// Cross-entropy of each position of the last pass.
    public private(set) var positionLosses: [Float]

    public init(architecture: ByteLMArchitecture, capacity: Int) {
        precondition(capacity > 0, "a workspace needs room for at least one position")
        self.architecture = architecture
        self.capacity = capacity
        tensors = architecture.tensors
        let inputWidth = architecture.context * architecture.embedding
        let widest = max(inputWidth, architecture.hidden)
        inputs = [Float](repeating: 0, count: capacity * inputWidth)
        activations = Array(repeating: [Float](repeating: 0, count: capacity * architecture.hidden), count: architecture.layers)
        logits = [Float](repeating: 0, count: capacity * ByteLMArchitecture.vocabulary)
        deltaA = [Float](repeating: 0, count: capacity * widest)
        deltaB = [Float](repeating: 0, count: capacity * widest)
        transposed = [Float](repeating: 0, count: widest * max(architecture.hidden, ByteLMArchitecture.vocabulary))
        positionLosses = [Float](repeating: 0, count: capacity)
    }

    /// The summed cross-entropy of `rows` positions (forward pass only); per-position values are
    /// left in ``positionLosses``.
    public func totalLoss(_ model: ByteLM, contexts: [UInt8], targets: [UInt8], rows: Int) -> Double {
        forward(model, contexts: contexts, targets: targets, rows: rows, keepGradient: false)
        var total = 0.0
        for row in 0..<rows { total += Double(positionLosses[row]) }
        return total
    }

    /// The mean cross-entropy of `rows` positions, writing its gradient with respect to every
    /// parameter into `gradient` (same layout as the parameters; previous contents are replaced).
    public func meanLossAndGradient(
        _ model: ByteLM, contexts: [UInt8], targets: [UInt8], rows: Int, gradient: inout [Float]
    ) -> Double {
        precondition(gradient.count == model.parameters.count, "gradient must have one entry per parameter")
        forward(model, contexts: contexts, targets: targets, rows: rows, keepGradient: true)
        backward(model, contexts: contexts, rows: rows, gradient: &gradient)
        var total = 0.0
        for row in 0..<rows { total += Double(positionLosses[row]) }
        return total / Double(rows)
    }

    /// Fills ``positionLosses`` and, with `keepGradient`, leaves d(mean loss)/d(logits) in `logits`.
    private func forward(_ model: ByteLM, contexts: [UInt8], targets: [UInt8], rows: Int, keepGradient: Bool) {
        precondition(rows > 0 && rows <= capacity, "rows must be between 1 and the workspace capacity")
        let arch = architecture
        precondition(contexts.count >= rows * arch.context && targets.count >= rows, "contexts or targets too short")
        let context = arch.context, width = arch.embedding, hidden = arch.hidden, vocabulary = ByteLMArchitecture.vocabulary
        let inputWidth = context * width
        model.parameters.withUnsafeBufferPointer { parameterBuffer in
            let parameters = parameterBuffer.baseAddress!
            let embedding = parameters + tensors[0].offset
            inputs.withUnsafeMutableBufferPointer { inputBuffer in
                contexts.withUnsafeBufferPointer { contextBuffer in
                    for row in 0..<rows {
                        for slot in 0..<context {
                            let source = embedding + Int(contextBuffer[row * context + slot]) * width
                            let target = inputBuffer.baseAddress! + row * inputWidth + slot * width
                            target.update(from: source, count: width)
                        }
                    }
                }
            }
            for layer in 0..<arch.layers {
                let weight = parameters + tensors[1 + 2 * layer].offset
                let bias = parameters + tensors[2 + 2 * layer].offset
                let previous = layer == 0 ? nil : activations[layer - 1]
                activations[layer].withUnsafeMutableBufferPointer { outputBuffer in
                    let output = outputBuffer.baseAddress!
                    func multiply(_ input: UnsafeBufferPointer<Float>, _ inputWidth: Int) {
                        Kernels.multiply(
                            input.baseAddress!, rowStride: inputWidth, innerStride: 1, weight, into: output,
                            rows: rows, inner: inputWidth, columns: hidden, accumulate: false)
                    }
                    if let previous {
                        previous.withUnsafeBufferPointer { multiply($0, hidden) }
                    } else {
                        inputs.withUnsafeBufferPointer { multiply($0, inputWidth) }
                    }
                    Kernels.addBiasAndTanh(output, bias: bias, rows: rows, width: hidden)
                }
            }
            let outputWeight = parameters + tensors[tensors.count - 2].offset
            let outputBias = parameters + tensors[tensors.count - 1].offset
            activations[arch.layers - 1].withUnsafeBufferPointer { last in
                logits.withUnsafeMutableBufferPointer { logitBuffer in
                    Kernels.multiply(
                        last.baseAddress!, rowStride: hidden, innerStride: 1, outputWeight, into: logitBuffer.baseAddress!,
                        rows: rows, inner: hidden, columns: vocabulary, accumulate: false)
                }
            }
            logits.withUnsafeMutableBufferPointer { logitBuffer in
                positionLosses.withUnsafeMutableBufferPointer { lossBuffer in
                    let gradientScale: Float? = keepGradient ? 1 / Float(rows) : nil
                    for row in 0..<rows {
                        lossBuffer[row] = Kernels.softmaxCrossEntropy(
                            logitBuffer.baseAddress! + row * vocabulary, bias: outputBias, target: Int(targets[row]),
                            gradientScale: gradientScale)
                    }
                }
            }
        }
    }

    /// Backpropagates the logit gradient left by `forward` into `gradient`.
    private func backward(_ model: ByteLM, contexts: [UInt8], rows: Int, gradient: inout [Float]) {
        let arch = architecture
        let context = arch.context, width = arch.embedding, hidden = arch.hidden, vocabulary = ByteLMArchitecture.vocabulary
        let inputWidth = context * width
        let outputWeightTensor = tensors[tensors.count - 2], outputBiasTensor = tensors[tensors.count - 1]
        model.parameters.withUnsafeBufferPointer { parameterBuffer in
            let parameters = parameterBuffer.baseAddress!
            gradient.withUnsafeMutableBufferPointer { gradientBuffer in
                let gradients = gradientBuffer.baseAddress!
                logits.withUnsafeBufferPointer { logitBuffer in
                    let logitGradient = logitBuffer.baseAddress!
                    activations[arch.layers - 1].withUnsafeBufferPointer { last in
                        Kernels.multiply(
                            last.baseAddress!, rowStride: 1, innerStride: hidden, logitGradient,
                            into: gradients + outputWeightTensor.offset, rows: hidden, inner: rows, columns: vocabulary,
                            accumulate: false)
                    }
                    Self.sumColumns(logitGradient, rows: rows, columns: vocabulary, into: gradients + outputBiasTensor.offset)
                    transposed.withUnsafeMutableBufferPointer { transposedBuffer in
                        Kernels.transpose(
                            parameters + outputWeightTensor.offset, rows: hidden, columns: vocabulary,
                            into: transposedBuffer.baseAddress!)
                        deltaA.withUnsafeMutableBufferPointer { delta in
                            Kernels.multiply(
                                logitGradient, rowStride: vocabulary, innerStride: 1, transposedBuffer.baseAddress!,
                                into: delta.baseAddress!, rows: rows, inner: vocabulary, columns: hidden, accumulate: false)
                        }
                    }
                }
                for layer in stride(from: arch.layers - 1, through: 0, by: -1) {
                    let weightTensor = tensors[1 + 2 * layer], biasTensor = tensors[2 + 2 * layer]
                    let layerInputWidth = layer == 0 ? inputWidth : hidden
                    activations[layer].withUnsafeBufferPointer { output in
                        deltaA.withUnsafeMutableBufferPointer { delta in
                            Kernels.multiplyByTanhDerivative(delta.baseAddress!, outputs: output.baseAddress!, count: rows * hidden)
                        }
                    }
                    let input = layer == 0 ? inputs : activations[layer - 1]
                    deltaA.withUnsafeBufferPointer { delta in
                        input.withUnsafeBufferPointer { inputBuffer in
                            Kernels.multiply(
                                inputBuffer.baseAddress!, rowStride: 1, innerStride: layerInputWidth, delta.baseAddress!,
                                into: gradients + weightTensor.offset, rows: layerInputWidth, inner: rows, columns: hidden,
                                accumulate: false)
                        }
                        Self.sumColumns(delta.baseAddress!, rows: rows, columns: hidden, into: gradients + biasTensor.offset)
                        transposed.withUnsafeMutableBufferPointer { transposedBuffer in
                            Kernels.transpose(
                                parameters + weightTensor.offset, rows: layerInputWidth, columns: hidden,
                                into: transposedBuffer.baseAddress!)
                            deltaB.withUnsafeMutableBufferPointer { previousDelta in
                                Kernels.multiply(
                                    delta.baseAddress!, rowStride: hidden, innerStride: 1, transposedBuffer.baseAddress!,
                                    into: previousDelta.baseAddress!, rows: rows, inner: hidden, columns: layerInputWidth,
                                    accumulate: false)
                            }
                        }
                    }
                    swap(&deltaA, &deltaB)
                }
                // deltaA now holds d(loss)/d(inputs): scatter it into the embedding rows that were used.
                let embeddingGradient = gradients + tensors[0].offset
                embeddingGradient.update(repeating: 0, count: tensors[0].count)
                deltaA.withUnsafeBufferPointer { delta in
                    contexts.withUnsafeBufferPointer { contextBuffer in
                        for row in 0..<rows {
                            for slot in 0..<context {
                                let target = embeddingGradient + Int(contextBuffer[row * context + slot]) * width
                                let source = delta.baseAddress! + row * inputWidth + slot * width
                                for k in 0..<width { target[k] += source[k] }
                            }
                        }
                    }
                }
            }
        }
    }

    private static func sumColumns(
        _ matrix: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>
    ) {
        sums.update(repeating: 0, count: columns)
        for row in 0..<rows {
            let values = matrix + row * columns
            for column in 0..<columns { sums[column] += values[column] }
        }
    }
}
