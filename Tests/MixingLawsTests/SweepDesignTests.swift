import Foundation
import Testing

@testable import MixingLaws

@Suite struct SweepDesignTests {
    static func binomial(_ n: Int, _ k: Int) -> Int {
        (0..<k).reduce(1) { $0 * (n - $1) / ($1 + 1) }
    }

    @Test func gridOfThreeDomainsAtTenthsHas66Points() throws {
        let grid = SimplexGrid(divisions: 10)
        let points = try grid.points(domains: ["a", "b", "c"])
        #expect(points.count == 66)
        #expect(try grid.pointCount(domains: ["a", "b", "c"]) == 66)
        #expect(Set(points).count == 66)
        for point in points {
            #expect(abs(point.reduce(0, +) - 1) < 1e-12)
            #expect(point.allSatisfy { abs($0 * 10 - ($0 * 10).rounded()) < 1e-12 })
        }
        #expect(points.first == [0, 0, 1] && points.last == [1, 0, 0])
    }

    @Test(arguments: [(2, 10), (4, 8), (5, 6), (17, 3)])
    func gridCountIsStarsAndBars(domains: Int, divisions: Int) throws {
        let names = (0..<domains).map { "d\($0)" }
        let points = try SimplexGrid(divisions: divisions).points(domains: names)
        #expect(points.count == Self.binomial(divisions + domains - 1, domains - 1))
    }

    /// Aioli's m=2 static sweep (a/10, 1 − a/10), a = 1…9 (shared/data/aioli/sweep_designs.json).
    @Test func boundedGridReproducesAioliTwoDomainSweep() throws {
        let json = try JSONSerialization.jsonObject(with: Data(SharedData.text("aioli/sweep_designs.json").utf8)) as! [String: Any]
        let published = json["m2_static_grid_p1"] as! [Double]
        let grid = SimplexGrid(divisions: 10, bounds: ["arxiv": 0.1...0.9])
        let points = try grid.points(domains: ["arxiv", "stackexchange"])
        #expect(points.map { $0[0] } == published)
        #expect(points.allSatisfy { abs($0[0] + $0[1] - 1) < 1e-12 })
    }

    @Test func gridBoundsRestrictShares() throws {
        let grid = SimplexGrid(divisions: 10, bounds: ["c": 0...0.2, "a": 0.3...1])
        let points = try grid.points(domains: ["a", "b", "c"])
        #expect(points.allSatisfy { $0[2] <= 0.2 + 1e-12 && $0[0] >= 0.3 - 1e-12 })
        // c ∈ {0, .1, .2}; a ≥ .3 leaves 8, 7, 6 choices for a: 21 points.
        #expect(points.count == 21)
    }

