import Foundation
import MixLabCorpus

/// The corpus the demo trains on: reused when the output folder already holds one with the
/// requested domains, else gathered from Debian packages, else synthesised (saying why).
struct DemoCorpus: Sendable {
    var directory: String
    var manifest: CorpusManifest
    /// One line for the user: what kind of text, from where.
    var description: String

    static func prepare(_ configuration: DemoConfiguration, log: @Sendable (String) -> Void) async throws -> DemoCorpus {
        let wanted = configuration.domains.map(\.rawValue)
        switch configuration.corpus {
        case .directory(let path):
            let layout = CorpusLayout(path: path)
            let manifest = try layout.readManifest()
            let missing = wanted.filter { name in !manifest.domains.contains { $0.name == name } }
            guard missing.isEmpty else {
                throw DemoError(
                    "corpus \(path) has no \(missing.joined(separator: ", ")) (it has \(manifest.domains.map(\.name).joined(separator: ", "))); "
                        + "choose --domains among those or gather them with `mixlab corpus gather --out \(path)`")
            }
            return DemoCorpus(directory: layout.directory.path, manifest: manifest, description: "\(manifest.kind.rawValue) corpus from \(path)")
        case .gather:
            let directory = configuration.outputDirectory + "/corpus"
            if let reused = reusable(directory, kind: .gathered, domains: wanted, bytes: configuration.corpusBytesPerDomain) {
                log("reusing the gathered corpus in \(directory)")
                return reused
            }
            log("gathering real text from Debian packages into \(directory) (apt-get download; nothing is installed)…")
            let options = CorpusGatherer.Options(
                outputDirectory: URL(fileURLWithPath: directory, isDirectory: true), capBytes: configuration.corpusBytesPerDomain,
                domains: configuration.domains)
            let result = try await CorpusGatherer(options: options).gather { line in log("  \(line)") }
            if result.skipped.isEmpty {
                log(String(format: "gathered %d domains in %.1f s", result.gathered.count, result.seconds))
                return DemoCorpus(directory: directory, manifest: result.manifest, description: "real text from Debian packages")
            }
            for skip in result.skipped { log("could not gather \(skip.domain.rawValue): \(skip.reason)") }
            log("falling back to the synthetic corpus, so every requested domain is present (results differ from the real text)")
            return try await synthesise(configuration, log: log)
        case .synthetic:
            return try await synthesise(configuration, log: log)
        }
    }

    static func synthesise(_ configuration: DemoConfiguration, log: @Sendable (String) -> Void) async throws -> DemoCorpus {
        let directory = configuration.outputDirectory + "/corpus-synthetic"
        let wanted = configuration.domains.map(\.rawValue)
        if let reused = reusable(directory, kind: .synthetic, domains: wanted, bytes: configuration.corpusBytesPerDomain),
            reused.manifest.seed == UInt64(configuration.seed)
        {
            log("reusing the synthetic corpus in \(directory)")
            return reused
        }
        try? FileManager.default.removeItem(atPath: directory)
        let corpus = try SyntheticCorpus(seed: UInt64(configuration.seed))
        let manifest = try await corpus.write(
            to: CorpusLayout(path: directory), domains: configuration.domains, bytesPerDomain: configuration.corpusBytesPerDomain)
        log("synthesised \(manifest.domains.count) domains into \(directory)")
        return DemoCorpus(directory: directory, manifest: manifest, description: "synthetic text (corpus.md §5 generator, seed \(configuration.seed))")
    }

    /// An existing corpus of the right kind, domains and size, whose files still match the manifest.
    static func reusable(_ directory: String, kind: CorpusManifest.Kind, domains: [String], bytes: Int) -> DemoCorpus? {
        let layout = CorpusLayout(path: directory)
        guard let manifest = try? layout.readManifest(), manifest.kind == kind,
            Set(manifest.domains.map(\.name)) == Set(domains),
            kind == .synthetic || manifest.capBytes == bytes,
            (try? layout.verify(manifest)) != nil
        else { return nil }
        return DemoCorpus(
            directory: layout.directory.path, manifest: manifest,
            description: kind == .gathered ? "real text from Debian packages" : "synthetic text (seed \(manifest.seed.map(String.init) ?? "?"))")
    }

    /// `{domain: directory}` for the sweep spec.
    func path(of domain: String) -> String { URL(fileURLWithPath: directory).appendingPathComponent(domain).standardizedFileURL.path }
}
