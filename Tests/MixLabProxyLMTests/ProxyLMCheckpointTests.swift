import Foundation
import MixLabCore
import Testing

@testable import MixLabProxyLM

@Suite struct ProxyLMCheckpointTests {
    static let weights: [String: Double] = ["code": 0.5, "math": 0.3, "prose": 0.2]

    static func trainer(seed: UInt64 = 3, hidden: Int = 32) throws -> ProxyLMTrainer {
        try ProxyLMTrainer(
            configuration: ProxyLMTrainerTests.configuration(seed: seed, hidden: hidden), domains: ProxyLMTrainerTests.corpus,
            weights: weights)
    }

    static func temporaryPath() -> String {
        "/tmp/mlp-ckpt-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).ckpt"
    }

    @Test func savingAndResumingIsBitIdenticalToNotStopping() throws {
        let straight = try Self.trainer()
        let straightLosses = straight.train(steps: 80)

        let first = try Self.trainer()
        let firstHalf = first.train(steps: 40)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try first.checkpoint().write(to: path, flag: "--save-checkpoint")
        let restored = try ProxyLMCheckpoint.read(from: path, flag: "--init-from")
        #expect(restored == first.checkpoint())

        // A different seed: resuming must take the data order from the checkpoint, not the seed.
        let second = try Self.trainer(seed: 99)
        try second.load(restored, .resume, source: "--init-from \(path)")
        #expect(second.step == 40 && second.tokens == first.tokens)
        let secondHalf = second.train(steps: 40)
        #expect((firstHalf + secondHalf).map(\.bitPattern) == straightLosses.map(\.bitPattern))
        #expect(second.model.parameters.map(\.bitPattern) == straight.model.parameters.map(\.bitPattern))
        #expect(second.evaluate().mapValues(\.bitPattern) == straight.evaluate().mapValues(\.bitPattern))
    }

    @Test func restartKeepsTheWeightsButResetsOptimizerStepAndDataOrder() throws {
        let base = try Self.trainer()
        base.train(steps: 60)
        let baseLosses = base.evaluate()
        let continued = try Self.trainer(seed: 11)
        try continued.load(base.checkpoint(), .restart, source: "test")
        #expect(continued.step == 0 && continued.tokens == 0)
        #expect(continued.evaluate() == baseLosses, "the restarted model starts where the base ended")
        #expect(continued.checkpoint().optimizer.firstMoment.allSatisfy { $0 == 0 }, "Adam starts fresh")
        let fresh = try Self.trainer(seed: 11)
        try fresh.load(base.checkpoint(), .restart, source: "test")
        #expect(continued.train(steps: 5) == fresh.train(steps: 5), "the data order comes from this run's seed")
    }

    @Test func anotherArchitectureIsRefusedNamingTheFlag() throws {
        let small = try Self.trainer(hidden: 32)
        let large = try Self.trainer(hidden: 48)
        let error = #expect(throws: MixLabInputError.self) { try large.load(small.checkpoint(), .restart, source: "--init-from base.ckpt") }
        #expect(error?.field == "--init-from base.ckpt")
        #expect(error?.fix.contains("--hidden (or --model-size) 32") == true, "\(String(describing: error))")
        #expect(error?.fix.contains("--context") == false, "only the differing flags: \(String(describing: error))")
    }

    @Test func resumingWithAnotherBatchIsRefused() throws {
        let saved = try Self.trainer().checkpoint()
        var configuration = ProxyLMTrainerTests.configuration(seed: 3)
        configuration.batch = 16
        let other = try ProxyLMTrainer(configuration: configuration, domains: ProxyLMTrainerTests.corpus, weights: Self.weights)
        let error = #expect(throws: MixLabInputError.self) { try other.load(saved, .resume, source: "ckpt") }
        #expect(error?.fix.contains("--batch 32") == true, "\(String(describing: error))")
        try other.load(saved, .restart, source: "ckpt")
    }

