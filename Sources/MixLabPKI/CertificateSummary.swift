import Foundation
import X509

/// A human-readable summary of one certificate, as `mixlab certs show` prints it.
public struct CertificateSummary: Sendable {
    public let certificate: Certificate
    /// Where it was read from, if from a file.
    public let source: String?

    public init(certificate: Certificate, source: String? = nil) {
        self.certificate = certificate
        self.source = source
    }

    /// Reads the first certificate of a PEM file.
    public init(file: String) throws {
        let text = try PEMFiles.readText(file, what: "certificate file")
        self.init(certificate: try PEMFiles.certificates(in: text, source: "certificate file \(file)")[0], source: file)
    }

    /// The role as shown: a MixLab role, `CA`, or why there is none.
    public var roleText: String {
        if certificate.isCertificateAuthority { return "CA (issues certificates; no role)" }
        return (try? MixLabRole(certificate: certificate).rawValue) ?? "none (no MixLab OU in the subject)"
    }

    /// The SANs in `DNS:`/`IP:` form.
    public var subjectAlternativeNames: [SubjectAlternativeName] {
        ((try? certificate.extensions.subjectAlternativeNames) ?? nil)?.compactMap(SubjectAlternativeName.init) ?? []
    }

    /// `valid`, `expired` or `not yet valid` at `now`.
    public func status(at now: Date = Date()) -> String {
        now < certificate.notValidBefore ? "not yet valid" : now > certificate.notValidAfter ? "expired" : "valid"
    }

    /// One `label: value` line per fact.
    public func text(at now: Date = Date()) -> String {
        let usages = ((try? certificate.extensions.extendedKeyUsage) ?? nil).map { $0.map(\.description) } ?? []
        let keyUsage = ((try? certificate.extensions.keyUsage) ?? nil).map { "\($0)" } ?? "none"
        let serial = certificate.serialNumber.bytes.map { String(format: "%02x", $0) }.joined(separator: ":")
        var lines: [(String, String)] = []
        if let source { lines.append(("file", source)) }
        lines += [
            ("subject", "\(certificate.subject)"),
            ("role", roleText),
            (
                "SANs",
                subjectAlternativeNames.isEmpty
                    ? "none" : subjectAlternativeNames.map(\.description).joined(separator: ", ")
            ),
            ("key usage", keyUsage),
            ("EKU", usages.isEmpty ? "none" : usages.joined(separator: ", ")),
            ("not before", timestamp(certificate.notValidBefore)),
            ("not after", timestamp(certificate.notValidAfter)),
            ("status", status(at: now)),
            ("issuer", "\(certificate.issuer)"),
            ("serial", serial),
        ]
        return lines.map { label, value in "\(label):".padding(toLength: 12, withPad: " ", startingAt: 0) + value }
            .joined(separator: "\n")
    }
}
