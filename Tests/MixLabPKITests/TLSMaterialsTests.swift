import Foundation
import MixLabCore
import MixLabPKI
import Testing

@Suite("Loading and checking TLS files")
struct TLSMaterialsTests {
    @Test("A 0600 key is accepted and the identity comes from the certificate")
    func accepts() async throws {
        let fixture = try PKIFixture()
        let (issued, files) = try fixture.issue(.worker, "w1")
        let materials = try await TLSMaterials.load(files, expectedRole: .worker)
        #expect(materials.identity == PeerIdentity(name: "w1", role: .worker))
        #expect(materials.certificatePEM == issued.certificatePEM)
        #expect(materials.privateKeyPEM == issued.privateKeyPEM)
        #expect(materials.caPEM == fixture.authority.certificatePEM)
        #expect(materials.caCertificates == [fixture.authority.certificate])
        #expect(!"\(materials)".contains("PRIVATE KEY") && !String(reflecting: materials).contains("PRIVATE KEY"))
    }

    @Test(
        "A key readable by group or others is refused with the chmod fix",
        arguments: [0o644, 0o640, 0o604, 0o660, 0o700])
    func refusesLooseKey(mode: Int) async throws {
        let fixture = try PKIFixture()
        let (_, files) = try fixture.issue(.worker, "w1")
        try fixture.scratch.chmod("w1.key", mode)
        if mode & 0o077 == 0 {
            _ = try await TLSMaterials.load(files, expectedRole: .worker)
            return
        }
        let error = await #expect(throws: MixLabInputError.self) {
            try await TLSMaterials.load(files, expectedRole: .worker)
        }
        let octal = "0" + String(mode, radix: 8)
        let key = files.keyPath
        #expect(error?.description == "key file \(key): key file \(key) is mode \(octal); run: chmod 600 \(key)")
    }

    @Test("The wrong role is refused, naming both roles")
    func refusesWrongRole() async throws {
        let fixture = try PKIFixture()
        let (_, files) = try fixture.issue(.worker, "w1")
        let error = await #expect(throws: MixLabInputError.self) {
            try await TLSMaterials.load(files, expectedRole: .coordinator)
        }
        #expect(error?.problem == "is a worker certificate (OU=worker) but this needs a coordinator certificate")
        #expect(error?.fix.contains("--role coordinator") == true)
    }

    @Test("An expired certificate is refused")
    func refusesExpired() async throws {
        let fixture = try PKIFixture()
        let (_, files) = try fixture.issue(.worker, "old", validity: expiredValidity)
        let error = await #expect(throws: MixLabInputError.self) {
            try await TLSMaterials.load(files, expectedRole: .worker)
        }
        #expect(error?.problem.hasPrefix("expired on ") == true)
    }

    @Test("A certificate judged before its start is 'not valid until', naming the clock as a cause")
    func refusesNotYetValid() async throws {
        let fixture = try PKIFixture()
        let (_, files) = try fixture.issue(.worker, "w1")
        let error = await #expect(throws: MixLabInputError.self) {
            try await TLSMaterials.load(files, expectedRole: .worker, now: Date().addingTimeInterval(-86_400))
        }
        #expect(error?.problem.hasPrefix("is not valid until ") == true)
        #expect(error?.fix.hasPrefix("check this host's clock") == true)
    }

    @Test("A certificate from another CA is refused")
    func refusesForeignCA() async throws {
        let fixture = try PKIFixture(), foreign = try PKIFixture()
        let (_, foreignFiles) = try foreign.issue(.worker, "w1")
        let files = TLSFiles(
            caPath: fixture.caPath, certificatePath: foreignFiles.certificatePath, keyPath: foreignFiles.keyPath)
        let error = await #expect(throws: MixLabInputError.self) {
            try await TLSMaterials.load(files, expectedRole: .worker)
        }
        #expect(error?.problem.hasPrefix("was not issued by the CA in \(fixture.caPath)") == true)
    }

    @Test("A key that belongs to another certificate is refused without showing it")
    func refusesMismatchedKey() async throws {
        let fixture = try PKIFixture()
        let (_, first) = try fixture.issue(.worker, "w1")
        let (second, other) = try fixture.issue(.worker, "w2")
        let files = TLSFiles(caPath: first.caPath, certificatePath: first.certificatePath, keyPath: other.keyPath)
        let error = await #expect(throws: MixLabInputError.self) {
            try await TLSMaterials.load(files, expectedRole: .worker)
        }
        #expect(error?.problem == "does not belong to \(first.certificatePath)")
        #expect(error.map { !$0.description.contains(second.privateKeyPEM.split(separator: "\n")[1]) } == true)
    }

    @Test("Missing, swapped and garbage files are named in the error")
    func refusesBadFiles() async throws {
        let fixture = try PKIFixture()
        let (_, files) = try fixture.issue(.client, "alice")
        func failure(_ files: TLSFiles) async -> MixLabInputError? {
            await #expect(throws: MixLabInputError.self) { try await TLSMaterials.load(files, expectedRole: .client) }
        }
        var missing = files
        missing.certificatePath = fixture.scratch.file("nope.pem")
        #expect(
            await failure(missing)?.description
                == "certificate file \(missing.certificatePath): does not exist; check the path")
        var missingKey = files
        missingKey.keyPath = fixture.scratch.file("nope.key")
        #expect(await failure(missingKey)?.field == "key file \(missingKey.keyPath)")

        var keyAsCertificate = files
        keyAsCertificate.certificatePath = files.keyPath
        #expect(await failure(keyAsCertificate)?.problem == "holds no CERTIFICATE block")

        try "not a key\n".write(toFile: fixture.scratch.file("junk.key"), atomically: true, encoding: .utf8)
        try fixture.scratch.chmod("junk.key", 0o600)
        var junkKey = files
        junkKey.keyPath = fixture.scratch.file("junk.key")
        #expect(await failure(junkKey)?.problem == "is not a PEM private key (PKCS#8, SEC1 or RSA)")

        var leafAsCA = files
        leafAsCA.caPath = files.certificatePath
        #expect(await failure(leafAsCA)?.problem.contains("which is not a CA certificate") == true)
    }
}
