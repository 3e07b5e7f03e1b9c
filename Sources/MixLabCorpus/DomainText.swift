import Foundation
import MixLabCore

/// The six text domains MixLab's corpora provide, both gathered and synthetic.
public enum CorpusDomain: String, CaseIterable, Sendable, Codable, Comparable {
    case prose, legal, code, math, config, docs

    public static func < (lhs: CorpusDomain, rhs: CorpusDomain) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// Parses a comma-separated `--domains` value; an empty or missing list means all six.
    public static func parseList(_ text: String?, field: String = "--domains") throws(MixLabInputError) -> [CorpusDomain] {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return allCases }
        var domains: [CorpusDomain] = []
        for part in text.split(separator: ",") {
            let name = part.trimmingCharacters(in: .whitespaces)
            guard let domain = CorpusDomain(rawValue: name) else {
                throw MixLabInputError(
                    field: "\(field) \(text)", problem: "names unknown domain \"\(name)\"",
                    fix: "use a comma-separated list of " + allCases.map(\.rawValue).joined(separator: ", "))
            }
            if !domains.contains(domain) { domains.append(domain) }
        }
        return domains.sorted()
    }
}

/// One domain's text split into training and held-out bytes, as written to `train.txt` and `valid.txt`.
///
/// Documents are concatenated, each followed by ``documentSeparator`` (a line holding the single
/// byte 0x1E), so a reader can recover document boundaries; a split is by whole documents.
public struct DomainText: Sendable, Equatable {
    public var train: [UInt8]
    public var valid: [UInt8]
    public var trainDocuments: Int
    public var validDocuments: Int

    public init(train: [UInt8] = [], valid: [UInt8] = [], trainDocuments: Int = 0, validDocuments: Int = 0) {
        self.train = train
        self.valid = valid
        self.trainDocuments = trainDocuments
        self.validDocuments = validDocuments
    }

    /// The bytes that end every document: newline, 0x1E (record separator), newline.
    public static let documentSeparator: [UInt8] = [0x0A, 0x1E, 0x0A]

    /// Whether the document at position `index` of a domain's stream is held out: every tenth one.
    public static func isHeldOut(documentIndex index: Int) -> Bool { index % 10 == 9 }

    public var totalBytes: Int { train.count + valid.count }

    /// Appends the document at stream position `index` to the split it belongs to. Trailing newlines of
    /// the document are dropped and any 0x1E inside it becomes a space, so separators stay unambiguous.
    public mutating func append<Bytes: Collection>(document: Bytes, index: Int) where Bytes.Element == UInt8 {
        var end = document.endIndex
        while end > document.startIndex, document[document.index(end, offsetBy: -1)] == 0x0A {
            end = document.index(end, offsetBy: -1)
        }
        let body = document[document.startIndex..<end].lazy.map { $0 == 0x1E ? 0x20 : $0 }
        if Self.isHeldOut(documentIndex: index) {
            valid.append(contentsOf: body)
            valid.append(contentsOf: Self.documentSeparator)
            validDocuments += 1
        } else {
            train.append(contentsOf: body)
            train.append(contentsOf: Self.documentSeparator)
            trainDocuments += 1
        }
    }
}
