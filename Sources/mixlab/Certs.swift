import ArgumentParser
import Foundation
import MixLabCore
import MixLabPKI
import X509

extension MixLab {
    struct Certs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the deployment's certificate authority and issue certificates for each role.",
            discussion: """
                Every connection is mutual TLS. The role (coordinator, worker, client) lives in the certificate's \
                subject OU and is checked on every call. See docs/operations.md, "Certificates".
                """,
            subcommands: [InitAuthority.self, Issue.self, Show.self])
    }

    struct InitAuthority: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init",
            abstract: "Create a CA: DIR/ca.pem (share it) and DIR/ca.key (mode 0600, keep it safe).")

        @Option(help: "Directory for ca.pem and ca.key (created with mode 0700 if missing).") var dir: String
        @Option(help: "Days the CA is valid.") var days = CertificateAuthority.defaultValidityDays
        @Flag(help: "Replace an existing CA. Every certificate the old one issued stops being trusted.") var force =
            false

        func run() async throws {
            let validity = try validityDays(days)
            let authority = try CertificateAuthority.create(validity: validity)
            let paths = try authority.write(toDirectory: dir, overwrite: force)
            print("wrote \(paths.certificate) (CA certificate, give it to every host as --ca)")
            print("wrote \(paths.key) (CA key, mode 0600; needed only to issue certificates)")
            print(
                "CA: \(authority.certificate.subject), "
                    + "valid until \(authority.certificate.notValidAfter.formatted(.iso8601))"
            )
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a certificate and key for a coordinator, worker or client: NAME.pem and NAME.key.",
            discussion: """
                Coordinator certificates always cover localhost, 127.0.0.1 and ::1; add the names and addresses \
                workers and clients dial with --san. The .pem holds the leaf certificate only.
                """)

        @Option(help: "Directory holding the CA (ca.pem, ca.key).") var dir: String
        @Option(help: "coordinator, worker or client.") var role: String
        @Option(
            name: .customLong("san"), help: "Extra DNS name or IP address the certificate is valid for (repeatable).")
        var sans: [String] = []
        @Option(help: "Days the certificate is valid.") var days = 365
        @Option(help: "Directory for NAME.pem and NAME.key (default: --dir).") var outDir: String?
        @Flag(help: "Replace existing NAME.pem/NAME.key (rotation; restart the daemon afterwards).") var force = false
        @Argument(help: "Certificate name (CN): letters, digits, '.', '_' and '-'.") var name: String

        func run() async throws {
            let role = try MixLabRole(parsing: self.role)
            try CertificateAuthority.validateLeafName(name)
            let hosts = try sans.map { try SubjectAlternativeName(parsing: $0) }
            let validity = try validityDays(days)
            let authority = try CertificateAuthority.load(directory: dir)
            let issued = try authority.issue(role: role, name: name, subjectAlternativeNames: hosts, validity: validity)
            let (certificatePath, keyPath) = try issued.write(toDirectory: outDir ?? dir, overwrite: force)
            print("wrote \(certificatePath) (\(role) certificate, CN=\(name))")
            print("wrote \(keyPath) (private key, mode 0600)")
            let names = CertificateSummary(certificate: issued.certificate).subjectAlternativeNames
            if !names.isEmpty { print("SANs: \(names.map(\.description).joined(separator: ", "))") }
            print("valid until \(issued.certificate.notValidAfter.formatted(.iso8601))")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a certificate's subject, role, SANs, validity and issuer.")

        @Argument(help: "A .pem certificate file.") var file: String

        func run() async throws {
            print(try CertificateSummary(file: file).text())
        }
    }
}

/// Turns `--days` into a validity range starting now.
private func validityDays(_ days: Int) throws -> CertificateValidity {
    guard (1...36_500).contains(days) else {
        throw MixLabInputError(field: "--days \(days)", problem: "is out of range", fix: "give 1 to 36500 days")
    }
    return .days(days)
}
