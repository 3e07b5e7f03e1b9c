import Testing
@testable import MixLabCore

@Suite struct MixtureTests {
    @Test func rejectsNegativeShareNamingTheDomain() {
        #expect(throws: MixLabInputError.self) { try Mixture(domains: ["code", "web"], shares: [-0.1, 1.1]) }
        do {
            _ = try Mixture(domains: ["code", "web"], shares: [-0.1, 1.1])
        } catch {
            #expect(error.field == "share of code")
        }
    }

    @Test func normalisesWeights() throws {
        let m = try Mixture(weights: ["web": 3, "code": 1])
        #expect(m.domains == ["code", "web"])
        #expect(m.shares == [0.25, 0.75])
    }
}
