import Crypto
import Foundation
import MixLabCore

/// What `DIR/manifest.json` records about a corpus: how it was made and, per domain, its sizes, source,
/// licence and content hashes. Encoded with sorted keys and no timestamps, so the same corpus gives the
/// same manifest bytes.
public struct CorpusManifest: Codable, Sendable, Equatable {
    /// How the corpus was made: ``Kind/synthetic`` or ``Kind/gathered``.
    public enum Kind: String, Codable, Sendable { case synthetic, gathered }

    /// A Debian package (or tool) and the version the corpus was built from.
    public struct Component: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        public init(name: String, version: String) {
            self.name = name
            self.version = version
        }
    }

    /// One domain directory: `train.txt` and `valid.txt` with their sizes and SHA-256 digests.
    public struct Domain: Codable, Sendable, Equatable {
        public var name: String
        public var source: String
        public var licence: String
        public var trainBytes: Int
        public var validBytes: Int
        public var trainDocuments: Int
        public var validDocuments: Int
        public var trainSHA256: String
        public var validSHA256: String

        public init(
            name: String, source: String, licence: String, trainBytes: Int, validBytes: Int, trainDocuments: Int,
            validDocuments: Int, trainSHA256: String, validSHA256: String
        ) {
            self.name = name
            self.source = source
            self.licence = licence
            self.trainBytes = trainBytes
            self.validBytes = validBytes
            self.trainDocuments = trainDocuments
            self.validDocuments = validDocuments
            self.trainSHA256 = trainSHA256
            self.validSHA256 = validSHA256
        }
    }

    public static let currentFormat = 1

    public var format: Int
    public var kind: Kind
    /// `SyntheticCorpus.generatorVersion` or `CorpusGatherer.gathererVersion`.
    public var generatorVersion: Int
    /// Synthetic corpora only: the seed and the shared-vocabulary knob.
    public var seed: UInt64?
    public var shared: Double?
    /// Gathered corpora only: the Debian packages and tools whose versions determine the bytes.
    public var components: [Component]
    /// Gathered corpora only: the per-domain byte cap.
    public var capBytes: Int?
    public var domains: [Domain]

    public init(
        kind: Kind, generatorVersion: Int, seed: UInt64? = nil, shared: Double? = nil, components: [Component] = [],
        capBytes: Int? = nil, domains: [Domain] = []
    ) {
        format = Self.currentFormat
        self.kind = kind
        self.generatorVersion = generatorVersion
        self.seed = seed
        self.shared = shared
        self.components = components
        self.capBytes = capBytes
        self.domains = domains
    }

    public func domain(named name: String) -> Domain? { domains.first { $0.name == name } }
}

