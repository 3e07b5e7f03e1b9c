import Foundation
import MixLabAnalysis
import MixingLaws
import Testing

@Suite("D-CPT sweep analysis")
struct DCPTSweepAnalysisTests {
    let law = DCPTParameters(E: 1.5, A: 40, alpha: 0.4, B: 300, eta: -0.2, beta: 0.45, C: 0.05, gamma: 0.5, epsilon: 0.02)

    @Test("rows take N from the run, D from the eval, r_d for the domain and 1 − r_d for the general loss; the later eval at a checkpoint wins")
    func datasets() {
        let runs = [
            DCPTSweepAnalysis.RunPoints(
                modelSize: 1000, domainShare: 0.3,
                evals: [
                    (tokens: 100, domain: "code", loss: 3.0), (tokens: 100, domain: "prose", loss: 2.5),
                    (tokens: 200, domain: "code", loss: 2.8), (tokens: 200, domain: "code", loss: 2.7),
                    (tokens: 0, domain: "code", loss: 5.5), (tokens: 300, domain: "code", loss: .nan),
                ]),
            DCPTSweepAnalysis.RunPoints(modelSize: 2000, domainShare: 0.8, evals: [(tokens: 100, domain: "prose", loss: 2.9)]),
        ]
        let (general, domain) = DCPTSweepAnalysis.datasets(runs, general: "prose", domain: "code")
        #expect(domain.count == 2)
        #expect(Array(domain.row(0)) == [1000, 100, 0.3] && domain.losses[0] == 3.0)
        #expect(Array(domain.row(1)) == [1000, 200, 0.3] && domain.losses[1] == 2.7)
        #expect(general.count == 2)
        #expect(Array(general.row(0)) == [1000, 100, 0.7])
        #expect(abs(Array(general.row(1))[2] - 0.2) < 1e-12 && general.losses[1] == 2.9)
    }

    @Test("a law monotone in the share has no non-monotone region; a positive η makes the domain loss rise somewhere")
    func nonMonotone() {
        let monotone = DCPTParameters(E: 1, A: 1, alpha: 0.3, B: 1, eta: 0, beta: 0.3, C: 0.1, gamma: 0.5, epsilon: 0.01)
        let clean = DCPTSweepAnalysis.nonMonotoneRegions(domain: monotone, general: monotone, N: 1e4, D: 1e5)
        // The domain law falls with r_d everywhere; the general law, read at 1 − r_d, rises everywhere.
        #expect(clean.domain.isEmpty)
        #expect(clean.general.isEmpty)
        // A positive η makes B·r^η·D^−β grow with r: the domain loss rises over part of [0, 1].
        let rising = DCPTParameters(E: 1, A: 1, alpha: 0.3, B: 50, eta: 1, beta: 0.1, C: 0.01, gamma: 0.5, epsilon: 0.01)
        let regions = DCPTSweepAnalysis.nonMonotoneRegions(domain: rising, general: monotone, N: 1e4, D: 1e5)
        #expect(!regions.domain.isEmpty)
        #expect(regions.domain.allSatisfy { $0.upperBound <= 1 && $0.lowerBound >= 0 })
    }

    @Test("answers read the newest fits of both roles, default N and D to the largest fitted, and keep r_d in the fitted range")
    func answer() throws {
        func report(_ role: String, _ p: DCPTParameters, rRange: [Double]) -> [String: Any] {
            [
                "law": "dcpt", "role": role,
                "params": ["E": p.E, "A": p.A, "alpha": p.alpha, "B": p.B, "eta": p.eta, "beta": p.beta, "C": p.C, "gamma": p.gamma, "epsilon": p.epsilon],
                "fitted_range": ["N": [1e3, 5e4], "D": [1e4, 6e4], "r": rRange],
            ]
        }
        let general = DCPTParameters(E: 1.4, A: 30, alpha: 0.4, B: 200, eta: -0.1, beta: 0.45, C: 0.02, gamma: 0.6, epsilon: 0.05)
        let reports = [report("domain", law, rRange: [0.1, 0.9]), report("general", general, rRange: [0.1, 0.9])]
        let value = try DCPTSweepAnalysis.answer(
            fitReports: reports, usage: .limitedData(domainTokens: 2e4, epochs: 1), N: nil, D: nil, allowExtrapolation: false)
        guard case .object(let pairs) = value else { Issue.record("not an object"); return }
        let fields = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
        guard case .number(let share)? = fields["domain_share"], case .number(let n)? = fields["N"] else {
            Issue.record("missing fields: \(pairs)")
            return
        }
        #expect((0.1...0.9).contains(share))
        #expect(n == 5e4)
        let direct = try DCPTUsage.limitedDomainData(domain: law, N: 5e4, domainTokens: 2e4, shareRange: 0.1...0.9)
        #expect(abs(direct.domainShare - share) < 1e-12)

        #expect(throws: LawFitError.self) {
            try DCPTSweepAnalysis.answer(fitReports: [reports[0]], usage: .compute(flops: 1e12), N: nil, D: nil, allowExtrapolation: false)
        }

        // The warnings judge the N and D of the answer, not only the ones given: here the
        // defaults (5e4, 6e4) are in range, but the compute budget and the domain data are not.
        func warnings(_ usage: DCPTSweepAnalysis.Usage) throws -> [String] {
            guard case .object(let pairs) = try DCPTSweepAnalysis.answer(fitReports: reports, usage: usage, N: nil, D: nil, allowExtrapolation: false),
                case .array(let notes)? = pairs.first(where: { $0.0 == "warnings" })?.1
            else { return ["no warnings field"] }
            return notes.map { if case .string(let text) = $0 { text } else { "\($0)" } }
        }
        let compute = try warnings(.compute(flops: 1e21))
        #expect(compute.contains { $0.hasPrefix("N = ") } && compute.contains { $0.hasPrefix("D = ") }, "\(compute)")
        let plenty = try warnings(.limitedData(domainTokens: 5e9, epochs: 1))
        #expect(plenty.count == 1 && plenty[0].hasPrefix("D = "), "\(plenty)")
        // 2e4 domain tokens at the chosen share: a D warning exactly when D = 2e4 / r_d leaves 1e4…6e4.
        let total = 2e4 / share
        #expect(try warnings(.limitedData(domainTokens: 2e4, epochs: 1)).map { $0.hasPrefix("D = ") } == ((1e4...6e4).contains(total) ? [] : [true]))
    }
}