    @Test func gridErrorsNameTheDomain() {
        #expect(throws: DesignError.self) { try SimplexGrid(divisions: 10, bounds: ["x": 0...1]).points(domains: ["a", "b"]) }
        do {
            _ = try SimplexGrid(divisions: 10, bounds: ["b": 0.11...0.19]).points(domains: ["a", "b"])
            Issue.record("no lattice point lies in 0.11…0.19")
        } catch {
            #expect("\(error)".contains("domain b"))
        }
        #expect(throws: DesignError.self) {
            try SimplexGrid(divisions: 10, bounds: ["a": 0.6...1, "b": 0.6...1]).points(domains: ["a", "b"])
        }
        do {
            _ = try SimplexGrid(divisions: 16).points(domains: (0..<17).map { "d\($0)" })
            Issue.record("C(32,16) points exceed the limit")
        } catch {
            #expect("\(error)".contains("601080390"))
        }
    }

    @Test func explicitListIsValidatedAndNormalised() throws {
        let rows = try ExplicitMixtures(rows: [[0.5, 0.5, 0], [0.2, 0.3, 0.5000004]]).validated(domains: ["a", "b", "c"])
        #expect(rows[0] == [0.5, 0.5, 0])
        #expect(abs(rows[1].reduce(0, +) - 1) < 1e-15)
    }

    @Test(arguments: [
        ([[0.5, 0.5, 0], [0.5, 0.5]], "row 2: has 2 shares for 3 domains"),
        ([[0.5, 0.6, -0.1]], "row 1, domain c: share -0.1"),
        ([[0.5, 0.5, 0], [0.2, 0.2, 0.5]], "row 2: shares sum to 0.9"),
        ([[0.5, .nan, 0.5]], "row 1, domain b: share nan"),
        ([[0.2, 0.3, 0.5], [1, 0, 0], [0.2, 0.3, 0.5]], "rows 1 and 3 are the same mixture"),
    ])
    func explicitListErrorsNameRowAndDomain(rows: [[Double]], message: String) {
        do {
            _ = try SweepDesign.explicit(ExplicitMixtures(rows: rows)).generate(domains: ["a", "b", "c"], seed: 0)
            Issue.record("expected an error containing \(message)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    /// laws.md §1.4: 3 sizes × 9 ratios × 20 checkpoints = 540 points.
    @Test func dcptGridOfThePaper() throws {
        let grid = DCPTGrid(modelSizes: [0.5e9, 1.8e9, 4e9], tokenCounts: (1...20).map { Double($0) * 1e9 })
        let design = try SweepDesign.dcpt(grid).generate(domains: ["general", "code"], seed: 0)
        #expect(design.points.count == 540)
        #expect(design.warnings.isEmpty)
        #expect(Set(design.points.map(\.parameterCount)).count == 3)
        #expect(design.points.prefix(20).allSatisfy { $0.parameterCount == 0.5e9 && $0.shares == [0, 1] })
        #expect(design.points[20].shares == [1 - 0.9, 0.9])
        #expect(design.points.allSatisfy { abs($0.shares.reduce(0, +) - 1) < 1e-12 && $0.tokens != nil })
    }

    @Test func dcptGridWithTwoSizesWarnsAboutIdentifiability() throws {
        let grid = DCPTGrid(modelSizes: [0.5e9, 1.8e9], tokenCounts: [1e9, 2e9, 4e9], domainRatios: [0.2, 0.5])
        let design = try grid.generate(domains: ["general", "math"])
        #expect(design.points.count == 12)
        #expect(design.warnings.count == 1)
        #expect(design.warnings.first?.contains("fewer than 3 sizes") == true)
    }

    @Test func dcptGridErrors() {
        let good = DCPTGrid(modelSizes: [1e9, 2e9, 4e9], tokenCounts: [1e9])
        #expect(throws: DesignError.self) { try good.generate(domains: ["general", "code", "math"]) }
        #expect(throws: DesignError.self) { try DCPTGrid(modelSizes: [1e9, 1e9], tokenCounts: [1e9]).generate(domains: ["g", "d"]) }
        #expect(throws: DesignError.self) { try DCPTGrid(modelSizes: [1e9], tokenCounts: [0]).generate(domains: ["g", "d"]) }
        #expect(throws: DesignError.self) {
            try DCPTGrid(modelSizes: [1e9], tokenCounts: [1e9], domainRatios: [1.2]).generate(domains: ["g", "d"])
        }
        #expect(throws: DesignError.self) { try DCPTGrid(modelSizes: [], tokenCounts: [1e9]).generate(domains: ["g", "d"]) }
    }

    static func minimumPairwiseDistance(_ points: [[Double]]) -> Double {
        var best = Double.infinity
        for i in points.indices {
            for j in (i + 1)..<points.count {
                best = min(best, zip(points[i], points[j]).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot())
            }
        }
        return best
    }

    /// The published Aioli k=3, n=9 covers have minimum pairwise distances 0.246–0.282 (mean
    /// 0.258); an independent numpy implementation with α = 1 gave 0.262 on average over 20
    /// seeds, against 0.082 for 9 raw Dirichlet draws.
    @Test func dirichletCoverSpreadsLikeThePublishedDesigns() throws {
        let cover = DirichletCover(count: 9)
        var distances: [Double] = []
        for seed in 0..<20 {
            let points = try SweepDesign.dirichletCover(cover).generate(domains: ["a", "b", "c"], seed: UInt64(seed)).mixtures
            #expect(points.count == 9)
            #expect(points.allSatisfy { abs($0.reduce(0, +) - 1) < 1e-12 && $0.allSatisfy { $0 > 0 } })
            distances.append(Self.minimumPairwiseDistance(points))
        }
        let mean = distances.reduce(0, +) / 20
        #expect(abs(mean - 0.26) < 0.03, "mean minimum distance \(mean)")
        let first = try cover.sample(domains: ["a", "b", "c"], seed: 0)
        #expect(try cover.sample(domains: ["a", "b", "c"], seed: 0) == first)
        #expect(try cover.sample(domains: ["a", "b", "c"], seed: 1) != first)
    }

    @Test func sweepDesignChecksDomainsAndDispatches() throws {
        #expect(throws: DesignError("sweep design: domain a is listed twice; list each domain once")) {
            try SweepDesign.grid(SimplexGrid(divisions: 2)).generate(domains: ["a", "b", "a"], seed: 0)
        }
        let sampler = RegMixSampler(count: 20, prior: [0.6, 0.3, 0.1])
        let viaEnum = try SweepDesign.regMix(sampler).generate(domains: ["a", "b", "c"], seed: 9)
        #expect(viaEnum.mixtures == (try sampler.sample(domains: ["a", "b", "c"], seed: 9)))
        #expect(viaEnum.points.allSatisfy { $0.parameterCount == nil && $0.tokens == nil })
        let grid = SweepDesign.grid(SimplexGrid(divisions: 4))
        #expect(try grid.generate(domains: ["a", "b"], seed: 1) == grid.generate(domains: ["a", "b"], seed: 2))
    }
}
