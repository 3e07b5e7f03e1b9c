import Foundation
import Synchronization
import MixLabCore
import Testing

@testable import MixLabCorpus

/// Runs the real gatherer on this machine: `apt-get download` of four small .debs, `dpkg-deb`, groff
/// and python3. Needs Debian's tools and a reachable Debian mirror, as the project's machines have.
@Suite(.serialized) struct CorpusGathererTests {
    static let cap = 1_258_291  // 1.2 MiB per domain keeps the run short

    @Test func gathersAtLeastFourDomainsOfAMegabyte() async throws {
        for tool in ["apt-get", "dpkg-deb", "python3"] where ProcessRunner.locate(tool) == nil {
            Issue.record("\(tool) is missing: this test needs Debian's tools (apt-get install -y apt dpkg python3)")
            return
        }
        if ProcessRunner.locate("groff") == nil {
            Issue.record("groff is missing: apt-get install -y groff-base")
        }
        let directory = try temporaryDirectory("gather")
        defer { try? FileManager.default.removeItem(at: directory) }
        let options = CorpusGatherer.Options(outputDirectory: directory.appendingPathComponent("corpus"), capBytes: Self.cap)
        let lines = LogLines()
        let result = try await CorpusGatherer(options: options).gather { lines.append($0) }

        let large = result.manifest.domains.filter { $0.trainBytes + $0.validBytes >= 1_000_000 }
        #expect(large.count >= 4, "only \(large.map(\.name)) reached 1 MB; skipped: \(result.skipped); log: \(lines.all)")
        #expect(result.gathered.count + result.skipped.count == CorpusDomain.allCases.count)
        #expect(Set(result.gathered.map(\.rawValue)) == Set(result.manifest.domains.map(\.name)))
        let layout = CorpusLayout(directory: options.outputDirectory)
        #expect(try layout.readManifest() == result.manifest)
        try layout.verify(result.manifest)
        for entry in result.manifest.domains {
            #expect(entry.validDocuments >= 1, "\(entry.name) has no held-out document")
            #expect(entry.trainDocuments >= 9 * entry.validDocuments, "\(entry.name): every tenth document is held out")
        }
        if result.gathered.contains(.math) {
            #expect(result.manifest.components.contains { $0.name == "metamath-databases" })
        }

        // Same package versions → same bytes: gather two domains again into a new folder from the same cache.
        let again = CorpusGatherer.Options(
            outputDirectory: directory.appendingPathComponent("again"), capBytes: Self.cap, domains: [.prose, .math],
            cacheDirectory: options.outputDirectory.appendingPathComponent(".debs"))
        let second = try await CorpusGatherer(options: again).gather()
        for entry in second.manifest.domains {
            #expect(result.manifest.domain(named: entry.name) == entry, "\(entry.name) differs between two gathers")
        }
    }

    @Test func missingInterpreterSkipsEveryDomainWithTheReason() async throws {
        let directory = try temporaryDirectory("gather-no-python")
        defer { try? FileManager.default.removeItem(at: directory) }
        let options = CorpusGatherer.Options(
            outputDirectory: directory, capBytes: 4096, domains: [.code, .legal, .code], python: "/nonexistent/python3")
        let result = try await CorpusGatherer(options: options).gather()
        #expect(result.gathered.isEmpty)
        #expect(result.skipped.map(\.domain) == [.legal, .code])
        #expect(result.skipped.allSatisfy { $0.reason.contains("/nonexistent/python3") })
        #expect(try CorpusLayout(directory: directory).readManifest().domains.isEmpty)
    }

    @Test func badOptionsAreInputErrors() {
        let directory = URL(fileURLWithPath: "/tmp/unused")
        #expect(throws: MixLabInputError.self) { try CorpusGatherer(options: .init(outputDirectory: directory, capBytes: 10)) }
        #expect(throws: MixLabInputError.self) { try CorpusGatherer(options: .init(outputDirectory: directory, domains: [])) }
    }
}

/// Collects the gatherer's log lines from any task.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}
