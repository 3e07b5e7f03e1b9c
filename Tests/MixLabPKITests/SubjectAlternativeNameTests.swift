import MixLabCore
import MixLabPKI
import Testing

@Suite("SAN parsing")
struct SubjectAlternativeNameTests {
    @Test(
        "Addresses are detected as IPs, everything else as DNS names",
        arguments: [
            ("127.0.0.1", "IP:127.0.0.1"), ("10.1.2.3", "IP:10.1.2.3"), ("::1", "IP:::1"),
            ("fe80::1:2", "IP:fe80::1:2"), ("[2001:db8::7]", "IP:2001:db8::7"),
            ("localhost", "DNS:localhost"), ("Head-Node.Example.ORG", "DNS:head-node.example.org"),
            ("gpu3", "DNS:gpu3"), ("3com.net", "DNS:3com.net"),
        ])
    func parses(text: String, expected: String) throws {
        #expect(try SubjectAlternativeName(parsing: text).description == expected)
    }

    @Test("IP SANs carry 4 or 16 bytes")
    func addressBytes() throws {
        #expect(try SubjectAlternativeName(parsing: "192.168.0.9") == .ipAddress([192, 168, 0, 9]))
        #expect(try SubjectAlternativeName(parsing: "::1") == .ipAddress(Array(repeating: 0, count: 15) + [1]))
    }

    @Test(
        "Bad hosts name the flag and the fix",
        arguments: [
            "", "bad host", "under_score.lab", "a..b", ".lead", "trail.", "-x.lab", "x-.lab", "1.2.3", "300.1.1.1",
            "http://x", "host:8080", String(repeating: "a", count: 64) + ".lab",
        ])
    func rejects(text: String) throws {
        let error = #expect(throws: MixLabInputError.self) { try SubjectAlternativeName(parsing: text) }
        #expect(error?.field == "--san '\(text)'")
        #expect(error?.fix.contains("--san head-node.lan") == true)
    }
}
