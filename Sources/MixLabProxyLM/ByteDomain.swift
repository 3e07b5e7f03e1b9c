/// One domain's text as bytes: `train` is sampled for training, the start of `valid` is the fixed
/// held-out slice.
public struct ByteDomain: Sendable, Hashable {
    public var name: String
    public var train: [UInt8]
    public var valid: [UInt8]

    public init(name: String, train: [UInt8], valid: [UInt8]) {
        self.name = name
        self.train = train
        self.valid = valid
    }

    /// Copies the `context` bytes before `position` of `text` (byte 0 before the start) into
    /// `contexts[row·context...]` and the byte at `position` into `targets[row]`.
    @inline(__always)
    static func gather(
        _ text: UnsafeBufferPointer<UInt8>, position: Int, context: Int, row: Int,
        contexts: UnsafeMutableBufferPointer<UInt8>, targets: UnsafeMutableBufferPointer<UInt8>
    ) {
        let base = row * context
        let start = position - context
        if start >= 0 {
            for slot in 0..<context { contexts[base + slot] = text[start + slot] }
        } else {
            for slot in 0..<context { contexts[base + slot] = start + slot >= 0 ? text[start + slot] : 0 }
        }
        targets[row] = text[position]
    }
}
