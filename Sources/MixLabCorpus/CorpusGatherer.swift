import Foundation
import MixLabCore

/// Gathers MixLab's real multi-domain corpus from a Debian machine (see docs/corpus.md):
/// four small `.deb` files are fetched with `apt-get download` into a cache folder and read with
/// `dpkg-deb --fsys-tarfile`, never installed; the rest comes from files every Debian system has.
/// An embedded Python script extracts each domain's documents in a fixed order; this type caps,
/// splits and writes them in the ``CorpusLayout`` with a manifest. The same package versions give
/// byte-identical output. A domain whose source is missing is skipped and reported, not fatal.
public struct CorpusGatherer: Sendable {
    /// Bumped whenever the extraction changes the bytes for the same package versions.
    public static let gathererVersion = 1
    public static let defaultCapBytes = 8 << 20

    /// What to gather and where.
    public struct Options: Sendable {
        public var outputDirectory: URL
        /// Per-domain cap on document text; whole documents are taken until it is reached.
        public var capBytes: Int
        public var domains: [CorpusDomain]
        /// Where downloaded `.deb` files are kept and reused; default `<output>/.debs`.
        public var cacheDirectory: URL?
        public var python: String
        /// Run `apt-get update` when downloads fail for lack of package lists (root only).
        public var allowAptUpdate: Bool

        public init(
            outputDirectory: URL, capBytes: Int = CorpusGatherer.defaultCapBytes, domains: [CorpusDomain] = CorpusDomain.allCases,
            cacheDirectory: URL? = nil, python: String = "python3", allowAptUpdate: Bool = true
        ) {
            self.outputDirectory = outputDirectory
            self.capBytes = capBytes
            self.domains = domains
            self.cacheDirectory = cacheDirectory
            self.python = python
            self.allowAptUpdate = allowAptUpdate
        }
    }

    /// A requested domain that was not gathered, and why (with the fix when there is one).
    public struct Skipped: Sendable, Equatable {
        public var domain: CorpusDomain
        public var reason: String
    }

    /// What a gather produced: the manifest written, which domains made it and which were skipped.
    public struct Result: Sendable {
        public var manifest: CorpusManifest
        public var gathered: [CorpusDomain]
        public var skipped: [Skipped]
        public var seconds: Double
    }

    /// Debian packages each domain is read from (downloaded, never installed).
    public static func packages(for domain: CorpusDomain) -> [String] {
        switch domain {
        case .docs: ["manpages", "manpages-dev"]
        case .prose: ["r-cran-janeaustenr"]
        case .math: ["metamath-databases"]
        case .code, .legal, .config: []
        }
    }

    /// The licence terms of each domain's text, for the manifest.
    public static func licence(for domain: CorpusDomain) -> String {
        switch domain {
        case .code: "PSF-2.0 (a few modules under other permissive terms)"
        case .docs: "Linux-man-pages-copyleft, GPL-2+, BSD, Expat (per page; see /usr/share/doc/manpages/copyright)"
        case .prose: "public domain novels; MIT packaging"
        case .math: "CC0-1.0"
        case .legal: "each text under its own terms (licence texts permit verbatim copying)"
        case .config: "each file under its package's licence; Debian archive metadata"
        }
    }

    public let options: Options

    public init(options: Options) throws(MixLabInputError) {
        guard options.capBytes >= 1024 else {
            throw MixLabInputError(
                field: "cap \(options.capBytes) bytes", problem: "is too small", fix: "give at least 1 KiB per domain, e.g. --cap-mib 8")
        }
        guard !options.domains.isEmpty else {
            throw MixLabInputError(field: "--domains", problem: "is empty", fix: "name at least one domain")
        }
        var normalised = options
        normalised.domains = Array(Set(options.domains)).sorted()
        self.options = normalised
    }

    /// Gathers every requested domain it can. `log` receives one progress line per step (downloads,
    /// extracted domains). Throws only for failures to write the output; missing sources become ``Result/skipped``.
    public func gather(log: @Sendable (String) -> Void = { _ in }) async throws -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        let layout = CorpusLayout(directory: options.outputDirectory)
        let cache = options.cacheDirectory ?? options.outputDirectory.appendingPathComponent(".debs", isDirectory: true)
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-gather-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let runner = ProcessRunner(scratch: scratch)

        var skipped: [Skipped] = []
        var runnable = options.domains
        guard let python = ProcessRunner.locate(options.python) else {
            let reason = "\(options.python) not found (install it: apt-get install -y python3)"
            return try finish(
                layout: layout, entries: [], components: [], skipped: runnable.map { Skipped(domain: $0, reason: reason) },
                seconds: (clock.now - start).inSeconds, log: log)
        }

