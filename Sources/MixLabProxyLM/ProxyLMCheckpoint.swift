import Foundation
import MixLabCore

/// A saved ProxyLM training state: the architecture, the weights, Adam's moments, the step and
/// token counts and the data-order generator, so a run can continue bit-identically or a
/// continual-pretraining run can start from the weights.
///
/// File layout (version 1, little-endian): the 8-byte magic `MLPXCKPT`, a `UInt32` version, a
/// `UInt32` header length, the header (context, embedding, hidden, layers, batch as `UInt32`;
/// parameter count, step, tokens, sampler state, Adam step as `UInt64`; Adam's β1ᵗ and β2ᵗ as
/// `Double` bits), then the weights, the first and the second moments (`Float` bits, one per
/// parameter each), then the CRC-32 (IEEE) of every byte before it.
public struct ProxyLMCheckpoint: Sendable, Equatable {
    public static let magic = Array("MLPXCKPT".utf8)
    public static let version: UInt32 = 1
    static let headerLength = 5 * 4 + 5 * 8 + 2 * 8

    public var architecture: ByteLMArchitecture
    public var batch: Int
    public var parameters: [Float]
    public var optimizer: AdamOptimizer.State
    public var step: Int
    public var tokens: Int
    public var samplerState: UInt64

    public init(
        architecture: ByteLMArchitecture, batch: Int, parameters: [Float], optimizer: AdamOptimizer.State, step: Int, tokens: Int,
        samplerState: UInt64
    ) {
        self.architecture = architecture
        self.batch = batch
        self.parameters = parameters
        self.optimizer = optimizer
        self.step = step
        self.tokens = tokens
        self.samplerState = samplerState
    }

    /// The file bytes.
    public func encoded() -> [UInt8] {
        var bytes = Self.magic
        func put<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        put(Self.version)
        put(UInt32(Self.headerLength))
        for value in [architecture.context, architecture.embedding, architecture.hidden, architecture.layers, batch] { put(UInt32(value)) }
        for value in [parameters.count, step, tokens] { put(UInt64(value)) }
        put(samplerState)
        put(UInt64(optimizer.step))
        put(optimizer.beta1Power.bitPattern)
        put(optimizer.beta2Power.bitPattern)
        bytes.reserveCapacity(bytes.count + 12 * parameters.count + 4)
        for array in [parameters, optimizer.firstMoment, optimizer.secondMoment] {
            for value in array { put(value.bitPattern) }
        }
        put(CRC32.checksum(bytes))
        return bytes
    }