/// The on-disk corpus format shared by the synthesiser, the gatherer and the ProxyLM trainer:
///
///     DIR/manifest.json
///     DIR/<domain>/train.txt
///     DIR/<domain>/valid.txt
///
/// A trainer needs only the two text files of each domain directory; the manifest adds provenance.
public struct CorpusLayout: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }
    public init(path: String) { directory = URL(fileURLWithPath: path, isDirectory: true) }

    public var manifestURL: URL { directory.appendingPathComponent("manifest.json") }
    public func domainDirectory(_ domain: String) -> URL { directory.appendingPathComponent(domain, isDirectory: true) }
    public func trainURL(_ domain: String) -> URL { domainDirectory(domain).appendingPathComponent("train.txt") }
    public func validURL(_ domain: String) -> URL { domainDirectory(domain).appendingPathComponent("valid.txt") }

    /// Lowercase letters, digits, `-` and `_`, starting with a letter: safe as a directory name everywhere.
    public static func validate(domainName name: String) throws(MixLabInputError) {
        let allowed = name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 || $0 == 95 }
        guard !name.isEmpty, name.utf8.count <= 64, allowed, let first = name.utf8.first, first >= 97, first <= 122 else {
            throw MixLabInputError(
                field: "domain \"\(name)\"", problem: "is not a valid domain name",
                fix: "use 1-64 lowercase letters, digits, '-' or '_', starting with a letter")
        }
    }

    /// Writes `text` as the domain's `train.txt` and `valid.txt` and returns its manifest entry.
    @discardableResult
    public func write(domain: String, text: DomainText, source: String, licence: String) throws -> CorpusManifest.Domain {
        try Self.validate(domainName: domain)
        try FileManager.default.createDirectory(at: domainDirectory(domain), withIntermediateDirectories: true)
        try Data(text.train).write(to: trainURL(domain), options: .atomic)
        try Data(text.valid).write(to: validURL(domain), options: .atomic)
        return CorpusManifest.Domain(
            name: domain, source: source, licence: licence, trainBytes: text.train.count, validBytes: text.valid.count,
            trainDocuments: text.trainDocuments, validDocuments: text.validDocuments,
            trainSHA256: Self.sha256Hex(text.train), validSHA256: Self.sha256Hex(text.valid))
    }

    public func writeManifest(_ manifest: CorpusManifest) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data = try encoder.encode(manifest)
        data.append(0x0A)
        try data.write(to: manifestURL, options: .atomic)
    }

    public func readManifest() throws(MixLabInputError) -> CorpusManifest {
        let data: Data
        do {
            data = try Data(contentsOf: manifestURL)
        } catch {
            throw MixLabInputError(
                field: manifestURL.path, problem: "cannot be read (\(error.localizedDescription))",
                fix: "point at a corpus directory written by `mixlab corpus synth` or `mixlab corpus gather`")
        }
        let manifest: CorpusManifest
        do {
            manifest = try JSONDecoder().decode(CorpusManifest.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw MixLabInputError(
                field: "\(manifestURL.path) \(Self.codingPath(context.codingPath + [key]))", problem: "is missing",
                fix: "regenerate the corpus")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context),
            let DecodingError.dataCorrupted(context)
        {
            throw MixLabInputError(
                field: "\(manifestURL.path) \(Self.codingPath(context.codingPath))",
                problem: "is invalid (\(context.debugDescription))", fix: "regenerate the corpus")
        } catch {
            throw MixLabInputError(field: manifestURL.path, problem: "is not a corpus manifest (\(error))", fix: "regenerate the corpus")
        }
        guard manifest.format <= CorpusManifest.currentFormat else {
            throw MixLabInputError(
                field: "\(manifestURL.path) format", problem: "is \(manifest.format), newer than this mixlab understands",
                fix: "upgrade mixlab or regenerate the corpus")
        }
        return manifest
    }

    /// The domains a trainer can use: every subdirectory holding both `train.txt` and `valid.txt`, sorted by
    /// name. Does not need the manifest.
    public func availableDomains() throws -> [String] {
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return entries.filter { name in
            !name.hasPrefix(".") && FileManager.default.fileExists(atPath: trainURL(name).path)
                && FileManager.default.fileExists(atPath: validURL(name).path)
        }.sorted()
    }

    /// The domain's training and held-out bytes.
    public func load(domain: String) throws(MixLabInputError) -> (train: [UInt8], valid: [UInt8]) {
        func read(_ url: URL) throws(MixLabInputError) -> [UInt8] {
            do {
                return [UInt8](try Data(contentsOf: url))
            } catch {
                throw MixLabInputError(
                    field: url.path, problem: "cannot be read (\(error.localizedDescription))",
                    fix: "check the corpus directory and the domain name \"\(domain)\"")
            }
        }
        return (try read(trainURL(domain)), try read(validURL(domain)))
    }

    /// Checks that every domain in the manifest is on disk with the recorded sizes and hashes.
    public func verify(_ manifest: CorpusManifest) throws(MixLabInputError) {
        for entry in manifest.domains {
            let (train, valid) = try load(domain: entry.name)
            guard Self.sha256Hex(train) == entry.trainSHA256, Self.sha256Hex(valid) == entry.validSHA256 else {
                throw MixLabInputError(
                    field: domainDirectory(entry.name).path, problem: "does not match the SHA-256 in manifest.json",
                    fix: "regenerate the corpus instead of editing it")
            }
        }
    }

    public static func sha256Hex<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        SHA256.hash(data: bytes).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    private static func codingPath(_ path: [any CodingKey]) -> String {
        path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}
