import Crypto
import Foundation
import MixLabCore
import SwiftASN1
import X509

/// When a certificate is valid. `days(_:)` starts five minutes in the past so that small clock differences
/// between hosts do not make a fresh certificate "not yet valid".
public struct CertificateValidity: Sendable, Hashable {
    public var notValidBefore: Date
    public var notValidAfter: Date

    public init(notValidBefore: Date, notValidAfter: Date) {
        self.notValidBefore = notValidBefore
        self.notValidAfter = notValidAfter
    }

    /// Valid from five minutes before `now` until `days` days after it.
    public static func days(_ days: Int, from now: Date = Date()) -> CertificateValidity {
        CertificateValidity(
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(Double(days) * 86_400))
    }
}

/// The private certificate authority of one MixLab deployment: an EC P-256 root (CA:TRUE, path length 0) that
/// signs the coordinator, worker and client leaves.
///
/// On disk it is `DIR/ca.pem` (the certificate every host needs as its trust root) and `DIR/ca.key` (mode 0600,
/// needed only to issue new leaves; keep it off the worker and client hosts). Neither `description` nor
/// `debugDescription` shows the key.
public struct CertificateAuthority: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public static let certificateFileName = "ca.pem"
    public static let keyFileName = "ca.key"
    /// Ten years: the CA outlives many rounds of one-year leaves.
    public static let defaultValidityDays = 3650

    public let certificate: Certificate
    private let privateKey: Certificate.PrivateKey

    /// Makes a new CA with a fresh key.
    ///
    /// - Parameter commonName: the subject CN; by default `MixLab CA` plus a random tag, so that the CAs of two
    ///   deployments never share a subject name.
    public static func create(
        commonName: String? = nil, validity: CertificateValidity = .days(defaultValidityDays)
    ) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let tag = (0..<4).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let name = try DistinguishedName {
            OrganizationName("MixLab")
            CommonName(commonName ?? "MixLab CA \(tag)")
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: validity.notValidBefore, notValidAfter: validity.notValidAfter,
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: publicKey)
            },
            issuerPrivateKey: Certificate.PrivateKey(key))
        return CertificateAuthority(certificate: certificate, privateKey: Certificate.PrivateKey(key))
    }

    private init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// Builds a CA from PEM text; `source` names where it came from in errors.
    public init(certificatePEM: String, privateKeyPEM: String, source: String = "the CA") throws {
        let certificate = try PEMFiles.certificates(in: certificatePEM, source: "CA certificate \(source)")[0]
        guard certificate.isCertificateAuthority else {
            throw MixLabInputError(
                field: "CA certificate \(source)", problem: "is not a CA certificate (no basicConstraints CA:TRUE)",
                fix: "point at the ca.pem written by `mixlab certs init`")
        }
        let key = try PEMFiles.privateKey(in: privateKeyPEM, source: "CA key \(source)")
        guard key.publicKey == certificate.publicKey else {
            throw MixLabInputError(
                field: "CA key \(source)", problem: "does not belong to the CA certificate next to it",
                fix: "use the ca.key written together with this ca.pem by `mixlab certs init`")
        }
        self.init(certificate: certificate, privateKey: key)
    }

    /// Loads `directory/ca.pem` and `directory/ca.key`; the key must be mode 0600 (no group/other access).
    public static func load(directory: String) throws -> CertificateAuthority {
        let certificatePath = (directory as NSString).appendingPathComponent(certificateFileName)
        let keyPath = (directory as NSString).appendingPathComponent(keyFileName)
        guard FileManager.default.fileExists(atPath: certificatePath) else {
            throw MixLabInputError(
                field: "--dir \(directory)", problem: "holds no CA (\(certificatePath) does not exist)",
                fix: "create one with `mixlab certs init --dir \(directory)` or pass the directory that has ca.pem")
        }
        let certificatePEM = try PEMFiles.readText(certificatePath, what: "CA certificate")
        let keyPEM = try PEMFiles.readPrivateKeyText(keyPath)
        return try CertificateAuthority(certificatePEM: certificatePEM, privateKeyPEM: keyPEM, source: directory)
    }

    /// The CA certificate as PEM: the trust root every coordinator, worker and client is given with `--ca`.
    public var certificatePEM: String {
        // Serialising a certificate that was parsed or built successfully cannot fail.
        (try? certificate.serializeAsPEM().pemString) ?? ""
    }

    /// Writes `directory/ca.pem` (0644) and `directory/ca.key` (0600), creating the directory with mode 0700
    /// if it is missing.
    ///
    /// - Parameter overwrite: replace an existing CA. Without it an existing `ca.pem` or `ca.key` is an error,
    ///   because replacing the CA invalidates every certificate it issued.
    /// - Returns: the two paths written.
    @discardableResult
    public func write(
        toDirectory directory: String, overwrite: Bool = false
    ) throws -> (certificate: String, key: String) {
        let certificatePath = (directory as NSString).appendingPathComponent(Self.certificateFileName)
        let keyPath = (directory as NSString).appendingPathComponent(Self.keyFileName)
        if !overwrite {
            for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
                throw MixLabInputError(
                    field: "--dir \(directory)", problem: "already holds a CA (\(path) exists)",
                    fix: "keep it (every certificate it issued depends on it), or pass --force to replace it")
            }
        }
        try PEMFiles.createDirectory(directory, flag: "--dir")
        try PEMFiles.write(try privateKey.serializeAsPEM().pemString, to: keyPath, mode: 0o600)
        try PEMFiles.write(certificatePEM, to: certificatePath, mode: 0o644)
        return (certificatePath, keyPath)
    }

    /// Issues a leaf certificate for `role` with subject `O=MixLab, OU=<role>, CN=<name>` and a fresh P-256 key.
    ///
    /// Coordinator leaves carry serverAuth + clientAuth and always the SANs `localhost`, `127.0.0.1` and `::1`
    /// in front of `subjectAlternativeNames`; worker and client leaves carry clientAuth and only the SANs given.
    /// - Parameter validity: by default one year from now; tests pass a past range to get an expired leaf.
    public func issue(
        role: MixLabRole, name: String, subjectAlternativeNames: [SubjectAlternativeName] = [],
        validity: CertificateValidity = .days(365)
    ) throws -> IssuedCertificate {
        try Self.validateLeafName(name)
        var hosts: [SubjectAlternativeName] = role == .coordinator ? SubjectAlternativeName.coordinatorDefaults : []
        for host in subjectAlternativeNames where !hosts.contains(host) { hosts.append(host) }

        let key = P256.Signing.PrivateKey()
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("MixLab")
            OrganizationalUnitName(role.rawValue)
            CommonName(name)
        }
        let authorityKeyID =
            try certificate.extensions.subjectKeyIdentifier?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        var extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage(role.extendedKeyUsages)
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
        }
        if !hosts.isEmpty {
            try extensions.append(try SubjectAlternativeNames(hosts.map(\.generalName)).makeCertificateExtension())
        }
        let leaf = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: validity.notValidBefore, notValidAfter: validity.notValidAfter,
            issuer: certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions, issuerPrivateKey: privateKey)
        return IssuedCertificate(
            certificate: leaf, identity: PeerIdentity(name: name, role: role),
            certificatePEM: try leaf.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// Checks a leaf name: 1–64 characters from letters, digits, `.`, `_` and `-`, starting with a letter or
    /// digit. The name becomes the CN and the file names `NAME.pem` / `NAME.key`, hence the strict set.
    public static func validateLeafName(_ name: String, field: String = "NAME") throws {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        let problem: String?
        switch name {
        case "": problem = "is empty"
        case _ where name.count > 64: problem = "is longer than 64 characters"
        case _ where !allowed: problem = "contains characters other than letters, digits, '.', '_' and '-'"
        case _ where !(name.first!.isLetter || name.first!.isNumber): problem = "does not start with a letter or digit"
        case "ca": problem = "is reserved for the CA's own files (ca.pem, ca.key)"
        default: problem = nil
        }
        if let problem {
            throw MixLabInputError(
                field: "\(field) '\(name)'", problem: problem,
                fix: "use a host-like name such as gpu-node-3 or alice.laptop")
        }
    }

    public var description: String { "CertificateAuthority(\(certificate.subject), private key redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["certificate": certificate], displayStyle: .struct) }
}

/// A freshly issued leaf: the certificate, its PEM, and its private key PEM (shown by no description).
public struct IssuedCertificate: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let certificate: Certificate
    public let identity: PeerIdentity
    public let certificatePEM: String
    /// The PKCS#8 PEM of the leaf's private key. Write it only with `write(certificatePath:keyPath:overwrite:)`.
    public let privateKeyPEM: String

    /// Writes the certificate (0644) and the key (0600), leaf only (no CA in the chain file).
    ///
    /// - Parameter overwrite: replace existing files (certificate rotation); otherwise existing files are an error.
    public func write(certificatePath: String, keyPath: String, overwrite: Bool = false) throws {
        if !overwrite {
            for path in [certificatePath, keyPath] where FileManager.default.fileExists(atPath: path) {
                throw MixLabInputError(
                    field: "NAME '\(identity.name)'", problem: "\(path) already exists",
                    fix: "pick another name, or pass --force to replace it (then restart the daemon that uses it)")
            }
        }
        try PEMFiles.write(privateKeyPEM, to: keyPath, mode: 0o600)
        try PEMFiles.write(certificatePEM, to: certificatePath, mode: 0o644)
    }

    /// Writes `directory/NAME.pem` and `directory/NAME.key`, creating the directory (mode 0700) if missing.
    ///
    /// - Returns: the two paths written.
    @discardableResult
    public func write(
        toDirectory directory: String, overwrite: Bool = false
    ) throws -> (certificate: String, key: String) {
        try PEMFiles.createDirectory(directory, flag: "--out-dir")
        let certificatePath = (directory as NSString).appendingPathComponent("\(identity.name).pem")
        let keyPath = (directory as NSString).appendingPathComponent("\(identity.name).key")
        try write(certificatePath: certificatePath, keyPath: keyPath, overwrite: overwrite)
        return (certificatePath, keyPath)
    }

    public var description: String { "IssuedCertificate(\(identity), \(certificate.subject), private key redacted)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["certificate": certificate, "identity": identity], displayStyle: .struct)
    }
}

extension Certificate {
    /// Whether basicConstraints says CA:TRUE.
    var isCertificateAuthority: Bool {
        if case .isCertificateAuthority = try? extensions.basicConstraints { return true }
        return false
    }
}
