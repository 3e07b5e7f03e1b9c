import Foundation
import MixLabAnalysis
import MixLabCore
import MixingLaws
import Testing

/// The leave-one-domain-out analysis on data drawn from a known Cross-Domain D-CPT Law, and its
/// input errors.
@Suite struct CrossDomainDCPTAnalysisTests {
    static let law = CrossDomainDCPTLaw()
    static let truth: [Double] = {
        var shared = DCPTSyntheticData.fixtureDomainLaw
        shared.E = 0.5
        return law.theta(shared, F: 0.3, mu: 1.0, w1: 0.4)
    }()
    /// `(k1, k2)` per domain; k1 also varies a little with the model size, as a base model's loss does.
    static let coefficients: [(name: String, k1: Double, k2: Double)] = [
        ("code", 1.5, 0.05), ("math", 2.0, 0.2), ("legal", 2.5, 0.1), ("config", 1.2, 0.3), ("docs", 3.0, 0.15), ("web", 1.8, 0.25),
    ]
    static let design = DCPTSyntheticData(ratios: [0.1, 0.3, 0.5, 0.7, 0.9], tokenCounts: [1e9, 4e9, 1.6e10]).rows

    static func domains(noise: Double = 0) -> [CrossDomainDCPTAnalysis.Domain] {
        var random = SeededRandom(seed: 5)
        return coefficients.map { domain in
            let rows = design.map { row in row + [domain.k1 * (1 + 0.02 * Foundation.log(4e9 / row[0])), domain.k2] }
            let losses = rows.map { law.predictLoss(truth, raw: $0) * Foundation.exp(noise * random.nextNormal()) }
            return .init(name: domain.name, data: LawDataset(featureNames: CrossDomainDCPTLaw.featureNames, rows: rows, losses: losses))
        }
    }

    static var fitter: LawFitter {
        var options = LawFitter.Options()
        options.polishCount = 6
        return LawFitter(options: options)
    }

