/// A byte-level MLP language model: its architecture and its parameters in one flat `[Float]`
/// (layout in ``ByteLMArchitecture/tensors``).
public struct ByteLM: Sendable {
    public let architecture: ByteLMArchitecture
    public var parameters: [Float]

    /// Fresh weights from `seed`: embedding rows uniform in [-1, 1), each weight matrix uniform in
    /// ±1/√fan-in, biases zero (the draws run through the tensors in storage order, row-major).
    public init(architecture: ByteLMArchitecture, seed: UInt64) {
        self.architecture = architecture
        var generator = SplitMix64(seed: seed ^ 0x5052_4F58_594C_4D00)
        var parameters = [Float](repeating: 0, count: architecture.parameterCount)
        for tensor in architecture.tensors where !tensor.name.hasSuffix(".bias") {
            let scale = tensor.name == "embedding" ? 1 : 1 / Double(tensor.rows).squareRoot()
            for index in tensor.range {
                parameters[index] = Float((generator.nextUnit() * 2 - 1) * scale)
            }
        }
        self.parameters = parameters
    }

    public init(architecture: ByteLMArchitecture, parameters: [Float]) {
        precondition(parameters.count == architecture.parameterCount, "parameter count does not match the architecture")
        self.architecture = architecture
        self.parameters = parameters
    }
}