    @Test func corruptTruncatedAndForeignFilesGiveClearErrors() throws {
        let trainer = try Self.trainer()
        trainer.train(steps: 3)
        let bytes = trainer.checkpoint().encoded()
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        var future = bytes
        future[8] = 2
        let cases: [([UInt8], String)] = [
            (flipped, "checksum"),
            (Array(bytes.prefix(bytes.count - 100)), "truncated"),
            (Array(bytes.prefix(20)), "truncated"),
            (bytes + [0], "too long"),
            (future, "version 2"),
            (Array("name,loss\n".utf8), "not a ProxyLM checkpoint"),
            ([], "not a ProxyLM checkpoint"),
        ]
        for (data, words) in cases {
            let error = #expect(throws: MixLabInputError.self) { try ProxyLMCheckpoint(decoding: data, source: "--init-from x.ckpt") }
            #expect(error?.problem.contains(words) == true, "\(words): \(String(describing: error))")
            #expect(error?.field == "--init-from x.ckpt")
        }
        let missing = #expect(throws: MixLabInputError.self) { try ProxyLMCheckpoint.read(from: "/nonexistent/x.ckpt", flag: "--init-from") }
        #expect(missing?.problem == "cannot be read")
        let unwritable = #expect(throws: MixLabInputError.self) {
            try trainer.checkpoint().write(to: "/nonexistent-dir/x.ckpt", flag: "--save-checkpoint")
        }
        #expect(unwritable?.field == "--save-checkpoint /nonexistent-dir/x.ckpt")
    }

    /// A checkpoint whose header shape fields (context, embedding, hidden, layers, batch, in that
    /// order) are replaced, with the checksum recomputed as anyone crafting a file could.
    static func crafted(_ replacements: [(field: Int, value: UInt32)]) throws -> [UInt8] {
        var bytes = try Self.trainer().checkpoint().encoded()
        let shapeOffset = ProxyLMCheckpoint.magic.count + 4 + 4
        for (field, value) in replacements {
            withUnsafeBytes(of: value.littleEndian) { bytes.replaceSubrange((shapeOffset + 4 * field)..<(shapeOffset + 4 * field + 4), with: $0) }
        }
        let checksum = CRC32.checksum(bytes[..<(bytes.count - 4)])
        withUnsafeBytes(of: checksum.littleEndian) { bytes.replaceSubrange((bytes.count - 4)..., with: $0) }
        return bytes
    }

    static func expectRefused(_ bytes: [UInt8], naming name: String, value: UInt32, flag: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: MixLabInputError.self, sourceLocation: sourceLocation) {
            try ProxyLMCheckpoint(decoding: bytes, source: "--init-from x.ckpt")
        }
        #expect(error?.field.contains("--init-from x.ckpt") == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.field.contains(name) == true, "names the header field: \(String(describing: error))", sourceLocation: sourceLocation)
        #expect(
            error?.problem.contains("\(value)") == true && error?.problem.contains(flag) == true, "\(String(describing: error))",
            sourceLocation: sourceLocation)
        #expect(error?.fix.contains("--save-checkpoint") == true, "\(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        (2, 4_000_000_000, "hidden", "--hidden"), (0, 0, "context", "--context"), (1, 1_025, "embedding", "--embedding"),
        (3, 3, "layers", "--layers"), (4, 65_537, "batch", "--batch"),
    ] as [(Int, UInt32, String, String)])
    func aHeaderShapeOutsideTheTrainingRangesIsRefusedDespiteAValidChecksum(field: Int, value: UInt32, name: String, flag: String) throws {
        Self.expectRefused(try Self.crafted([(field, value)]), naming: name, value: value, flag: flag)
    }

    @Test func aHeaderWhoseParameterCountWouldOverflowIsRefusedBeforeComputingIt() throws {
        Self.expectRefused(try Self.crafted([(2, 4_000_000_000), (3, 2)]), naming: "hidden", value: 4_000_000_000, flag: "--hidden")
        Self.expectRefused(try Self.crafted([(0, 4_000_000_000), (1, 4_000_000_000)]), naming: "context", value: 4_000_000_000, flag: "--context")
    }

    @Test func writingReplacesTheFileAtomically() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let trainer = try Self.trainer()
        try trainer.checkpoint().write(to: path, flag: "--save-checkpoint")
        trainer.train(steps: 2)
        try trainer.checkpoint().write(to: path, flag: "--save-checkpoint")
        #expect(try ProxyLMCheckpoint.read(from: path, flag: "f").step == 2)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix(".\(URL(fileURLWithPath: path).lastPathComponent).tmp")
        }
        #expect(leftovers.isEmpty, "no temporary file is left behind: \(leftovers)")
    }

    @Test func aFailedRenameLeavesTheTargetAndNoTemporaryFile() throws {
        let path = Self.temporaryPath()
        try FileManager.default.createDirectory(atPath: path + "/occupied", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = #expect(throws: MixLabInputError.self) { try Self.trainer().checkpoint().write(to: path, flag: "--save-checkpoint") }
        #expect(error?.field == "--save-checkpoint \(path)" && error?.problem.contains("renaming") == true, "\(String(describing: error))")
        #expect(FileManager.default.fileExists(atPath: path + "/occupied"), "the target is untouched")
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix(".\(URL(fileURLWithPath: path).lastPathComponent).tmp")
        }
        #expect(leftovers.isEmpty, "the temporary file is removed: \(leftovers)")
    }
}
