import Foundation
import MixLabCore
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading and writing PEM files with the permission rules MixLab enforces. No error message produced here
/// ever contains key material: key parse failures name the file only.
enum PEMFiles {
    /// Reads a UTF-8 text file, naming it as `what path` in errors.
    static func readText(_ path: String, what: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw MixLabInputError(field: "\(what) \(path)", problem: "does not exist", fix: "check the path")
        }
        guard !isDirectory.boolValue else {
            throw MixLabInputError(field: "\(what) \(path)", problem: "is a directory", fix: "name the PEM file in it")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MixLabInputError(
                field: "\(what) \(path)", problem: "cannot be read", fix: "check its owner and permissions")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MixLabInputError(
                field: "\(what) \(path)", problem: "is not PEM text", fix: "give the .pem/.key file that mixlab wrote")
        }
        return text
    }

    /// Reads a private-key file after checking that its mode grants nothing to group or other.
    static func readPrivateKeyText(_ path: String) throws -> String {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw MixLabInputError(field: "key file \(path)", problem: "does not exist", fix: "check the path")
        }
        let mode = status.st_mode & 0o777
        if mode & 0o077 != 0 {
            let octal = String(mode, radix: 8)
            throw MixLabInputError(
                field: "key file \(path)", problem: "key file \(path) is mode 0\(octal)",
                fix: "run: chmod 600 \(path)")
        }
        return try readText(path, what: "key file")
    }

    /// Every certificate in a PEM text (at least one), failing with `source` named.
    static func certificates(in pem: String, source: String) throws -> [Certificate] {
        let documents: [PEMDocument]
        do {
            documents = try PEMDocument.parseMultiple(pemString: pem)
        } catch {
            throw MixLabInputError(
                field: source, problem: "is not valid PEM", fix: "give the .pem file that `mixlab certs` wrote")
        }
        let certificates = try documents.filter { $0.discriminator == Certificate.defaultPEMDiscriminator }.map {
            document in
            do {
                return try Certificate(pemDocument: document)
            } catch {
                throw MixLabInputError(
                    field: source, problem: "holds a CERTIFICATE block that does not parse (\(error))",
                    fix: "give the .pem file that `mixlab certs` wrote")
            }
        }
        guard !certificates.isEmpty else {
            throw MixLabInputError(
                field: source, problem: "holds no CERTIFICATE block",
                fix: "give the certificate (.pem), not the key or another file")
        }
        return certificates
    }

    /// Parses a private key PEM. The underlying error is not shown: it could quote key bytes.
    static func privateKey(in pem: String, source: String) throws -> Certificate.PrivateKey {
        do {
            return try Certificate.PrivateKey(pemEncoded: pem)
        } catch {
            throw MixLabInputError(
                field: source, problem: "is not a PEM private key (PKCS#8, SEC1 or RSA)",
                fix: "give the .key file that `mixlab certs` wrote next to the certificate")
        }
    }

    /// Creates `path` with mode 0700 if it does not exist.
    static func createDirectory(_ path: String, flag: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw MixLabInputError(field: "\(flag) \(path)", problem: "is a file", fix: "name a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw MixLabInputError(
                field: "\(flag) \(path)", problem: "cannot be created (\(error.localizedDescription))",
                fix: "check the parent directory's permissions")
        }
    }

    /// Writes `text` to `path` with exactly `mode`: into a temporary file created with that mode in the same
    /// directory, then renamed over `path`, so a key is never readable by others even for a moment.
    static func write(_ text: String, to path: String, mode: mode_t) throws {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode)
        guard descriptor >= 0 else { throw writeError(path, errno) }
        var failure: Int32?
        if fchmod(descriptor, mode) != 0 { failure = errno }
        let bytes = Array(text.utf8)
        var offset = 0
        while failure == nil, offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { writeBytes(descriptor, $0) }
            if written < 0 {
                if errno != EINTR { failure = errno }
            } else {
                offset += written
            }
        }
        if failure == nil, fsync(descriptor) != 0 { failure = errno }
        close(descriptor)
        if failure == nil, rename(temporary, path) != 0 { failure = errno }
        if let failure {
            unlink(temporary)
            throw writeError(path, failure)
        }
    }

    private static func writeError(_ path: String, _ code: Int32) -> MixLabInputError {
        MixLabInputError(
            field: path, problem: "cannot be written (\(String(cString: strerror(code))))",
            fix: "check that the directory exists and is writable")
    }
}

/// `write(2)`, outside `PEMFiles` so that its static `write` does not hide the system call.
private func writeBytes(_ descriptor: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
    write(descriptor, buffer.baseAddress, buffer.count)
}
