import Foundation
import Testing
@testable import MixingLaws

@Suite struct ChinchillaLawTests {
    /// laws.md A1: the Epoch AI replication of Chinchilla Approach 3.
    static func replicationData() throws -> LawDataset {
        let table = try SharedData.csv("chinchilla_epoch/svg_extracted_data.csv")
        let nColumn = table.header.firstIndex(of: "Model Size")!
        let cColumn = table.header.firstIndex(of: "Training FLOP")!
        let lColumn = table.header.firstIndex(of: "loss")!
        var rows: [(n: Double, d: Double, loss: Double)] = table.rows.map {
            let n = Double($0[nColumn])!, c = Double($0[cColumn])!
            return (n, c / (6 * n), Double($0[lColumn])!)
        }
        let fifthLargest = rows.map(\.loss).sorted(by: >)[4]
        rows = rows.filter { $0.loss < fifthLargest }
        return LawDataset(featureNames: ["N", "D"], rows: rows.map { [$0.n, $0.d] }, losses: rows.map(\.loss))
    }

    @Test func replicatesEpochAIFit() throws {
        let data = try Self.replicationData()
        #expect(data.count == 240)
        let fit = try LawFitter().fit(ChinchillaLaw(), to: data)
        let expected = ["E": 1.8172, "A": 477.8, "B": 2143.4, "alpha": 0.3473, "beta": 0.3672]
        for (name, value) in expected {
            let got = try #require(fit.parameter(name))
            #expect(abs(got - value) / value < 0.01, "\(name) = \(got), expected \(value) ± 1%")
        }
        #expect(fit.objective <= 0.0010183 * (1 + 1e-4), "objective \(fit.objective)")
    }

    @Test func gradientMatchesCentralDifferences() {
        let law = ChinchillaLaw()
        let theta = law.theta(E: 1.7, A: 400, B: 1500, alpha: 0.33, beta: 0.29)
        GradientCheck.expectParameterGradient(law, theta: theta, raw: [3e8, 6e9])
    }
}