    @Test func predictsEachHeldOutDomainFromItsCoefficients() throws {
        let results = try CrossDomainDCPTAnalysis.leaveOneDomainOut(Self.domains(), fitter: Self.fitter)
        #expect(results.map(\.domain) == Self.coefficients.map(\.name))
        for result in results {
            #expect(result.trainingDomains.count == 5 && !result.trainingDomains.contains(result.domain))
            #expect(result.coefficients.count == 3, "one (k1, k2) per model size: \(result.coefficients)")
            #expect(result.crossDomain.count == Self.design.count)
            #expect(result.crossDomain.mape < 0.1 && result.crossDomain.r2 > 0.999, "\(result.domain): \(result.crossDomain)")
            #expect(result.perDomainFit.r2 > 0.999, "\(result.domain): the domain's own fit is the upper bound: \(result.perDomainFit)")
            #expect(
                result.noDomainTerm.mae > 10 * result.crossDomain.mae,
                "\(result.domain): without the domain term the shared law misses the domain's level: \(result.noDomainTerm) vs \(result.crossDomain)")
        }
        let report = CrossDomainDCPTAnalysis.report(results)
        #expect(report["law"] == .string("cross-domain-dcpt"))
        #expect(report["warnings"] == .array([]))
        guard case .array(let held)? = report["held_out"] else { Issue.record("no held_out in \(report)"); return }
        #expect(held.count == 6)
        #expect(held[0]["params"]?["mu"] != nil && held[0]["cross_domain"]?["mape_percent"] != nil)
    }

    @Test func threeNoisyDomainsAreFittedButWarnThatTheDomainTermIsUnidentified() throws {
        let results = try CrossDomainDCPTAnalysis.leaveOneDomainOut(Array(Self.domains(noise: 0.003).prefix(3)), fitter: Self.fitter)
        #expect(results.count == 3)
        for result in results {
            #expect(result.crossDomain.mape.isFinite && result.perDomainFit.mape < 1, "\(result.crossDomain) \(result.perDomainFit)")
        }
        guard case .array(let warnings)? = CrossDomainDCPTAnalysis.report(results)["warnings"] else { Issue.record("no warnings"); return }
        #expect(warnings.count == 1, "two training domains cannot identify E, F, mu, w1: \(warnings)")
    }

    @Test func probeRateIsTheRelativeDropClampedAtZero() throws {
        #expect(abs(try CrossDomainDCPTAnalysis.probeRate(baseLoss: 2.0, probeLoss: 1.5) - 0.25) < 1e-15)
        #expect(try CrossDomainDCPTAnalysis.probeRate(baseLoss: 2.0, probeLoss: 2.1) == 0)
    }

    @Test(arguments: [
        (0, 1.5, "k1"), (-2, 1.5, "k1"), (.nan, 1.5, "k1"), (.infinity, 1.5, "k1"),
        (2, .nan, "probe"), (2, .infinity, "probe"), (2, -0.5, "probe"),
    ] as [(Double, Double, String)])
    func probeRateRefusesANonPositiveOrNonFiniteLoss(baseLoss: Double, probeLoss: Double, field: String) {
        let error = #expect(throws: MixLabInputError.self) { try CrossDomainDCPTAnalysis.probeRate(baseLoss: baseLoss, probeLoss: probeLoss) }
        #expect(error?.field.contains(field) == true, "\(String(describing: error))")
        #expect(error?.fix.isEmpty == false)
    }

    @Test func badInputIsRefusedNamingTheDomainAndColumn() {
        let good = Self.domains()
        func refused(_ domains: [CrossDomainDCPTAnalysis.Domain], _ field: String, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let error = #expect(throws: MixLabInputError.self, sourceLocation: sourceLocation) {
                try CrossDomainDCPTAnalysis.leaveOneDomainOut(domains, fitter: Self.fitter)
            }
            #expect(error?.field.contains(field) == true && error?.description.contains(words) == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        }
        refused(Array(good.prefix(2)), "domains", "at least 3")
        refused(good.prefix(3) + [good[0]], "domain code", "twice")
        var few = good
        few[1].data = good[1].data.subset([0, 1, 2])
        refused(few, "domain math", "fewer than the 9")
        func replacing(column: Int, with value: Double) -> [CrossDomainDCPTAnalysis.Domain] {
            var domains = good
            var rows = domains[2].data.rows
            rows[4][column] = value
            domains[2].data = LawDataset(featureNames: CrossDomainDCPTLaw.featureNames, rows: rows, losses: domains[2].data.losses)
            return domains
        }
        refused(replacing(column: 3, with: 0), "domain legal row 5 k1", "positive")
        refused(replacing(column: 4, with: -0.1), "domain legal row 5 k2", "≥ 0")
        refused(replacing(column: 2, with: 1.5), "domain legal row 5 r", "between 0 and 1")
        refused(replacing(column: 0, with: .nan), "domain legal row 5 N", "positive")
        var narrow = good
        narrow[0].data = LawDataset(featureNames: DCPTLaw.featureNames, rows: good[0].data.rows.map { Array($0.prefix(3)) }, losses: good[0].data.losses)
        refused(narrow, "domain code", "feature columns")
    }

    @Test func readsThePointsTableAndNamesBadCells() throws {
        let text = "run,domain,N,D,r,k1,k2,loss\na,code,1000,5000,0.5,2.1,0.1,1.9\nb,math,1000,5000,0.5,2.4,0.2,2.2\nc,code,2000,5000,0.5,2.0,0.1,1.8\n"
        let domains = try CrossDomainDCPTAnalysis.domains(from: CSVTable(parsing: text, source: "points.csv"))
        #expect(domains.map(\.name) == ["code", "math"])
        #expect(domains[0].data.rows == [[1000, 5000, 0.5, 2.1, 0.1], [2000, 5000, 0.5, 2.0, 0.1]])
        #expect(domains[0].data.losses == [1.9, 1.8])
        let missing = #expect(throws: MixLabInputError.self) {
            try CrossDomainDCPTAnalysis.domains(from: CSVTable(parsing: "domain,N,D,r,k1,loss\ncode,1,1,0.5,2,1\n", source: "points.csv"))
        }
        #expect(missing?.problem.contains("no column \"k2\"") == true, "\(String(describing: missing))")
        let bad = #expect(throws: MixLabInputError.self) {
            try CrossDomainDCPTAnalysis.domains(from: CSVTable(parsing: "domain,N,D,r,k1,k2,loss\ncode,1,1,half,2,0.1,1\n", source: "points.csv"))
        }
        #expect(bad?.field == "points.csv line 2 column \"r\"", "\(String(describing: bad))")
        let empty = #expect(throws: MixLabInputError.self) {
            try CrossDomainDCPTAnalysis.domains(from: CSVTable(parsing: "domain,N,D,r,k1,k2,loss\n", source: "points.csv"))
        }
        #expect(empty?.problem == "has no data rows")
    }
}
