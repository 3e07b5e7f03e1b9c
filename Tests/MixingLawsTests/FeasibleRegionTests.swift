import Foundation
import Testing
@testable import MixingLaws

@Suite struct FeasibleRegionTests {
    /// Random bounds with Σl ≤ 1 ≤ Σu, some pinned-like (l = u) coordinates.
    static func randomRegion(_ random: inout SeededRandom, dimension n: Int, groups: Bool = false) throws -> FeasibleRegion {
        while true {
            var lower = (0..<n).map { _ in random.nextUniform() < 0.5 ? 0 : 0.3 * random.nextUniform() / Double(n) }
            var upper = (0..<n).map { lower[$0] + (random.nextUniform() < 0.3 ? 1 : random.nextUniform() * 3 / Double(n)) }
            upper = upper.map { min($0, 1) }
            if random.nextUniform() < 0.2 { lower[0] = upper[0] }
            var groupBounds = [MixtureConstraints.GroupBound]()
            if groups, n >= 4 {
                groupBounds = [
                    .init(name: "g1", members: [0, 1], minimum: 0.1, maximum: 0.2 + 0.3 * random.nextUniform()),
                    .init(name: "g2", members: [2, 3], minimum: 0.3 * random.nextUniform(), maximum: 0.9),
                ]
            }
            let constraints = MixtureConstraints(
                domainNames: (0..<n).map { "d\($0)" }, minimumShares: lower, maximumShares: upper, groups: groupBounds)
            if let region = try? constraints.feasibleRegion() { return region }
        }
    }

    @Test func euclideanProjectionSatisfiesKKT() throws {
        var random = SeededRandom(seed: 1)
        for trial in 0..<300 {
            let region = try Self.randomRegion(&random, dimension: 2 + trial % 9)
            let y = (0..<region.dimension).map { _ in 2 * random.nextUniform() - 0.5 }
            let r = region.project(y)
            #expect(region.contains(r, tolerance: 1e-14))
            #expect(abs(r.reduce(0, +) - 1) < 1e-14)
            // r_j = clip(y_j − τ, l_j, u_j): one τ for every free coordinate, consistent signs at bounds.
            let free = r.indices.filter { r[$0] > region.lower[$0] + 1e-12 && r[$0] < region.upper[$0] - 1e-12 }
            guard let first = free.first else { continue }
            let tau = y[first] - r[first]
            for j in free { #expect(abs(y[j] - r[j] - tau) < 1e-12) }
            for j in r.indices where region.lower[j] < region.upper[j] {
                if r[j] <= region.lower[j] + 1e-12 { #expect(y[j] - region.lower[j] <= tau + 1e-12) }
                if r[j] >= region.upper[j] - 1e-12 { #expect(y[j] - region.upper[j] >= tau - 1e-12) }
            }
        }
    }

    @Test func projectionBeatsEveryOtherFeasiblePoint() throws {
        var random = SeededRandom(seed: 2)
        for trial in 0..<40 {
            let region = try Self.randomRegion(&random, dimension: 4 + trial % 3, groups: trial % 2 == 0)
            let y = (0..<region.dimension).map { _ in 2 * random.nextUniform() - 0.5 }
            let r = region.project(y)
            #expect(region.contains(r, tolerance: 1e-12))
            func distance(_ z: [Double]) -> Double { zip(z, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } }
            // Variational inequality over the polytope, exactly: max_z (y − r)·(z − r) ≤ 0 at the oracle's vertex.
            let s = region.linearMinimizer(zip(r, y).map { $0 - $1 })
            #expect(region.contains(s, tolerance: 1e-12))
            let inequality = (0..<region.dimension).reduce(0) { $0 + (y[$1] - r[$1]) * (s[$1] - r[$1]) }
            #expect(inequality <= 1e-12, "trial \(trial): \(inequality)")
            for _ in 0..<200 {
                let z = region.project((0..<region.dimension).map { _ in random.nextUniform() })
                #expect(distance(r) <= distance(z) + 1e-12)
            }
        }
    }

    @Test func linearOracleMatchesBruteForceOverLattice() throws {
        var random = SeededRandom(seed: 3)
        for trial in 0..<30 {
            let region = try Self.randomRegion(&random, dimension: 4, groups: trial % 2 == 0)
            let g = (0..<4).map { _ in random.nextNormal() }
            let s = region.linearMinimizer(g)
            #expect(region.contains(s, tolerance: 1e-12))
            let value = zip(g, s).reduce(0) { $0 + $1.0 * $1.1 }
            let steps = 40
            for a in 0...steps {
                for b in 0...(steps - a) {
                    for c in 0...(steps - a - b) {
                        let z = [a, b, c, steps - a - b - c].map { Double($0) / Double(steps) }
                        guard region.contains(z, tolerance: 1e-12) else { continue }
                        #expect(value <= zip(g, z).reduce(0) { $0 + $1.0 * $1.1 } + 1e-12)
                    }
                }
            }
        }
    }

    @Test func klProjectionRescalesFreeCoordinatesByOneFactor() throws {
        var random = SeededRandom(seed: 4)
        for trial in 0..<300 {
            let region = try Self.randomRegion(&random, dimension: 2 + trial % 9)
            let y = (0..<region.dimension).map { _ in random.nextUniform() + 1e-3 }
            let r = region.projectKL(y)
            #expect(region.contains(r, tolerance: 1e-14))
            let free = r.indices.filter { r[$0] > region.lower[$0] + 1e-12 && r[$0] < region.upper[$0] - 1e-12 }
            guard let first = free.first else { continue }
            let scale = r[first] / y[first]
            for j in free { #expect(abs(r[j] / y[j] - scale) < 1e-10 * scale) }
            for j in r.indices where region.lower[j] < region.upper[j] {
                if r[j] <= region.lower[j] + 1e-12 { #expect(y[j] * scale <= region.lower[j] + 1e-10) }
                if r[j] >= region.upper[j] - 1e-12 { #expect(y[j] * scale >= region.upper[j] - 1e-10) }
            }
        }
        // The plain simplex: KL projection is normalisation.
        let simplex = try MixtureConstraints.simplex(domainNames: ["a", "b", "c"]).feasibleRegion()
        let r = simplex.projectKL([1, 2, 5])
        #expect(abs(r[0] - 0.125) < 1e-15 && abs(r[1] - 0.25) < 1e-15 && abs(r[2] - 0.625) < 1e-15)
    }

    @Test func groupBoundsHoldInSolutions() throws {
        let constraints = MixtureConstraints(
            domainNames: ["a", "b", "c"], groups: [.init(name: "ab", members: [0, 1], maximum: 0.4)])
        let solution = try MixtureSolver.projectedGradient.solve(ExponentialSumModel.coupled, subjectTo: constraints)
        let reference = try MixtureSolver.frankWolfe.solve(ExponentialSumModel.coupled, subjectTo: constraints)
        #expect(abs(solution.shares[0] + solution.shares[1] - 0.4) < 1e-12)
        #expect(zip(solution.shares, reference.shares).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(solution.activeConstraints.contains { $0.kind == .groupMaximum && $0.name == "ab" })
    }
}
