import ArgumentParser
import Foundation
import MixLabCore
import MixLabCorpus

extension MixLab {
    struct CorpusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "corpus",
            abstract: "Make the multi-domain text corpus proxy runs train on (DIR/<domain>/{train,valid}.txt + manifest.json).",
            subcommands: [CorpusSynth.self, CorpusGather.self, CorpusShow.self])
    }

    struct CorpusSynth: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "synth",
            abstract: "Write the deterministic synthetic corpus (same bytes for the same seed on every platform).")

        @Option(help: "Corpus folder to write (created if missing).") var out: String
        @Option(help: "Seed; the same seed gives the same bytes.") var seed: UInt64
        @Option(help: "Bytes per domain, train and held-out together.") var bytesPerDomain: Int = 4 << 20
        @Option(help: "Comma-separated domains (default: prose,legal,code,math,config,docs).") var domains: String?
        @Option(help: "Share of words drawn from the vocabulary all domains share (0 = disjoint, 1 = maximal transfer).")
        var shared: Double = 0.7

        func run() async throws {
            let chosen = try CorpusDomain.parseList(domains)
            guard bytesPerDomain >= 1024, bytesPerDomain <= 1 << 30 else {
                throw MixLabInputError(
                    field: "--bytes-per-domain \(bytesPerDomain)", problem: "is outside 1024...1073741824",
                    fix: "give a size such as 4194304 (4 MiB)")
            }
            guard shared.isFinite, (0...1).contains(shared) else {
                throw MixLabInputError(field: "--shared \(shared)", problem: "is outside 0...1", fix: "give a share such as 0.7")
            }
            let corpus = try SyntheticCorpus(seed: seed, shared: shared)
            let layout = CorpusLayout(path: out)
            let clock = ContinuousClock()
            let started = clock.now
            let manifest = try await corpus.write(to: layout, domains: chosen, bytesPerDomain: bytesPerDomain)
            let elapsed = clock.now - started
            print(CorpusTable.render(manifest))
            let seconds = elapsed.inSeconds
            let megabytes = Double(manifest.domains.reduce(0) { $0 + $1.trainBytes + $1.validBytes }) / 1e6
            print("wrote \(layout.directory.path) in \(format(seconds)) s (\(format(megabytes / max(seconds, 1e-9))) MB/s)")
        }
    }

    struct CorpusGather: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gather",
            abstract: "Gather the real corpus from Debian packages (apt-get download + dpkg-deb, nothing installed); see docs/corpus.md.")

        @Option(help: "Corpus folder to write (created if missing).") var out: String
        @Option(help: "Per-domain cap in MiB of text.") var capMib: Double = 8
        @Option(help: "Comma-separated domains (default: prose,legal,code,math,config,docs).") var domains: String?
        @Option(help: "Folder for downloaded .deb files, reused by later runs (default: OUT/.debs).") var cache: String?
        @Option(help: "Python interpreter that runs the extractor; its standard library is the code domain.")
        var python: String = "python3"

        func run() async throws {
            let chosen = try CorpusDomain.parseList(domains)
            guard capMib.isFinite, capMib > 0, capMib <= 1024 else {
                throw MixLabInputError(field: "--cap-mib \(capMib)", problem: "is outside (0, 1024]", fix: "give a cap such as 8")
            }
            let options = CorpusGatherer.Options(
                outputDirectory: URL(fileURLWithPath: out, isDirectory: true), capBytes: Int(capMib * 1_048_576),
                domains: chosen, cacheDirectory: cache.map { URL(fileURLWithPath: $0, isDirectory: true) }, python: python)
            let result = try await CorpusGatherer(options: options).gather { line in
                FileHandle.standardError.write(Data("\(line)\n".utf8))
            }
            print(CorpusTable.render(result.manifest))
            print("gathered \(result.gathered.count) of \(chosen.count) domains into \(out) in \(format(result.seconds)) s")
            for skip in result.skipped {
                MixLab.warn("domain \(skip.domain.rawValue) skipped: \(skip.reason)")
            }
            if result.gathered.isEmpty { throw ExitCode(1) }
        }
    }

    struct CorpusShow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a corpus folder's manifest as a table.")

        @Argument(help: "Corpus folder (holds manifest.json).") var directory: String

        func run() async throws {
            let layout = CorpusLayout(path: directory)
            let manifest = try layout.readManifest()
            print(CorpusTable.render(manifest))
        }
    }
}

private func format(_ value: Double) -> String { String(format: "%.2f", value) }

/// The manifest as text: provenance lines, then one row per domain.
enum CorpusTable {
    static func render(_ manifest: CorpusManifest) -> String {
        var lines: [String] = []
        switch manifest.kind {
        case .synthetic:
            lines.append("synthetic corpus, generator v\(manifest.generatorVersion), seed \(manifest.seed.map(String.init) ?? "?"), "
                + "shared \(manifest.shared.map { format($0) } ?? "?")")
        case .gathered:
            lines.append("gathered corpus, gatherer v\(manifest.generatorVersion), cap \(format(Double(manifest.capBytes ?? 0) / 1_048_576)) MiB")
            if !manifest.components.isEmpty {
                lines.append("from " + manifest.components.map { "\($0.name) \($0.version)" }.joined(separator: ", "))
            }
        }
        let header = ["domain", "train MiB", "valid MiB", "docs", "train sha256", "source", "licence"]
        var rows = [header]
        for domain in manifest.domains {
            rows.append([
                domain.name, format(Double(domain.trainBytes) / 1_048_576), format(Double(domain.validBytes) / 1_048_576),
                "\(domain.trainDocuments)+\(domain.validDocuments)", String(domain.trainSHA256.prefix(16)), domain.source, domain.licence,
            ])
        }
        let widths = (0..<header.count - 1).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            let padded = row.enumerated().map { column, cell in
                column < widths.count ? cell.padding(toLength: widths[column], withPad: " ", startingAt: 0) : cell
            }
            lines.append(padded.joined(separator: "  "))
        }
        if manifest.domains.isEmpty { lines.append("(no domains)") }
        return lines.joined(separator: "\n")
    }
}
