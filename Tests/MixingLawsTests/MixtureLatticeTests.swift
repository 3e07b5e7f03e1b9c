import Foundation
import Testing
@testable import MixingLaws

@Suite struct MixtureLatticeTests {
    static let redPajamaCaps = [1, 1, 0.5857, 0.2588, 0.2254, 0.1779, 0.1727]

    /// The 20 fitting mixtures of the Data Mixing Laws RedPajama experiment: the 410M runs with id ≤ 900.
    static func fittingMixtures() throws -> [[Double]] {
        let table = try SharedData.csv("mixinglaws/RedPajama.csv")
        let columns = (1...7).map { table.header.firstIndex(of: "p_rp\($0)")! }
        let model = table.header.firstIndex(of: "model")!, run = table.header.firstIndex(of: "run_id")!
        var byRun = [Int: [Double]]()
        for row in table.rows where row[model] == "410M" && Int(row[run])! <= 900 {
            byRun[Int(row[run])!] = columns.map { Double(row[$0])! }
        }
        return byRun.keys.sorted().map { byRun[$0]! }
    }

    @Test func redPajamaLatticeMatchesFixtureA7() throws {
        let candidates = try MixtureLattice.candidates(caps: Self.redPajamaCaps, grid: 1.0 / 16)
        #expect(candidates.count == 854)
        #expect(Set(candidates).count == 854)
        #expect(MixtureLattice.values(cap: 0.5857, grid: 1.0 / 16) == [0.5625, 0.28125, 0.140625, 0.0703125, 0])
        let members = Set(candidates)
        let fitting = try Self.fittingMixtures()
        #expect(fitting.count == 20)
        for mixture in fitting { #expect(members.contains(mixture), "\(mixture)") }
        #expect(members.contains([0.125, 0.25, 0.140625, 0.25, 0.09375, 0.125, 0.015625]))
        for candidate in candidates { #expect(abs(candidate.reduce(0, +) - 1) < 1e-15) }
    }

    @Test func latticeSolverReturnsTheBestLatticePoint() throws {
        let model = LinearLossModel(intercept: 0, coefficients: [0.3, 0.1, -0.2, -0.5, 0.4, -0.1, 0.2])
        let constraints = MixtureConstraints(domainNames: (1...7).map { "rp\($0)" }, maximumShares: Self.redPajamaCaps)
        let solution = try MixtureSolver.lattice().solve(model, subjectTo: constraints)
        let brute = try MixtureLattice.candidates(caps: Self.redPajamaCaps).map(model.loss).min()!
        #expect(solution.predictedLoss == brute)
        #expect(solution.iterations == 854)
    }

    @Test func oversizedLatticeIsRefused() {
        #expect(throws: LawFitError.self) { try MixtureLattice.candidates(caps: Array(repeating: 1, count: 17), grid: 1.0 / 16) }
    }
}