    /// Parses file bytes; `source` names the file in errors.
    ///
    /// - Throws: ``MixLabInputError`` for a file that is not a checkpoint, of another version,
    ///   truncated, whose checksum does not match, or whose shape is outside the ranges
    ///   ``ProxyLMConfiguration/validate()`` accepts (the checksum does not stop a crafted file).
    public init(decoding bytes: [UInt8], source: String) throws(MixLabInputError) {
        func invalid(_ problem: String) -> MixLabInputError {
            MixLabInputError(
                field: source, problem: problem, fix: "give a file written by `mixlab proxy train --save-checkpoint` (rerun that run to remake it)")
        }
        guard bytes.count >= 16, Array(bytes[0..<8]) == Self.magic else { throw invalid("is not a ProxyLM checkpoint (no MLPXCKPT header)") }
        var offset = 8
        func take<T: FixedWidthInteger>(_: T.Type) -> T {
            var value = T.zero
            withUnsafeMutableBytes(of: &value) { $0.copyBytes(from: bytes[offset..<(offset + MemoryLayout<T>.size)]) }
            offset += MemoryLayout<T>.size
            return T(littleEndian: value)
        }
        let version = take(UInt32.self)
        guard version == Self.version else {
            throw invalid("is checkpoint format version \(version); this mixlab reads version \(Self.version)")
        }
        let headerLength = Int(take(UInt32.self))
        guard headerLength == Self.headerLength else { throw invalid("has a header of \(headerLength) bytes, expected \(Self.headerLength)") }
        guard bytes.count >= offset + headerLength + 4 else {
            throw invalid("is truncated (\(bytes.count) bytes, shorter than its header)")
        }
        let shape = (0..<5).map { _ in Int(take(UInt32.self)) }
        let parameterCount = take(UInt64.self), step = take(UInt64.self), tokens = take(UInt64.self)
        let samplerState = take(UInt64.self)
        let optimizerStep = take(UInt64.self)
        let beta1Power = Double(bitPattern: take(UInt64.self)), beta2Power = Double(bitPattern: take(UInt64.self))
        let expectedLength = offset + 12 * Int(min(parameterCount, UInt64(Int.max / 16))) + 4
        guard parameterCount < UInt64(Int.max / 16), bytes.count == expectedLength else {
            throw invalid(
                "is \(bytes.count < expectedLength ? "truncated" : "too long") (\(bytes.count) bytes, expected \(expectedLength) for \(parameterCount) parameters)")
        }
        let stored = bytes[(bytes.count - 4)...].withUnsafeBytes { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
        guard stored == CRC32.checksum(bytes[..<(bytes.count - 4)]) else { throw invalid("is corrupt (checksum mismatch)") }
        let architecture = ByteLMArchitecture(context: shape[0], embedding: shape[1], hidden: shape[2], layers: shape[3])
        // The checksum only catches accidents: a crafted file can carry any shape with a valid one,
        // and an unchecked shape can overflow `parameterCount`.
        for field in ProxyLMConfiguration.shapeFields(architecture: architecture, batch: shape[4]) where !field.range.contains(field.value) {
            throw MixLabInputError(
                field: "\(source), header field \(field.name)",
                problem: "is \(field.value), outside \(field.range.lowerBound)…\(field.range.upperBound) (the range of \(field.flag))",
                fix: "the file is damaged or was not written by mixlab; give a file written by "
                    + "`mixlab proxy train --save-checkpoint` (rerun that run to remake it)")
        }
        guard architecture.parameterCount == Int(parameterCount), step < 1 << 53, tokens < 1 << 53, optimizerStep < 1 << 53
        else { throw invalid("has an inconsistent header (\(architecture), \(parameterCount) parameters)") }
        func floats() -> [Float] {
            (0..<Int(parameterCount)).map { _ in Float(bitPattern: take(UInt32.self)) }
        }
        let parameters = floats(), firstMoment = floats(), secondMoment = floats()
        self.init(
            architecture: architecture, batch: shape[4], parameters: parameters,
            optimizer: AdamOptimizer.State(
                step: Int(optimizerStep), beta1Power: beta1Power, beta2Power: beta2Power, firstMoment: firstMoment,
                secondMoment: secondMoment),
            step: Int(step), tokens: Int(tokens), samplerState: samplerState)
    }

    /// Writes the checkpoint to `path`: a temporary file in the same folder, flushed to disk, renamed
    /// over `path`, then the folder flushed. A reader sees the old file or the new one, never a mix;
    /// once this returns, the new file survives a crash or power loss.
    ///
    /// - Throws: ``MixLabInputError`` naming `flag` when the folder cannot be written.
    public func write(to path: String, flag: String) throws(MixLabInputError) {
        do throws(DurableFile.Failure) {
            try DurableFile.replace(path, with: encoded())
        } catch {
            throw MixLabInputError(
                field: "\(flag) \(path)", problem: "cannot be written (\(error.step): \(error.reason))",
                fix: "give a path in an existing, writable folder with free space")
        }
    }

    /// Reads and checks the checkpoint at `path`.
    ///
    /// - Throws: ``MixLabInputError`` naming `flag` for a missing, unreadable, truncated or corrupt file.
    public static func read(from path: String, flag: String) throws(MixLabInputError) -> ProxyLMCheckpoint {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MixLabInputError(
                field: "\(flag) \(path)", problem: "cannot be read", fix: "give the path a run wrote with --save-checkpoint")
        }
        return try ProxyLMCheckpoint(decoding: [UInt8](data), source: "\(flag) \(path)")
    }
}

/// CRC-32 with the IEEE polynomial (reflected 0xEDB88320), as in zlib and PNG.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