        // Fetch the .debs the requested domains need; a domain whose package cannot be had is skipped.
        let needed = runnable.flatMap(Self.packages(for:))
        var unavailable: [String: String] = [:]
        if !needed.isEmpty {
            if ProcessRunner.locate("dpkg-deb") == nil {
                for package in needed { unavailable[package] = "dpkg-deb not found (apt-get install -y dpkg)" }
            } else {
                unavailable = await download(needed, into: cache, runner: runner, log: log)
            }
        }
        runnable = runnable.filter { domain in
            if let reason = Self.packages(for: domain).lazy.compactMap({ unavailable[$0] }).first {
                skipped.append(Skipped(domain: domain, reason: reason))
                return false
            }
            return true
        }

        let scriptURL = scratch.appendingPathComponent("gather_corpus.py")
        try Data(GatherScript.source.utf8).write(to: scriptURL)
        let outcomes = try await withThrowingTaskGroup(of: (CorpusDomain, DomainOutcome).self) { group in
            var pending = runnable[...]
            var results: [(CorpusDomain, DomainOutcome)] = []
            for _ in 0..<min(2, pending.count) {
                let domain = pending.removeFirst()
                group.addTask { (domain, try await extract(domain, python: python, script: scriptURL, cache: cache, runner: runner)) }
            }
            while let result = try await group.next() {
                results.append(result)
                if let line = result.1.logLine(result.0) { log(line) }
                if let domain = pending.popFirst() {
                    group.addTask { (domain, try await extract(domain, python: python, script: scriptURL, cache: cache, runner: runner)) }
                }
            }
            return results.sorted { $0.0 < $1.0 }
        }

