import Foundation
import MixLabPKI
import Testing

/// Checks our certificates with an independent implementation: the `openssl` command.
@Suite("openssl cross-check")
struct OpenSSLCrossCheckTests {
    static func openssl() throws -> String {
        guard let path = Subprocess.find("openssl") else { throw MissingOpenSSL() }
        return path
    }

    struct MissingOpenSSL: Error, CustomStringConvertible {
        var description: String { "the openssl command is missing; install it: apt-get install -y openssl" }
    }

    @Test("openssl verifies every role's leaf against our CA and reads OU, EKU and SANs")
    func verifyAndInspect() throws {
        let openssl = try Self.openssl()
        let fixture = try PKIFixture()
        for role in MixLabRole.allCases {
            let sans = role == .coordinator ? [try SubjectAlternativeName(parsing: "10.9.8.7")] : []
            let (_, files) = try fixture.issue(role, "\(role)-a", sans: sans)
            for purpose in role == .coordinator ? ["sslserver", "sslclient"] : ["sslclient"] {
                let verified = try Subprocess.run(
                    openssl, ["verify", "-purpose", purpose, "-CAfile", files.caPath, files.certificatePath])
                #expect(verified.status == 0, "\(role) \(purpose): \(verified.stdout)\(verified.stderr)")
                #expect(verified.stdout.contains(": OK"))
            }
            let text = try Subprocess.run(openssl, ["x509", "-noout", "-text", "-in", files.certificatePath]).stdout
            #expect(text.contains("Subject: O = MixLab, OU = \(role.rawValue), CN = \(role)-a"))
            #expect(text.contains("CA:FALSE"))
            #expect(text.contains("X509v3 Authority Key Identifier"))
            #expect(text.contains("ASN1 OID: prime256v1"))
            if role == .coordinator {
                #expect(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"))
                #expect(
                    text.contains(
                        "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, IP Address:10.9.8.7"))
            } else {
                #expect(text.contains("TLS Web Client Authentication"))
                #expect(!text.contains("TLS Web Server Authentication"))
                #expect(!text.contains("Subject Alternative Name"))
            }
            let key = try Subprocess.run(openssl, ["pkey", "-in", files.keyPath, "-noout", "-check"])
            #expect(key.status == 0, "\(key.stderr)")
        }
        let ca = try Subprocess.run(openssl, ["x509", "-noout", "-text", "-in", fixture.caPath]).stdout
        #expect(ca.contains("CA:TRUE, pathlen:0"))
        #expect(ca.contains("Certificate Sign, CRL Sign"))
    }

    @Test("openssl refuses an expired leaf and a leaf from another CA")
    func verifyRefuses() throws {
        let openssl = try Self.openssl()
        let fixture = try PKIFixture(), foreign = try PKIFixture()
        let (_, expired) = try fixture.issue(.worker, "old", validity: expiredValidity)
        let (_, stranger) = try foreign.issue(.worker, "w1")
        let expiredResult = try Subprocess.run(openssl, ["verify", "-CAfile", fixture.caPath, expired.certificatePath])
        #expect(expiredResult.status != 0)
        #expect((expiredResult.stdout + expiredResult.stderr).contains("certificate has expired"))
        let strangerResult = try Subprocess.run(
            openssl, ["verify", "-CAfile", fixture.caPath, stranger.certificatePath])
        #expect(strangerResult.status != 0)
    }
}
