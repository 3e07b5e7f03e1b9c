import Crypto
import Foundation
import MixLabCore
import Testing

@testable import MixLabCorpus

@Suite struct SyntheticCorpusTests {
    /// SHA-256 of train.txt and valid.txt for seed 42, shared 0.7, 64 KiB per domain (what
    /// `mixlab corpus synth --seed 42 --bytes-per-domain 65536` writes). Recorded from generator v1:
    /// when the output changes on purpose, bump `SyntheticCorpus.generatorVersion` and re-record.
    static let golden: [(CorpusDomain, train: String, valid: String)] = [
        (.prose, "d98aa96f296e7f1f5ffd5154ab53bea86b189dc115bd77041afb4285997dd3e1", "c5559344a4e5701504a3535d58eb9c019d3e573e184b39e7e83aac3a3d5448bb"),
        (.legal, "1ae359e58f946cdbd4afd89e3e8b33228200d5bc0573f7e019c6798bbabf7580", "76bf9edff78d9542e76acfd59165d916df307a66fc15852d6c25de3fe55391fa"),
        (.code, "fb66b5294ab06ba98e388dae6325abeba81873163b12b016cf5ae04078758261", "b38e87f9b3ac6f50895e7589c2f7b326140e035f6d8e58a0b3ba42875b33cdc9"),
        (.math, "aac12590f76a8d52719345939ec8763d63a46466faa4624f98cdb8bb42ac01b4", "892d4748491a6aef322cf70428405c77946e611d93b7b2a76a6cd127817c89a2"),
        (.config, "7a013bc5aae73c5e4c169897cef2981e54124e1ab880baa5cb4d21cf40985b36", "fea13b5ae2d35453e1396c86c9c2cfc6d8ca5fc3bbc04c8fe197badc39a22c44"),
        (.docs, "0dcf86ebd2f438e18c4602d529c99ac1a2fb4ee8bd11ba06295c9e0ebf11ac71", "8c94f06c2b71b2db18e9fae4df4c90ea6a8258e5bf51309acf27f6d31637d52a"),
    ]

    @Test func seed42MatchesTheRecordedHashes() throws {
        #expect(SyntheticCorpus.generatorVersion == 1, "the goldens below belong to generator v1")
        let corpus = try SyntheticCorpus(seed: 42)
        for (domain, train, valid) in Self.golden {
            let text = corpus.generate(domain, bytes: 65536)
            #expect(CorpusLayout.sha256Hex(text.train) == train, "\(domain) train.txt changed")
            #expect(CorpusLayout.sha256Hex(text.valid) == valid, "\(domain) valid.txt changed")
        }
    }

    @Test func twoGenerationsAndParallelDocumentsAreIdentical() async throws {
        let first = try SyntheticCorpus(seed: 7, shared: 0.5)
        let second = try SyntheticCorpus(seed: 7, shared: 0.5)
        for domain in CorpusDomain.allCases {
            #expect(first.generate(domain, bytes: 40_000) == second.generate(domain, bytes: 40_000), "\(domain)")
            let sequential = (0..<60).map { first.document(domain, index: $0) }
            let parallel = await withTaskGroup(of: (Int, [UInt8]).self) { group in
                for index in (0..<60).reversed() { group.addTask { (index, second.document(domain, index: index)) } }
                var documents = [[UInt8]](repeating: [], count: 60)
                for await (index, bytes) in group { documents[index] = bytes }
                return documents
            }
            #expect(sequential == parallel, "\(domain)")
        }
        #expect(try SyntheticCorpus(seed: 8).generate(.prose, bytes: 4096) != first.generate(.prose, bytes: 4096))
    }

    @Test func splitsAreByWholeDocumentsAndEveryTenthIsHeldOut() throws {
        let corpus = try SyntheticCorpus(seed: 3)
        let text = corpus.generate(.config, bytes: 50_000)
        #expect(text.totalBytes >= 50_000)
        let documents = text.trainDocuments + text.validDocuments
        #expect(text.validDocuments == documents / 10)
        var expectedValid: [UInt8] = []
        for index in stride(from: 9, to: documents, by: 10) {
            var document = corpus.document(.config, index: index)
            while document.last == 0x0A { document.removeLast() }  // trailing newlines give way to the separator
            expectedValid += document + DomainText.documentSeparator
        }
        #expect(text.valid == expectedValid)
        #expect(text.train.count(where: { $0 == 0x1E }) == text.trainDocuments)
    }

