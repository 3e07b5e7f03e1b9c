import Foundation

/// Deterministic synthetic D-CPT runs from a known law, on the design of laws.md §1.5: three model
/// sizes, the paper's nine corpus shares, twenty checkpoints each (540 rows), with optional
/// Gaussian noise on `ln L`. Used to test fits and usages, since no public D-CPT run table exists.
public struct DCPTSyntheticData: Sendable {
    public var modelSizes: [Double]
    public var ratios: [Double]
    public var tokenCounts: [Double]

    /// The defaults are the laws.md design: `N ∈ {0.5, 1.8, 4}·10^9`; `r ∈ {0, .1, .2, 1/3, .5, 2/3,
    /// .8, .9, 1}` (the paper's ratios 3.3:6.7 and 6.7:3.3 read as exact thirds); `D = 1…20·10^9`.
    public init(
        modelSizes: [Double] = [0.5e9, 1.8e9, 4e9],
        ratios: [Double] = [0, 0.1, 0.2, 1.0 / 3, 0.5, 2.0 / 3, 0.8, 0.9, 1],
        tokenCounts: [Double] = (1...20).map { Double($0) * 1e9 }
    ) {
        self.modelSizes = modelSizes
        self.ratios = ratios
        self.tokenCounts = tokenCounts
    }

    /// The design rows `[N, D, r]`, model size outermost, then share, then tokens.
    public var rows: [[Double]] {
        modelSizes.flatMap { n in ratios.flatMap { r in tokenCounts.map { [n, $0, r] } } }
    }

    /// Losses of `law` on the design; with `noise > 0`, `ln L` gets N(0, noise²) from `seed`.
    public func dataset(law: DCPTParameters, noise: Double = 0, seed: UInt64 = 1) -> LawDataset {
        var random = SeededRandom(seed: seed)
        let design = rows
        let losses = design.map { row -> Double in
            let clean = law.loss(N: row[0], D: row[1], r: row[2])
            return noise > 0 ? clean * Foundation.exp(noise * random.nextNormal()) : clean
        }
        return LawDataset(featureNames: DCPTLaw.featureNames, rows: design, losses: losses)
    }

    /// The domain law of laws.md Appendix A8:
    /// `0.8 + e^5 N^−0.3 + e^5.8 r^0.6 D^−0.35 + 0.5 (r + 0.05)^−0.5`.
    public static let fixtureDomainLaw = DCPTParameters(
        E: 0.8, A: Foundation.exp(5), alpha: 0.3, B: Foundation.exp(5.8), eta: 0.6, beta: 0.35, C: 0.5, gamma: 0.5,
        epsilon: 0.05)

    /// The general law of laws.md Appendix A8:
    /// `1.9 + e^5 N^−0.3 + e^4 r^0.8 D^−0.3 + 0.15 (r + 0.02)^−0.6`.
    public static let fixtureGeneralLaw = DCPTParameters(
        E: 1.9, A: Foundation.exp(5), alpha: 0.3, B: Foundation.exp(4), eta: 0.8, beta: 0.3, C: 0.15, gamma: 0.6,
        epsilon: 0.02)
}
