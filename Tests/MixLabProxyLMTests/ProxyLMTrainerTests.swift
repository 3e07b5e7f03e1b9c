import Foundation
import MixLabCore
import MixLabProxyLM
import Testing

@Suite struct ProxyLMTrainerTests {
    static let corpus = SyntheticCorpus.names.map { SyntheticCorpus.domain($0) }

    static func configuration(seed: UInt64, hidden: Int = 32) -> ProxyLMConfiguration {
        var configuration = ProxyLMConfiguration()
        configuration.architecture = ByteLMArchitecture(context: 8, embedding: 8, hidden: hidden, layers: 1)
        configuration.batch = 32
        configuration.evalBytes = 2_048
        configuration.seed = seed
        return configuration
    }

    @Test func parameterCountIsExact() {
        let architecture = ByteLMArchitecture(context: 16, embedding: 16, hidden: 96, layers: 2)
        let expected = 256 * 16 + (16 * 16 * 96 + 96) + (96 * 96 + 96) + (96 * 256 + 256)
        #expect(architecture.parameterCount == expected)
        #expect(ByteLM(architecture: architecture, seed: 0).parameters.count == expected)
        #expect(architecture.denseParameterCount == 16 * 16 * 96 + 96 * 96 + 96 * 256)
    }

    @Test func hiddenWidthForAParameterCountIsTheClosest() {
        for (_, hidden) in ProxyLMConfiguration.modelSizes {
            let count = ByteLMArchitecture(hidden: hidden).parameterCount
            #expect(ByteLMArchitecture.hidden(forParameterCount: count, context: 16, embedding: 16, layers: 1) == hidden)
        }
        let width = ByteLMArchitecture.hidden(forParameterCount: 80_000, context: 16, embedding: 16, layers: 2)
        let counts = [width - 1, width, width + 1].map { ByteLMArchitecture(hidden: $0, layers: 2).parameterCount }
        #expect(abs(counts[1] - 80_000) <= abs(counts[0] - 80_000) && abs(counts[1] - 80_000) <= abs(counts[2] - 80_000))
    }

    @Test func sameSeedGivesBitIdenticalLossesAndOtherSeedsDiffer() throws {
        func losses(seed: UInt64) throws -> ([Double], [String: Double]) {
            let trainer = try ProxyLMTrainer(
                configuration: Self.configuration(seed: seed), domains: Self.corpus,
                weights: ["code": 0.5, "math": 0.3, "prose": 0.2])
            return (trainer.train(steps: 60), trainer.evaluate())
        }
        let (first, firstEval) = try losses(seed: 7)
        let (again, againEval) = try losses(seed: 7)
        let (other, otherEval) = try losses(seed: 8)
        #expect(first.map(\.bitPattern) == again.map(\.bitPattern))
        #expect(firstEval.mapValues(\.bitPattern) == againEval.mapValues(\.bitPattern))
        #expect(first != other)
        #expect(firstEval != otherEval)
    }

    @Test func trainingLowersHeldOutLossFromAboutLn256() throws {
        let trainer = try ProxyLMTrainer(
            configuration: Self.configuration(seed: 1), domains: Self.corpus, weights: ["code": 1, "math": 1, "prose": 1])
        let before = trainer.evaluate()
        for (domain, loss) in before {
            #expect(abs(loss - Foundation.log(256)) < 0.3, "\(domain) starts at \(loss), not near ln 256")
        }
        trainer.train(steps: 400)
        let after = trainer.evaluate()
        for (domain, loss) in after {
            #expect(loss < before[domain]! - 2, "\(domain): \(before[domain]!) → \(loss)")
        }
        #expect(trainer.tokens == 400 * 32)
    }

