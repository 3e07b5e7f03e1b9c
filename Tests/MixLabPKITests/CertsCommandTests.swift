import Foundation
import MixLabPKI
import Testing

@Suite("mixlab certs command line")
struct CertsCommandTests {
    @Test("init writes the CA, refuses to overwrite it, and --force replaces it")
    func initCommand() throws {
        let scratch = try ScratchDirectory()
        let directory = scratch.file("pki")
        let created = try Subprocess.mixlab("certs", "init", "--dir", directory)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try scratch.mode(of: "pki") == 0o700)
        #expect(try scratch.mode(of: "pki/ca.key") == 0o600)
        let original = try String(contentsOfFile: scratch.file("pki/ca.pem"), encoding: .utf8)

        let again = try Subprocess.mixlab("certs", "init", "--dir", directory)
        #expect(again.status == 2)
        #expect(again.stderr.hasPrefix("error: --dir \(directory): already holds a CA"))
        #expect(again.stderr.contains("--force"))
        #expect(try String(contentsOfFile: scratch.file("pki/ca.pem"), encoding: .utf8) == original)

        let forced = try Subprocess.mixlab("certs", "init", "--dir", directory, "--force")
        #expect(forced.status == 0)
        #expect(try String(contentsOfFile: scratch.file("pki/ca.pem"), encoding: .utf8) != original)
    }

    @Test("issue writes NAME.pem and a 0600 NAME.key for each role; show prints them")
    func issueAndShow() throws {
        let scratch = try ScratchDirectory()
        #expect(try Subprocess.mixlab("certs", "init", "--dir", scratch.path).status == 0)
        let issued = try Subprocess.mixlab(
            "certs", "issue", "--dir", scratch.path, "--role", "coordinator", "head",
            "--san", "head.example.org", "--san", "10.0.0.5", "--days", "30")
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(issued.stdout.contains("SANs: DNS:localhost, IP:127.0.0.1, IP:::1, DNS:head.example.org, IP:10.0.0.5"))
        #expect(try scratch.mode(of: "head.key") == 0o600)
        for role in ["worker", "client"] {
            let result = try Subprocess.mixlab("certs", "issue", "--dir", scratch.path, "--role", role, "\(role)-1")
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try scratch.mode(of: "\(role)-1.key") == 0o600)
        }

        let shown = try Subprocess.mixlab("certs", "show", scratch.file("head.pem"))
        #expect(shown.status == 0)
        let lines = Dictionary(
            uniqueKeysWithValues: shown.stdout.split(separator: "\n").map { line in
                let parts = line.split(separator: ":", maxSplits: 1)
                return (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))
            })
        #expect(lines["role"] == "coordinator")
        #expect(lines["SANs"] == "DNS:localhost, IP:127.0.0.1, IP:::1, DNS:head.example.org, IP:10.0.0.5")
        #expect(lines["EKU"] == "serverAuth, clientAuth")
        #expect(lines["key usage"] == "digitalSignature")
        #expect(lines["serial"]?.split(separator: ":").allSatisfy { $0.count == 2 } == true)
        #expect(lines["status"] == "valid")
        #expect(lines["subject"]?.contains("CN=head") == true)
        #expect(lines["issuer"]?.contains("CN=MixLab CA") == true)

        let out = scratch.file("elsewhere")
        let moved = try Subprocess.mixlab(
            "certs", "issue", "--dir", scratch.path, "--role", "worker", "w9", "--out-dir", out)
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(FileManager.default.fileExists(atPath: scratch.file("elsewhere/w9.pem")))
        #expect(try scratch.mode(of: "elsewhere/w9.key") == 0o600)

        let duplicate = try Subprocess.mixlab("certs", "issue", "--dir", scratch.path, "--role", "worker", "worker-1")
        #expect(duplicate.status == 2)
        #expect(duplicate.stderr.contains("already exists") && duplicate.stderr.contains("--force"))
    }

    @Test(
        "Bad input exits 2 with one line naming the flag",
        arguments: [
            (["--role", "admin", "x"], "error: --role: unknown role 'admin'; use one of coordinator, worker, client"),
            (["--role", "worker", "a/b"], "error: NAME 'a/b': contains characters other than letters"),
            (["--role", "worker", "w", "--san", "bad host"], "error: --san 'bad host': contains ' '"),
            (["--role", "worker", "w", "--days", "0"], "error: --days 0: is out of range; give 1 to 36500 days"),
        ])
    func badInput(arguments: [String], expectedPrefix: String) throws {
        let scratch = try ScratchDirectory()
        #expect(try Subprocess.mixlab("certs", "init", "--dir", scratch.path).status == 0)
        let result = try Subprocess.run(Subprocess.mixlab, ["certs", "issue", "--dir", scratch.path] + arguments)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix(expectedPrefix), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test("Issuing without a CA, or showing a missing file, exits 2 with the fix")
    func missingFiles() throws {
        let scratch = try ScratchDirectory()
        let issue = try Subprocess.mixlab("certs", "issue", "--dir", scratch.path, "--role", "worker", "w1")
        #expect(issue.status == 2)
        #expect(
            issue.stderr.contains("holds no CA") && issue.stderr.contains("mixlab certs init --dir \(scratch.path)"))
        let show = try Subprocess.mixlab("certs", "show", scratch.file("none.pem"))
        #expect(show.status == 2)
        #expect(show.stderr == "error: certificate file \(scratch.file("none.pem")): does not exist; check the path\n")
    }
}