    @Test func domainsHaveTheirStatisticalSignatures() throws {
        let corpus = try SyntheticCorpus(seed: 42)
        func sample(_ domain: CorpusDomain) -> [UInt8] { corpus.generate(domain, bytes: 200_000).train }
        func digitShare(_ bytes: [UInt8]) -> Double {
            Double(bytes.count { $0 >= 0x30 && $0 <= 0x39 }) / Double(bytes.count)
        }
        #expect(digitShare(sample(.math)) > 0.20)
        #expect(digitShare(sample(.prose)) < 0.005)
        // Repetitiveness: the share of distinct 8-byte substrings (lower compresses better).
        #expect(distinctEightGramShare(sample(.legal)) < distinctEightGramShare(sample(.code)))
        let config = sample(.config)
        let equalsPerLine = Double(config.count { $0 == UInt8(ascii: "=") }) / Double(config.count { $0 == 0x0A })
        #expect(equalsPerLine > 0.5)
        #expect(digitShare(sample(.docs)) < 0.005)
    }

    @Test func sharedVocabularyCarriesTransfer() throws {
        func gap(shared: Double) throws -> (docs: Double, math: Double) {
            let corpus = try SyntheticCorpus(seed: 42, shared: shared)
            let heldOutCode = Array(corpus.generate(.code, bytes: 400_000).valid.prefix(40_000))
            let fromDocs = TrigramModel(training: corpus.generate(.docs, bytes: 300_000).train).crossEntropy(heldOutCode)
            let fromMath = TrigramModel(training: corpus.generate(.math, bytes: 300_000).train).crossEntropy(heldOutCode)
            return (fromDocs, fromMath)
        }
        let related = try gap(shared: 0.7)
        let disjoint = try gap(shared: 0)
        #expect(related.docs < related.math, "docs should teach code more than math does")
        #expect(disjoint.math - disjoint.docs < related.math - related.docs, "with shared = 0 the transfer gap should shrink")
        #expect(disjoint.docs > related.docs)
    }

    @Test func invalidSharedIsAnInputError() throws {
        #expect(throws: MixLabInputError.self) { try SyntheticCorpus(seed: 1, shared: 1.5) }
        #expect(throws: MixLabInputError.self) { try SyntheticCorpus(seed: 1, shared: .nan) }
        #expect(throws: MixLabInputError.self) { try CorpusDomain.parseList("code,poetry") }
        #expect(try CorpusDomain.parseList("math, code,math") == [.code, .math])
    }
}

func distinctEightGramShare(_ bytes: [UInt8]) -> Double {
    var seen = Set<UInt64>()
    let count = bytes.count - 8
    for start in 0..<count {
        var key: UInt64 = 0
        for offset in 0..<8 { key = key << 8 | UInt64(bytes[start + offset]) }
        seen.insert(key)
    }
    return Double(seen.count) / Double(count)
}

/// An order-2 byte model (a byte given the two before it) with additive back-off to shorter contexts:
/// small enough to train in a test, enough to show which domains teach which.
struct TrigramModel {
    private var trigrams = [UInt32](repeating: 0, count: 1 << 24)
    private var bigrams = [UInt32](repeating: 0, count: 1 << 16)
    private var unigrams = [UInt32](repeating: 0, count: 256)
    private var pairContexts = [UInt32](repeating: 0, count: 1 << 16)
    private var byteContexts = [UInt32](repeating: 0, count: 256)
    private var total = 0

    init(training bytes: [UInt8]) {
        for index in 2..<bytes.count {
            let a = Int(bytes[index - 2]), b = Int(bytes[index - 1]), c = Int(bytes[index])
            trigrams[a << 16 | b << 8 | c] += 1
            pairContexts[a << 8 | b] += 1
            bigrams[b << 8 | c] += 1
            byteContexts[b] += 1
            unigrams[c] += 1
            total += 1
        }
    }

    /// Bits per byte on `bytes`.
    func crossEntropy(_ bytes: [UInt8]) -> Double {
        var bits = 0.0
        for index in 2..<bytes.count {
            let a = Int(bytes[index - 2]), b = Int(bytes[index - 1]), c = Int(bytes[index])
            let unigram = (Double(unigrams[c]) + 1) / (Double(total) + 256)
            let bigram = (Double(bigrams[b << 8 | c]) + 2 * unigram) / (Double(byteContexts[b]) + 2)
            let trigram = (Double(trigrams[a << 16 | b << 8 | c]) + 2 * bigram) / (Double(pairContexts[a << 8 | b]) + 2)
            bits -= log2(trigram)
        }
        return bits / Double(bytes.count - 2)
    }
}
