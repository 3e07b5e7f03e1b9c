import Foundation
import MixLabCore
import Testing

@testable import MixLabCorpus

func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-\(label)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct CorpusLayoutTests {
    @Test func synthesisedCorpusRoundTripsThroughTheManifest() async throws {
        let directory = try temporaryDirectory("layout")
        defer { try? FileManager.default.removeItem(at: directory) }
        let layout = CorpusLayout(directory: directory)
        let corpus = try SyntheticCorpus(seed: 11, shared: 0.4)
        let written = try await corpus.write(to: layout, domains: [.math, .code], bytesPerDomain: 20_000)

        #expect(try layout.availableDomains() == ["code", "math"])
        let read = try layout.readManifest()
        #expect(read == written)
        #expect(read.kind == .synthetic && read.seed == 11 && read.shared == 0.4)
        #expect(read.generatorVersion == SyntheticCorpus.generatorVersion)
        try layout.verify(read)
        for entry in read.domains {
            let (train, valid) = try layout.load(domain: entry.name)
            let expected = corpus.generate(CorpusDomain(rawValue: entry.name)!, bytes: 20_000)
            #expect(train == expected.train && valid == expected.valid)
            #expect(entry.trainBytes == train.count && entry.validBytes == valid.count)
            #expect(entry.trainDocuments == expected.trainDocuments && entry.validDocuments == expected.validDocuments)
            #expect(entry.trainSHA256 == CorpusLayout.sha256Hex(train))
        }
        // The manifest bytes are a function of the corpus alone.
        let again = try temporaryDirectory("layout-again")
        defer { try? FileManager.default.removeItem(at: again) }
        _ = try await corpus.write(to: CorpusLayout(directory: again), domains: [.code, .math], bytesPerDomain: 20_000)
        #expect(try Data(contentsOf: layout.manifestURL) == Data(contentsOf: CorpusLayout(directory: again).manifestURL))
    }

    @Test func tamperedTextFailsVerification() async throws {
        let directory = try temporaryDirectory("tamper")
        defer { try? FileManager.default.removeItem(at: directory) }
        let layout = CorpusLayout(directory: directory)
        let manifest = try await SyntheticCorpus(seed: 1).write(to: layout, domains: [.prose], bytesPerDomain: 4096)
        try Data("edited".utf8).write(to: layout.validURL("prose"))
        #expect(throws: MixLabInputError.self) { try layout.verify(manifest) }
    }

    @Test func badManifestsNameTheProblem() throws {
        let directory = try temporaryDirectory("bad-manifest")
        defer { try? FileManager.default.removeItem(at: directory) }
        let layout = CorpusLayout(directory: directory)
        do {
            _ = try layout.readManifest()
            Issue.record("a missing manifest must be an error")
        } catch {
            #expect(error.field.hasSuffix("manifest.json"))
        }
        try Data(#"{"format": 1, "kind": "synthetic", "generatorVersion": 1, "components": []}"#.utf8).write(to: layout.manifestURL)
        do {
            _ = try layout.readManifest()
            Issue.record("a manifest without domains must be an error")
        } catch {
            #expect(error.field.hasSuffix("domains"), "\(error)")
        }
        #expect(throws: MixLabInputError.self) { try CorpusLayout.validate(domainName: "../etc") }
        #expect(throws: MixLabInputError.self) { try layout.load(domain: "nowhere") }
    }

    @Test func extractorRecordsDecodeIntoSplits() throws {
        func record(_ id: String, _ body: String) -> [UInt8] {
            func length(_ count: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: count >> (8 * (3 - $0))) } }
            return length(id.utf8.count) + Array(id.utf8) + length(body.utf8.count) + Array(body.utf8)
        }
        var bytes: [UInt8] = []
        for index in 0..<12 { bytes += record("doc\(index)", "text \(index)\n\n") }
        let text = try #require(CorpusGatherer.decodeFrames(bytes))
        #expect(text.trainDocuments == 11 && text.validDocuments == 1)
        #expect(text.valid == Array("text 9\n\u{1E}\n".utf8))
        #expect(CorpusGatherer.decodeFrames(Array(bytes.dropLast())) == nil)
    }

    @Test func embeddedExtractorMatchesTheScript() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let script = try String(contentsOf: root.appendingPathComponent("scripts/corpus/gather_corpus.py"), encoding: .utf8)
        #expect(GatherScript.source + "\n" == script, "scripts/corpus/gather_corpus.py changed: run scripts/generate-corpus-script.sh")
    }
}