    @Test func moreCodeGivesLowerCodeLoss() throws {
        func heldOut(code: Double) throws -> [String: Double] {
            let rest = (1 - code) / 2
            let trainer = try ProxyLMTrainer(
                configuration: Self.configuration(seed: 5), domains: Self.corpus,
                weights: ["code": code, "math": rest, "prose": rest])
            trainer.train(steps: 300)
            return trainer.evaluate()
        }
        let moreCode = try heldOut(code: 0.6), lessCode = try heldOut(code: 0.1)
        #expect(moreCode["code"]! < lessCode["code"]! - 0.05, "code loss \(moreCode["code"]!) vs \(lessCode["code"]!)")
        #expect(moreCode["prose"]! > lessCode["prose"]!, "prose loss should rise when prose gets less of the budget")
    }

    @Test func domainShorterThanTheContextTrains() throws {
        let tiny = ByteDomain(name: "tiny", train: Array("ab".utf8), valid: Array("ab".utf8))
        let trainer = try ProxyLMTrainer(configuration: Self.configuration(seed: 2), domains: [tiny], weights: ["tiny": 1])
        trainer.train(steps: 50)
        let loss = try #require(trainer.evaluate()["tiny"])
        #expect(loss.isFinite && loss < 1, "loss \(loss)")
    }

    @Test func testSliceIsTheTextRightAfterTheHeldOutSlice() throws {
        var split = Self.configuration(seed: 5)
        split.evalBytes = 2_048
        split.testBytes = 1_024
        var whole = split
        whole.testBytes = 0
        whole.evalBytes = 3_072
        let splitTrainer = try ProxyLMTrainer(configuration: split, domains: Self.corpus, weights: ["code": 1, "prose": 1])
        let wholeTrainer = try ProxyLMTrainer(configuration: whole, domains: Self.corpus, weights: ["code": 1, "prose": 1])
        splitTrainer.train(steps: 40)
        wholeTrainer.train(steps: 40)
        let parts = splitTrainer.evaluate(), combined = wholeTrainer.evaluate()
        #expect(Set(parts.keys) == Set(SyntheticCorpus.names + SyntheticCorpus.names.map(ProxyLMTrainer.testDomainName)))
        for name in SyntheticCorpus.names {
            let heldOut = try #require(parts[name]), test = try #require(parts[name + ".test"])
            let reassembled = (heldOut * 2_048 + test * 1_024) / 3_072
            #expect(abs(reassembled - (combined[name] ?? .nan)) < 1e-9, "\(name): \(reassembled) vs \(combined[name] ?? .nan)")
            #expect(heldOut != test, "\(name): the two slices are different text")
        }
    }

    @Test func testSliceLongerThanTheValidTextNamesTheDomainAndTheFix() {
        var configuration = Self.configuration(seed: 0)
        configuration.testBytes = 1_000
        let short = ByteDomain(name: "short", train: Array("abcdef".utf8), valid: Array(repeating: 97, count: 2_500))
        do {
            _ = try ProxyLMTrainer(configuration: configuration, domains: [short], weights: ["short": 1])
            Issue.record("a test slice past the end of valid.txt was accepted")
        } catch {
            #expect(error.field == "--test-bytes 1000")
            #expect(error.problem.contains("short") && error.problem.contains("3048"), "\(error.problem)")
        }
    }

    @Test func badInputNamesTheField() {
        var configuration = Self.configuration(seed: 0)
        configuration.architecture.layers = 3
        #expect(throws: MixLabInputError.self) {
            try ProxyLMTrainer(configuration: configuration, domains: Self.corpus, weights: ["code": 1])
        }
        do {
            _ = try ProxyLMTrainer(configuration: Self.configuration(seed: 0), domains: Self.corpus, weights: ["web": 1])
            Issue.record("an unknown mixture domain was accepted")
        } catch {
            #expect(error.field == "mixture domain web")
        }
        let empty = ByteDomain(name: "empty", train: [], valid: Array("x".utf8))
        #expect(throws: MixLabInputError.self) {
            try ProxyLMTrainer(configuration: Self.configuration(seed: 0), domains: [empty], weights: ["empty": 1])
        }
    }
}
