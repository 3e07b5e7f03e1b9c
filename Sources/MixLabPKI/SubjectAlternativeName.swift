import MixLabCore
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One host a certificate is valid for: a DNS name or an IP address (a `--san` value).
public enum SubjectAlternativeName: Sendable, Hashable, CustomStringConvertible {
    /// A DNS name such as `head-node.example.org`, stored lowercased.
    case dnsName(String)
    /// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
    case ipAddress([UInt8])

    /// The names every coordinator certificate carries, so local clients and tests can always connect.
    public static let coordinatorDefaults: [SubjectAlternativeName] = [
        .dnsName("localhost"), .ipAddress([127, 0, 0, 1]), .ipAddress(Array(repeating: 0, count: 15) + [1]),
    ]

    /// Parses a host as typed on the command line: an IPv4 or IPv6 address if it is one, else a DNS name.
    ///
    /// - Parameter field: what to name in the error, e.g. `--san`.
    public init(parsing text: String, field: String = "--san") throws {
        if let bytes = Self.addressBytes(text, family: AF_INET, count: 4) {
            self = .ipAddress(bytes)
            return
        }
        let unbracketed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if let bytes = Self.addressBytes(unbracketed, family: AF_INET6, count: 16) {
            self = .ipAddress(bytes)
            return
        }
        if let problem = Self.dnsNameProblem(text) {
            throw MixLabInputError(
                field: "\(field) '\(text)'", problem: problem,
                fix: "give a DNS name (letters, digits, '-' and '.') or an IPv4/IPv6 address, e.g. --san head-node.lan")
        }
        self = .dnsName(text.lowercased())
    }

    /// Converts a SAN read from a certificate; other general-name kinds (URIs, e-mail) give `nil`.
    public init?(_ name: GeneralName) {
        switch name {
        case .dnsName(let host): self = .dnsName(host)
        case .ipAddress(let octets) where octets.bytes.count == 4 || octets.bytes.count == 16:
            self = .ipAddress(Array(octets.bytes))
        default: return nil
        }
    }

    /// The certificate form of this name.
    public var generalName: GeneralName {
        switch self {
        case .dnsName(let host): .dnsName(host)
        case .ipAddress(let bytes): .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
        }
    }

    /// `DNS:host` or `IP:address`, as `openssl x509 -text` prints them.
    public var description: String {
        switch self {
        case .dnsName(let host): "DNS:\(host)"
        case .ipAddress(let bytes): "IP:\(Self.addressText(bytes))"
        }
    }

    private static func addressBytes(_ text: String, family: Int32, count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let parsed = text.withCString { pointer in
            bytes.withUnsafeMutableBytes { inet_pton(family, pointer, $0.baseAddress) }
        }
        return parsed == 1 ? Array(bytes.prefix(count)) : nil
    }

    private static func addressText(_ bytes: [UInt8]) -> String {
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count))
        }
        guard written != nil else { return bytes.map(String.init).joined(separator: ".") }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Why `text` is not a usable DNS name (RFC 1123 labels), or `nil` if it is one.
    private static func dnsNameProblem(_ text: String) -> String? {
        if text.isEmpty { return "is empty" }
        if text.utf8.count > 253 { return "is longer than 253 characters" }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            if label.isEmpty { return "has an empty label (two dots in a row, or a leading/trailing dot)" }
            if label.utf8.count > 63 { return "has a label longer than 63 characters" }
            if let bad = label.first(where: { !($0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-")) }) {
                return "contains '\(bad)', which is neither an address nor allowed in a DNS name"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "has a label that starts or ends with '-'" }
        }
        if let last = labels.last, last.allSatisfy(\.isNumber) {
            return "is neither a valid IP address nor a DNS name (its last label is all digits)"
        }
        return nil
    }
}
