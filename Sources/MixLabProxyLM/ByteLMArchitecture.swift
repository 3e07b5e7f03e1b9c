/// The shape of a byte-level MLP language model: `context` previous bytes, each embedded in
/// `embedding` dimensions, concatenated, passed through `layers` tanh layers of `hidden` units and
/// projected to 256 logits.
///
/// The parameters live in one flat `[Float]`; ``tensors`` says where each tensor starts and its
/// shape (row-major), in the order embedding, hidden1.weight, hidden1.bias, [hidden2.weight,
/// hidden2.bias,] output.weight, output.bias.
public struct ByteLMArchitecture: Sendable, Hashable, CustomStringConvertible {
    public static let vocabulary = 256

    public var context: Int
    public var embedding: Int
    public var hidden: Int
    public var layers: Int

    public init(context: Int = 16, embedding: Int = 16, hidden: Int = 96, layers: Int = 1) {
        self.context = context
        self.embedding = embedding
        self.hidden = hidden
        self.layers = layers
    }

    /// Where one tensor sits in the flat parameter vector.
    public struct Tensor: Sendable, Hashable {
        public var name: String
        public var offset: Int
        public var rows: Int
        public var columns: Int
        public var count: Int { rows * columns }
        public var range: Range<Int> { offset..<(offset + count) }
    }

    /// Every tensor, in storage order.
    public var tensors: [Tensor] {
        var result: [Tensor] = []
        var offset = 0
        func add(_ name: String, _ rows: Int, _ columns: Int) {
            result.append(Tensor(name: name, offset: offset, rows: rows, columns: columns))
            offset += rows * columns
        }
        add("embedding", Self.vocabulary, embedding)
        var inputs = context * embedding
        for layer in 1...layers {
            add("hidden\(layer).weight", inputs, hidden)
            add("hidden\(layer).bias", 1, hidden)
            inputs = hidden
        }
        add("output.weight", hidden, Self.vocabulary)
        add("output.bias", 1, Self.vocabulary)
        return result
    }

    /// N: every trainable number.
    public var parameterCount: Int { tensors.reduce(0) { $0 + $1.count } }

    /// The weights of the matrix products (embedding and biases excluded).
    public var denseParameterCount: Int {
        context * embedding * hidden + (layers - 1) * hidden * hidden + hidden * Self.vocabulary
    }

    /// Floating-point operations of one training token: 2 per dense weight forward, 4 backward.
    public var trainingFLOPsPerToken: Int { 6 * denseParameterCount }

    /// The hidden width (1…8192) whose parameter count is closest to `parameterCount`, the other
    /// dimensions fixed (the smaller width on a tie).
    public static func hidden(forParameterCount parameterCount: Int, context: Int, embedding: Int, layers: Int) -> Int {
        var best = 1, bestDistance = Int.max
        for hidden in 1...8192 {
            let count = ByteLMArchitecture(context: context, embedding: embedding, hidden: hidden, layers: layers).parameterCount
            if abs(count - parameterCount) < bestDistance { (best, bestDistance) = (hidden, abs(count - parameterCount)) }
            if count > parameterCount { break }
        }
        return best
    }

    public var description: String {
        "context \(context), embedding \(embedding), \(layers)×\(hidden) tanh, \(parameterCount) parameters"
    }
}
