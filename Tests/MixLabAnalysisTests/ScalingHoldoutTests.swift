import MixLabAnalysis
import MixingLaws
import Testing

@Suite("Scaling-law hold-outs along N, D and r")
struct ScalingHoldoutTests {
    // Inside DCPTLaw's bounds (η ≥ 0), so the data are exactly representable.
    let law = DCPTParameters(E: 1.5, A: 40, alpha: 0.4, B: 300, eta: 0.3, beta: 0.45, C: 0.05, gamma: 0.5, epsilon: 0.02)

    func grid(sizes: [Double], sizeShift: Double = 0) -> LawDataset {
        var rows: [[Double]] = [], losses: [Double] = []
        for N in sizes {
            for D in [1e4, 3e4, 1e5, 3e5] {
                for r in [0.1, 0.3, 0.5, 0.7, 0.9] {
                    rows.append([N, D, r])
                    losses.append(law.loss(N: N, D: D, r: r) + (N == sizes.last ? sizeShift : 0))
                }
            }
        }
        return LawDataset(featureNames: DCPTLaw.featureNames, rows: rows, losses: losses)
    }

    func field(_ value: ReportValue, _ path: String...) -> ReportValue? {
        var current = value
        for key in path {
            guard case .object(let pairs) = current, let next = pairs.first(where: { $0.0 == key })?.1 else { return nil }
            current = next
        }
        return current
    }

    func number(_ value: ReportValue?) -> Double? {
        if case .number(let x)? = value { return x }
        return nil
    }

    @Test("data that follow the law are predicted along every held-out axis")
    func lawfulDataExtrapolates() throws {
        let report = try FitAnalysis.fitScalingLaw(DCPTLaw(), name: "dcpt", data: grid(sizes: [1e3, 3e3, 1e4, 3e4]), folds: 5, seed: 0).report
        for axis in ["size", "data", "ratio"] {
            let mape = try #require(number(field(report, "holdout", axis, "mape")), "\(axis) in \(report.json())")
            #expect(mape < 0.005, "\(axis): \(report.json())")
        }
        guard case .string(let heldOut)? = field(report, "holdout", "size", "held_out") else {
            Issue.record("no held_out label: \(report.json())")
            return
        }
        #expect(heldOut == "N = 30000, fitted on N ≤ 10000")
        #expect(field(report, "holdout", "ratio", "n") == .integer(48), "3 interior ratios × 16 rows")
    }

    @Test("a largest size that breaks the law shows up in the size hold-out, not in the others")
    func aBrokenSizeIsCaught() throws {
        let report = try FitAnalysis.fitScalingLaw(
            DCPTLaw(), name: "dcpt", data: grid(sizes: [1e3, 3e3, 1e4, 3e4], sizeShift: 0.3), folds: 5, seed: 0
        ).report
        let size = try #require(number(field(report, "holdout", "size", "mae")), "\(report.json())")
        #expect(size > 0.2, "the largest size sits 0.3 above the law fitted on the smaller ones: \(report.json())")
    }

    @Test("a size or data axis with fewer than four values is not extrapolated (two training levels cannot separate E from A·N^−α)")
    func threeSizesHaveNoSizeHoldout() throws {
        let report = try FitAnalysis.fitScalingLaw(DCPTLaw(), name: "dcpt", data: grid(sizes: [1e3, 3e3, 1e4]), folds: 5, seed: 0).report
        #expect(field(report, "holdout", "size") == nil)
        #expect(field(report, "holdout", "data") != nil)
    }
}
