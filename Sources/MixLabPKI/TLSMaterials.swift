import Foundation
import MixLabCore
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509

/// The three file paths a TLS endpoint is configured with (`--ca`, `--cert`, `--key`).
public struct TLSFiles: Sendable, Hashable {
    /// The CA certificate (`ca.pem`): the only trust root for peers.
    public var caPath: String
    /// This endpoint's own leaf certificate (`NAME.pem`).
    public var certificatePath: String
    /// This endpoint's private key (`NAME.key`); must be mode 0600 or stricter.
    public var keyPath: String

    public init(caPath: String, certificatePath: String, keyPath: String) {
        self.caPath = caPath
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}

/// Checked TLS inputs for one endpoint, ready to hand to NIOSSL or grpc-swift as PEM bytes.
///
/// Made only by `load(_:expectedRole:now:)`, which guarantees: the key file is mode 0600 (no group/other
/// access), the key belongs to the certificate, the certificate was signed by the CA and is valid now (checked
/// with swift-certificates' RFC 5280 verifier), and its OU role is the one the caller expects. The private key
/// appears in no `description`, `debugDescription` or `dump` output.
public struct TLSMaterials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The CA file's PEM text. Make it the only trust root, on both sides:
    /// `tls.trustRoots = .certificates([.bytes(Array(caPEM.utf8), format: .pem)])`.
    public let caPEM: String
    /// The certificate file's PEM text (leaf, possibly followed by more certificates).
    public let certificatePEM: String
    /// The key file's PEM text. Never log it.
    public let privateKeyPEM: String
    /// The parsed CA certificates from `caPEM`.
    public let caCertificates: [Certificate]
    /// The parsed leaf (the first certificate of `certificatePEM`).
    public let certificate: Certificate
    /// The leaf's CN and OU role.
    public let identity: PeerIdentity
    /// The paths these were read from.
    public let files: TLSFiles

    /// Loads and checks the three files for an endpoint that must hold a certificate of `expectedRole`.
    ///
    /// Every failure is a `MixLabInputError` naming the file and the fix, for example
    /// `key file /etc/mixlab/w1.key: key file /etc/mixlab/w1.key is mode 0644; run: chmod 600 /etc/mixlab/w1.key`.
    /// - Parameter now: the time validity is judged at (tests only).
    public static func load(_ files: TLSFiles, expectedRole: MixLabRole, now: Date = Date()) async throws
        -> TLSMaterials
    {
        let keyPEM = try PEMFiles.readPrivateKeyText(files.keyPath)
        let caPEM = try PEMFiles.readText(files.caPath, what: "CA file")
        let certificatePEM = try PEMFiles.readText(files.certificatePath, what: "certificate file")
        let caCertificates = try PEMFiles.certificates(in: caPEM, source: "CA file \(files.caPath)")
        let chain = try PEMFiles.certificates(in: certificatePEM, source: "certificate file \(files.certificatePath)")
        let key = try PEMFiles.privateKey(in: keyPEM, source: "key file \(files.keyPath)")
        let leaf = chain[0]
        let certificateField = "certificate file \(files.certificatePath)"

        for ca in caCertificates where !ca.isCertificateAuthority {
            throw MixLabInputError(
                field: "CA file \(files.caPath)", problem: "holds '\(ca.subject)', which is not a CA certificate",
                fix: "pass the ca.pem written by `mixlab certs init` as --ca")
        }
        guard key.publicKey == leaf.publicKey else {
            throw MixLabInputError(
                field: "key file \(files.keyPath)", problem: "does not belong to \(files.certificatePath)",
                fix: "pass the NAME.key written together with NAME.pem by `mixlab certs issue`")
        }
        guard let issuer = caCertificates.first(where: { $0.publicKey.isValidSignature(leaf.signature, for: leaf) })
        else {
            throw MixLabInputError(
                field: certificateField,
                problem: "was not issued by the CA in \(files.caPath) (its issuer is '\(leaf.issuer)', the CA is '"
                    + caCertificates.map { "\($0.subject)" }.joined(separator: "', '") + "')",
                fix: "pass the --ca of the CA that issued it, or issue a new one from this CA with `mixlab certs issue`"
            )
        }
        try checkValidity(leaf, field: certificateField, now: now, fix: "issue a new one with `mixlab certs issue`")
        try checkValidity(
            issuer, field: "CA file \(files.caPath)", now: now,
            fix: "create a new CA with `mixlab certs init --force` and re-issue every certificate")

        let identity = try PeerIdentity(certificate: leaf)
        guard identity.role == expectedRole else {
            throw MixLabInputError(
                field: certificateField,
                problem: "is a \(identity.role) certificate (OU=\(identity.role)) "
                    + "but this needs a \(expectedRole) certificate",
                fix: "issue one with `mixlab certs issue --role \(expectedRole) NAME` and pass it as --cert/--key")
        }
        let usages = (try? leaf.extensions.extendedKeyUsage).map { Array($0) } ?? []
        for usage in expectedRole.extendedKeyUsages where !usages.contains(usage) {
            throw MixLabInputError(
                field: certificateField, problem: "lacks the extended key usage \(usage) a \(expectedRole) needs",
                fix: "issue one with `mixlab certs issue --role \(expectedRole) NAME`")
        }

        var verifier = Verifier(rootCertificates: CertificateStore(caCertificates)) {
            RFC5280Policy(fixedExpiryValidationTime: now)
        }
        let intermediates = CertificateStore(chain.dropFirst())
        guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: intermediates) else {
            throw MixLabInputError(
                field: certificateField, problem: "does not form a valid RFC 5280 chain to the CA in \(files.caPath)",
                fix: "issue a new one from this CA with `mixlab certs issue`")
        }
        return TLSMaterials(
            caPEM: caPEM, certificatePEM: certificatePEM, privateKeyPEM: keyPEM, caCertificates: caCertificates,
            certificate: leaf, identity: identity, files: files)
    }

    private init(
        caPEM: String, certificatePEM: String, privateKeyPEM: String, caCertificates: [Certificate],
        certificate: Certificate, identity: PeerIdentity, files: TLSFiles
    ) {
        self.caPEM = caPEM
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.caCertificates = caCertificates
        self.certificate = certificate
        self.identity = identity
        self.files = files
    }

    private static func checkValidity(_ certificate: Certificate, field: String, now: Date, fix: String) throws {
        if now < certificate.notValidBefore {
            throw MixLabInputError(
                field: field, problem: "is not valid until \(timestamp(certificate.notValidBefore))",
                fix: "check this host's clock, or \(fix)")
        }
        if now > certificate.notValidAfter {
            throw MixLabInputError(
                field: field, problem: "expired on \(timestamp(certificate.notValidAfter))", fix: fix)
        }
    }

    public var description: String {
        "TLSMaterials(\(identity), cert \(files.certificatePath), key \(files.keyPath) [redacted], ca \(files.caPath))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["identity": identity, "files": files], displayStyle: .struct)
    }
}

/// `2026-11-23T11:00:00Z`.
func timestamp(_ date: Date) -> String {
    date.formatted(.iso8601)
}
