import Foundation
import MixLabCore
import MixLabPKI
import Testing
import X509

@Suite("Certificate authority and roles")
struct CertificateAuthorityTests {
    @Test("Every role and name round-trips through a PEM certificate", arguments: MixLabRole.allCases)
    func roleAndNameRoundTrip(role: MixLabRole) throws {
        let authority = try CertificateAuthority.create()
        let issued = try authority.issue(role: role, name: "node-7.lab")
        let reparsed = try Certificate(pemEncoded: issued.certificatePEM)
        #expect(try PeerIdentity(certificate: reparsed) == PeerIdentity(name: "node-7.lab", role: role))
        #expect(try MixLabRole(certificate: reparsed) == role)
        let subject = "\(reparsed.subject)"
        #expect(
            subject.contains("OU=\(role.rawValue)") && subject.contains("O=MixLab") && subject.contains("CN=node-7.lab")
        )
    }

    @Test("Roles parse case-insensitively; unknown roles name the flag and the choices")
    func roleParsing() throws {
        #expect(try MixLabRole(parsing: "Worker") == .worker)
        let error = #expect(throws: MixLabInputError.self) { try MixLabRole(parsing: "admin") }
        #expect(error?.description == "--role: unknown role 'admin'; use one of coordinator, worker, client")
    }

    @Test("authorize lets the listed roles through and names the refused one")
    func authorize() throws {
        let worker = PeerIdentity(name: "w1", role: .worker)
        try worker.authorize([.worker], to: "open a worker session")
        let error = #expect(throws: RoleNotAllowed.self) {
            try worker.authorize([.client, .coordinator], to: "submit a sweep")
        }
        #expect(error?.description == "worker w1 may not submit a sweep (needs a coordinator or client certificate)")
    }

    @Test("A certificate without a MixLab OU has no role: the CA itself")
    func caHasNoRole() throws {
        let authority = try CertificateAuthority.create()
        #expect(throws: MixLabInputError.self) { try MixLabRole(certificate: authority.certificate) }
        #expect(throws: MixLabInputError.self) { try PeerIdentity(certificate: authority.certificate) }
    }

    @Test("The CA is CA:TRUE with path length 0, signs itself and its leaves, lasts ten years")
    func caShape() throws {
        let authority = try CertificateAuthority.create()
        let ca = authority.certificate
        #expect(try ca.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(try ca.extensions.keyUsage?.keyCertSign == true)
        #expect(try ca.extensions.keyUsage?.cRLSign == true)
        #expect(ca.publicKey.isValidSignature(ca.signature, for: ca))
        let years = ca.notValidAfter.timeIntervalSince(ca.notValidBefore) / (365.25 * 86_400)
        #expect(years > 9.9 && years < 10.1)

        let leaf = try authority.issue(role: .worker, name: "w1").certificate
        #expect(ca.publicKey.isValidSignature(leaf.signature, for: leaf))
        #expect(leaf.issuer == ca.subject)
        #expect(
            try leaf.extensions.authorityKeyIdentifier?.keyIdentifier
                == ca.extensions.subjectKeyIdentifier?.keyIdentifier)
        #expect(try leaf.extensions.subjectKeyIdentifier != nil)
        #expect(try leaf.extensions.basicConstraints == .notCertificateAuthority)
    }

    @Test("Two CAs never share a subject; two leaves never share a serial")
    func uniqueness() throws {
        let first = try CertificateAuthority.create(), second = try CertificateAuthority.create()
        #expect(first.certificate.subject != second.certificate.subject)
        let a = try first.issue(role: .client, name: "alice"), b = try first.issue(role: .client, name: "alice")
        #expect(a.certificate.serialNumber != b.certificate.serialNumber)
    }

    @Test("Extended key usages and SANs per role")
    func usagesAndNames() throws {
        let authority = try CertificateAuthority.create()
        let extra = try SubjectAlternativeName(parsing: "head.example.org")
        let coordinator = try authority.issue(role: .coordinator, name: "head", subjectAlternativeNames: [extra])
        #expect(try Array(coordinator.certificate.extensions.extendedKeyUsage!) == [.serverAuth, .clientAuth])
        #expect(
            CertificateSummary(certificate: coordinator.certificate).subjectAlternativeNames.map(\.description)
                == ["DNS:localhost", "IP:127.0.0.1", "IP:::1", "DNS:head.example.org"])

        let worker = try authority.issue(role: .worker, name: "w1")
        #expect(try Array(worker.certificate.extensions.extendedKeyUsage!) == [.clientAuth])
        #expect(try worker.certificate.extensions.subjectAlternativeNames == nil)
        let client = try authority.issue(role: .client, name: "alice", subjectAlternativeNames: [extra])
        #expect(try Array(client.certificate.extensions.extendedKeyUsage!) == [.clientAuth])
        #expect(CertificateSummary(certificate: client.certificate).subjectAlternativeNames == [extra])
    }

    @Test("Validity defaults to one year and can be set explicitly", arguments: [1, 365, 3650])
    func validity(days: Int) throws {
        let authority = try CertificateAuthority.create()
        let leaf = try authority.issue(role: .worker, name: "w", validity: .days(days)).certificate
        let span = leaf.notValidAfter.timeIntervalSince(leaf.notValidBefore)
        #expect(abs(span - (Double(days) * 86_400 + 300)) < 2)
        let expired = try authority.issue(role: .worker, name: "w", validity: expiredValidity).certificate
        #expect(expired.notValidAfter < Date())
    }

    @Test(
        "Leaf names must be file- and CN-safe",
        arguments: ["", "a/b", "../x", "-lead", ".hidden", "ca", "sp ace", "é", String(repeating: "x", count: 65)])
    func badNames(name: String) throws {
        let authority = try CertificateAuthority.create()
        let error = #expect(throws: MixLabInputError.self) { try authority.issue(role: .worker, name: name) }
        #expect(error?.field == "NAME '\(name)'")
    }

    @Test(
        "Good leaf names", arguments: ["w1", "gpu-node-3", "alice.laptop", "A_b-9", String(repeating: "x", count: 64)])
    func goodNames(name: String) throws {
        try CertificateAuthority.validateLeafName(name)
    }

    @Test("Writing: ca.key 0600, directory 0700; an existing CA is kept unless overwrite is asked for")
    func writeAndRefuseOverwrite() throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.file("pki")
        let first = try CertificateAuthority.create()
        try first.write(toDirectory: directory)
        #expect(try scratch.mode(of: "pki") == 0o700)
        #expect(try scratch.mode(of: "pki/ca.key") == 0o600)
        #expect(try scratch.mode(of: "pki/ca.pem") == 0o644)

        let second = try CertificateAuthority.create()
        let error = #expect(throws: MixLabInputError.self) { try second.write(toDirectory: directory) }
        #expect(error?.description.contains("already holds a CA") == true)
        #expect(error?.description.contains("--force") == true)
        #expect(try CertificateAuthority.load(directory: directory).certificate == first.certificate)

        try second.write(toDirectory: directory, overwrite: true)
        #expect(try CertificateAuthority.load(directory: directory).certificate == second.certificate)
        #expect(try scratch.mode(of: "pki/ca.key") == 0o600)
    }

    @Test("Loading a CA: missing directory and a group-readable ca.key are refused with the fix")
    func loadChecks() throws {
        let scratch = try ScratchDirectory()
        let missing = #expect(throws: MixLabInputError.self) { try CertificateAuthority.load(directory: scratch.path) }
        #expect(missing?.description.contains("mixlab certs init --dir") == true)

        try CertificateAuthority.create().write(toDirectory: scratch.path)
        try scratch.chmod("ca.key", 0o640)
        let loose = #expect(throws: MixLabInputError.self) { try CertificateAuthority.load(directory: scratch.path) }
        #expect(loose?.description.contains("is mode 0640; run: chmod 600 \(scratch.file("ca.key"))") == true)
    }

    @Test("Issued leaves refuse to overwrite their files unless asked")
    func leafOverwrite() throws {
        let fixture = try PKIFixture()
        try fixture.issue(.worker, "w1")
        #expect(try fixture.scratch.mode(of: "w1.key") == 0o600)
        let again = try fixture.authority.issue(role: .worker, name: "w1")
        #expect(throws: MixLabInputError.self) { try again.write(toDirectory: fixture.scratch.path) }
        try again.write(toDirectory: fixture.scratch.path, overwrite: true)
        #expect(try String(contentsOfFile: fixture.scratch.file("w1.pem"), encoding: .utf8) == again.certificatePEM)
    }

    @Test("Descriptions and dumps never show key material")
    func noKeyInDescriptions() throws {
        let fixture = try PKIFixture()
        let (issued, files) = try fixture.issue(.coordinator, "head")
        let keyBody = issued.privateKeyPEM.split(separator: "\n").dropFirst().first.map(String.init) ?? "unreachable"
        var dumped = ""
        dump(issued, to: &dumped)
        dump(fixture.authority, to: &dumped)
        for text in [
            "\(issued)", String(reflecting: issued), "\(fixture.authority)", String(reflecting: fixture.authority),
            dumped,
        ] {
            #expect(!text.contains(keyBody))
            #expect(!text.contains("PRIVATE KEY"))
        }
        #expect(issued.privateKeyPEM.contains("PRIVATE KEY"))
        _ = files
    }
}