        var entries: [CorpusManifest.Domain] = []
        var components: [CorpusManifest.Component] = []
        for (domain, outcome) in outcomes {
            switch outcome {
            case .skipped(let reason):
                skipped.append(Skipped(domain: domain, reason: reason))
            case .extracted(let text, let source, let tools):
                entries.append(try layout.write(domain: domain.rawValue, text: text, source: source, licence: Self.licence(for: domain)))
                components += tools
                components += try await debVersions(for: domain, cache: cache, runner: runner)
            }
        }
        return try finish(
            layout: layout, entries: entries, components: components, skipped: skipped,
            seconds: (clock.now - start).inSeconds, log: log)
    }

    private func finish(
        layout: CorpusLayout, entries: [CorpusManifest.Domain], components: [CorpusManifest.Component], skipped: [Skipped],
        seconds: Double, log: @Sendable (String) -> Void
    ) throws -> Result {
        // A skipped domain must not leave an older run's files behind for a trainer to pick up.
        let skipped = skipped.sorted { $0.domain < $1.domain }
        for skip in skipped where FileManager.default.fileExists(atPath: layout.domainDirectory(skip.domain.rawValue).path) {
            try FileManager.default.removeItem(at: layout.domainDirectory(skip.domain.rawValue))
        }
        var unique: [CorpusManifest.Component] = []
        for component in components.sorted(by: { ($0.name, $0.version) < ($1.name, $1.version) }) where !unique.contains(component) {
            unique.append(component)
        }
        let manifest = CorpusManifest(
            kind: .gathered, generatorVersion: Self.gathererVersion, components: unique, capBytes: options.capBytes, domains: entries)
        try layout.writeManifest(manifest)
        return Result(manifest: manifest, gathered: entries.compactMap { CorpusDomain(rawValue: $0.name) }, skipped: skipped, seconds: seconds)
    }

    // MARK: Downloads

    /// Downloads the packages not yet in `cache`; returns the packages that could not be had, with the reason.
    private func download(
        _ packages: [String], into cache: URL, runner: ProcessRunner, log: @Sendable (String) -> Void
    ) async -> [String: String] {
        let missing = packages.filter { cachedDeb($0, in: cache) == nil }
        guard !missing.isEmpty else { return [:] }
        guard let aptGet = ProcessRunner.locate("apt-get") else {
            return Dictionary(uniqueKeysWithValues: missing.map { ($0, "apt-get not found: this needs a Debian-based system") })
        }
        log("downloading \(missing.joined(separator: " ")) with apt-get download into \(cache.path)")
        var outcome = try? await runner.run(aptGet, ["download", "-qq"] + missing, in: cache)
        if outcome?.succeeded != true, Self.packageListsMissing {
            if options.allowAptUpdate, getuid() == 0 {
                log("apt has no package lists; running apt-get update")
                _ = try? await runner.run(aptGet, ["update", "-qq"])
                outcome = try? await runner.run(aptGet, ["download", "-qq"] + missing, in: cache)
            } else {
                let reason = "apt has no package lists: run `apt-get update` as root, then gather again"
                return Dictionary(uniqueKeysWithValues: missing.map { ($0, reason) })
            }
        }
        if outcome?.succeeded == true { return [:] }
        // Find out which packages failed, so the other domains still get their sources.
        var failures: [String: String] = [:]
        for package in missing where cachedDeb(package, in: cache) == nil {
            let single = try? await runner.run(aptGet, ["download", "-qq", package], in: cache)
            if single?.succeeded != true {
                failures[package] = "apt-get download \(package) failed: \(single?.errorSummary ?? "could not run apt-get")"
            }
        }
        return failures
    }

    private static var packageListsMissing: Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/var/lib/apt/lists")) ?? []
        return !entries.contains { $0.contains("_Packages") }
    }

    /// The `.deb` of `package` the extractor will read: the last of its cached versions by name.
    private func cachedDeb(_ package: String, in cache: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []
        return names.filter { $0.hasPrefix(package + "_") && $0.hasSuffix(".deb") }.sorted().last.map { cache.appendingPathComponent($0) }
    }

    private func debVersions(for domain: CorpusDomain, cache: URL, runner: ProcessRunner) async throws -> [CorpusManifest.Component] {
        var components: [CorpusManifest.Component] = []
        for package in Self.packages(for: domain) {
            guard let deb = cachedDeb(package, in: cache), let dpkgDeb = ProcessRunner.locate("dpkg-deb") else { continue }
            let outcome = try await runner.run(dpkgDeb, ["--field", deb.path, "Version"])
            let version = String(decoding: outcome.standardOutput, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            components.append(.init(name: package, version: outcome.succeeded ? version : deb.lastPathComponent))
        }
        return components
    }

    // MARK: Extraction

    private enum DomainOutcome: Sendable {
        case extracted(DomainText, source: String, tools: [CorpusManifest.Component])
        case skipped(String)

        /// A progress line for an extracted domain; skips are reported in ``Result/skipped``.
        func logLine(_ domain: CorpusDomain) -> String? {
            switch self {
            case .extracted(let text, let source, _):
                let mib = Double(text.totalBytes) / 1_048_576
                return "\(domain.rawValue): \(text.trainDocuments + text.validDocuments) documents, "
                    + "\((mib * 100).rounded() / 100) MiB from \(source)"
            case .skipped: return nil
            }
        }
    }

    private struct ScriptReport: Decodable {
        var source: String
        var components: [[String]]
    }

    private func extract(
        _ domain: CorpusDomain, python: String, script: URL, cache: URL, runner: ProcessRunner
    ) async throws -> DomainOutcome {
        let framesURL = runner.scratch.appendingPathComponent("\(domain.rawValue).frames")
        defer { try? FileManager.default.removeItem(at: framesURL) }
        let outcome = try await runner.run(python, [script.path, domain.rawValue, cache.path, framesURL.path, String(options.capBytes)])
        guard outcome.succeeded else {
            let detail = outcome.errorSummary
            return .skipped(outcome.status == 3 ? "source missing (\(detail))" : "extractor failed with status \(outcome.status): \(detail)")
        }
        guard let report = try? JSONDecoder().decode(ScriptReport.self, from: outcome.standardOutput) else {
            return .skipped("extractor printed no report")
        }
        let frames = [UInt8](try Data(contentsOf: framesURL))
        guard let text = Self.decodeFrames(frames), text.totalBytes > 0 else {
            return .skipped("no documents found")
        }
        let tools = report.components.compactMap { pair in pair.count == 2 ? CorpusManifest.Component(name: pair[0], version: pair[1]) : nil }
        return .extracted(text, source: report.source, tools: tools)
    }

    /// Splits the extractor's records (length-prefixed id and text) into training and held-out text.
    static func decodeFrames(_ bytes: [UInt8]) -> DomainText? {
        func length(at offset: Int) -> Int? {
            guard offset + 4 <= bytes.count else { return nil }
            return bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        var text = DomainText()
        var offset = 0
        var index = 0
        while offset < bytes.count {
            guard let idLength = length(at: offset), let bodyLength = length(at: offset + 4 + idLength),
                offset + 8 + idLength + bodyLength <= bytes.count
            else { return nil }
            let bodyStart = offset + 8 + idLength
            text.append(document: bytes[bodyStart..<bodyStart + bodyLength], index: index)
            index += 1
            offset = bodyStart + bodyLength
        }
        return text
    }
}

