import Foundation
import MixLabTestSupport
import MixLabPKI

/// A unique temporary directory, removed when the value goes away.
final class ScratchDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-pki-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func mode(of name: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: file(name))[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    func chmod(_ name: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: file(name))
    }
}

/// A CA written to a scratch directory plus helpers to issue leaves into it.
struct PKIFixture {
    let scratch: ScratchDirectory
    let authority: CertificateAuthority

    init() throws {
        try self.init(scratch: ScratchDirectory())
    }

    init(scratch: ScratchDirectory) throws {
        self.scratch = scratch
        authority = try CertificateAuthority.create()
        try authority.write(toDirectory: scratch.path)
    }

    var caPath: String { scratch.file("ca.pem") }

    /// Issues a leaf and writes NAME.pem / NAME.key; returns its `TLSFiles` against this CA.
    @discardableResult
    func issue(
        _ role: MixLabRole, _ name: String, sans: [SubjectAlternativeName] = [],
        validity: CertificateValidity = .days(365)
    ) throws -> (issued: IssuedCertificate, files: TLSFiles) {
        let issued = try authority.issue(role: role, name: name, subjectAlternativeNames: sans, validity: validity)
        let paths = try issued.write(toDirectory: scratch.path)
        return (issued, TLSFiles(caPath: caPath, certificatePath: paths.certificate, keyPath: paths.key))
    }
}

/// An already-expired validity window: ended a day ago.
let expiredValidity = CertificateValidity(
    notValidBefore: Date().addingTimeInterval(-10 * 86_400), notValidAfter: Date().addingTimeInterval(-86_400))

/// Runs a program as a real subprocess and captures what it prints.
struct Subprocess {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let mixlab = MixLabExecutable.path

    /// The first executable called `name` on PATH.
    static func find(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return (path.split(separator: ":") + ["/usr/bin", "/bin"]).map { "\($0)/\(name)" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Outputs here are a few lines, far below a pipe's buffer, so reading one pipe after the other is safe.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func mixlab(_ arguments: String...) throws -> Outcome { try run(mixlab, arguments) }
}
