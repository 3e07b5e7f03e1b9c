import Foundation
import MixLabProxyLM
import Testing

/// The analytic gradients of ``ByteLMWorkspace`` against central finite differences of an
/// independent double-precision forward pass written as plain loops.
@Suite struct GradientCheckTests {
    /// The loss as the architecture defines it, in Double, with no shared code.
    static func referenceMeanLoss(
        _ architecture: ByteLMArchitecture, _ parameters: [Double], contexts: [UInt8], targets: [UInt8]
    ) -> Double {
        let tensors = Dictionary(uniqueKeysWithValues: architecture.tensors.map { ($0.name, $0) })
        let c = architecture.context, d = architecture.embedding, h = architecture.hidden
        var total = 0.0
        for row in 0..<targets.count {
            var x: [Double] = []
            for slot in 0..<c {
                let byte = Int(contexts[row * c + slot])
                x += (0..<d).map { parameters[tensors["embedding"]!.offset + byte * d + $0] }
            }
            for layer in 1...architecture.layers {
                let w = tensors["hidden\(layer).weight"]!, b = tensors["hidden\(layer).bias"]!
                x = (0..<h).map { j in
                    var z = parameters[b.offset + j]
                    for i in 0..<x.count { z += x[i] * parameters[w.offset + i * h + j] }
                    return Foundation.tanh(z)
                }
            }
            let w = tensors["output.weight"]!, b = tensors["output.bias"]!
            let logits = (0..<256).map { v in
                var z = parameters[b.offset + v]
                for j in 0..<h { z += x[j] * parameters[w.offset + j * 256 + v] }
                return z
            }
            let largest = logits.max()!
            let logSum = Foundation.log(logits.reduce(0) { $0 + Foundation.exp($1 - largest) }) + largest
            total += logSum - logits[Int(targets[row])]
        }
        return total / Double(targets.count)
    }

    @Test(arguments: [
        ByteLMArchitecture(context: 3, embedding: 4, hidden: 5, layers: 1),
        ByteLMArchitecture(context: 3, embedding: 3, hidden: 7, layers: 2),
        ByteLMArchitecture(context: 2, embedding: 8, hidden: 24, layers: 2),
    ])
    func analyticGradientMatchesFiniteDifferences(architecture: ByteLMArchitecture) {
        var generator = SplitMix64(seed: 11)
        var model = ByteLM(architecture: architecture, seed: 3)
        // Non-zero biases and a larger output layer, so every term of the gradient matters.
        for tensor in architecture.tensors where tensor.name.hasSuffix(".bias") || tensor.name == "output.weight" {
            for index in tensor.range { model.parameters[index] = Float(generator.nextUnit() - 0.5) }
        }
        let rows = 5
        // A small alphabet, so embedding rows are used several times in one batch.
        let contexts = (0..<(rows * architecture.context)).map { _ in UInt8(40 + generator.nextIndex(below: 4)) }
        let targets = (0..<rows).map { _ in UInt8(40 + generator.nextIndex(below: 6)) }
        let workspace = ByteLMWorkspace(architecture: architecture, capacity: rows)
        var gradient = [Float](repeating: .nan, count: architecture.parameterCount)
        let loss = workspace.meanLossAndGradient(model, contexts: contexts, targets: targets, rows: rows, gradient: &gradient)

        var point = model.parameters.map(Double.init)
        let reference = Self.referenceMeanLoss(architecture, point, contexts: contexts, targets: targets)
        #expect(abs(loss - reference) < 1e-5, "fast forward \(loss) vs reference \(reference)")

        let step = 1e-4
        for tensor in architecture.tensors {
            var worst = 0.0, largest = 0.0
            for index in Self.checkedIndices(tensor, embeddingWidth: architecture.embedding) {
                let saved = point[index]
                point[index] = saved + step
                let up = Self.referenceMeanLoss(architecture, point, contexts: contexts, targets: targets)
                point[index] = saved - step
                let down = Self.referenceMeanLoss(architecture, point, contexts: contexts, targets: targets)
                point[index] = saved
                let numeric = (up - down) / (2 * step)
                let error = abs(Double(gradient[index]) - numeric) / (2e-5 + 1e-3 * abs(numeric))
                worst = max(worst, error)
                largest = max(largest, abs(numeric))
            }
            #expect(worst <= 1, "\(tensor.name): analytic gradient off by \(worst)× the tolerance")
            #expect(largest > 1e-4, "\(tensor.name): gradient is zero everywhere, the check would prove nothing")
        }
    }

    /// Every entry of small tensors; of large ones about 400 spread evenly, plus, for the
    /// embedding, every entry of the rows around the bytes the batch uses (40...45).
    static func checkedIndices(_ tensor: ByteLMArchitecture.Tensor, embeddingWidth: Int) -> [Int] {
        guard tensor.count > 400 else { return Array(tensor.range) }
        var indices = Array(stride(from: tensor.offset, to: tensor.range.upperBound, by: tensor.count / 400 + 1))
        if tensor.name == "embedding" {
            indices += (38 * embeddingWidth + tensor.offset)..<(46 * embeddingWidth + tensor.offset)
        }
        return indices
    }
}
