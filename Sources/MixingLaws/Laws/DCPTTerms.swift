import Foundation

/// The four log-space terms of the L3 law for one row, and their partial derivatives; shared by
/// ``DCPTLaw`` and ``CrossDomainDCPTLaw``.
struct DCPTTerms {
    let t0: Double, t1: Double, t2: Double, t3: Double
    let lnN: Double, lnD: Double, lnR: Double
    let lnShifted: Double
    let shiftShare: Double

    /// θ prefix `(e, a, α, b, η, β, c, γ, s)`; features `[ln N, ln D, r, ln r, …]`.
    init(_ theta: [Double], _ features: ArraySlice<Double>) {
        let base = features.startIndex
        lnN = features[base]
        lnD = features[base + 1]
        let r = features[base + 2]
        lnR = features[base + 3]
        let epsilon = Foundation.exp(theta[8])
        lnShifted = Foundation.log(r + epsilon)
        shiftShare = epsilon / (r + epsilon)
        t0 = theta[0]
        t1 = theta[1] - theta[2] * lnN
        t2 = r > 0 ? theta[3] + theta[4] * lnR - theta[5] * lnD : -.infinity
        t3 = theta[6] - theta[7] * lnShifted
    }

    /// `LSE(t0, t1, t2, t3, extraTerm)` and the softmax weights of the five arguments
    /// (`extraTerm = −∞` for the plain L3 law).
    func combine(extraTerm t4: Double) -> (value: Double, weights: (Double, Double, Double, Double), extraWeight: Double) {
        let m = max(t0, t1, t2, t3, t4)
        let e0 = Foundation.exp(t0 - m), e1 = Foundation.exp(t1 - m), e3 = Foundation.exp(t3 - m)
        let e2 = t2 == -.infinity ? 0 : Foundation.exp(t2 - m)
        let e4 = t4 == -.infinity ? 0 : Foundation.exp(t4 - m)
        let sum = e0 + e1 + e2 + e3 + e4
        return (m + Foundation.log(sum), (e0 / sum, e1 / sum, e2 / sum, e3 / sum), e4 / sum)
    }

    /// Writes ∂ ln L / ∂θ for the first nine θ components given the LSE softmax weights.
    func writeGradient(weights w: (Double, Double, Double, Double), theta: [Double], into g: inout [Double]) {
        g[0] = w.0
        g[1] = w.1
        g[2] = -w.1 * lnN
        g[3] = w.2
        g[4] = w.2 > 0 ? w.2 * lnR : 0
        g[5] = -w.2 * lnD
        g[6] = w.3
        g[7] = -w.3 * lnShifted
        g[8] = -w.3 * theta[7] * shiftShare
    }

    static func encode(_ raw: ArraySlice<Double>) -> [Double] {
        let base = raw.startIndex
        let r = raw[base + 2]
        return [Foundation.log(raw[base]), Foundation.log(raw[base + 1]), r, r > 0 ? Foundation.log(r) : -.infinity]
    }

    static func logScale(_ scale: Double) -> Double { Foundation.log(max(scale, 1e-8)) }

    static func pairs(_ first: [Double], _ second: [Double]) -> [(Double, Double)] {
        first.flatMap { x in second.map { (x, $0) } }
    }

    /// Rejects rows the law cannot describe, naming the column and the fix.
    static func validate(_ data: LawDataset, law: String, extraFeatures: [String]) throws {
        let width = 3 + extraFeatures.count
        guard data.width == width else {
            throw LawFitError(
                "the \(law) law needs \(width) feature columns (\((DCPTLaw.featureNames + extraFeatures).joined(separator: ", "))), the data has \(data.width)")
        }
        for i in 0..<data.count {
            let row = Array(data.row(i))
            guard row[0] > 0 else { throw LawFitError("row \(i + 1): N = \(row[0]); model size must be positive") }
            guard row[1] > 0 else { throw LawFitError("row \(i + 1): D = \(row[1]); the token count must be positive") }
            guard row[2] >= 0, row[2] <= 1 else {
                throw LawFitError("row \(i + 1): r = \(row[2]); the corpus share must lie in [0, 1]")
            }
        }
    }

    /// Candidate design-matrix columns of the variable-projection starts, each divided by `L`.
    struct Columns {
        let lnN: [Double], lnD: [Double], r: [Double], lnR: [Double], inverseLoss: [Double]

        init(encodedFeatures: [Double], width: Int, losses: [Double]) {
            let rows = losses.indices
            lnN = rows.map { encodedFeatures[$0 * width] }
            lnD = rows.map { encodedFeatures[$0 * width + 1] }
            r = rows.map { encodedFeatures[$0 * width + 2] }
            lnR = rows.map { encodedFeatures[$0 * width + 3] }
            inverseLoss = losses.map { 1 / $0 }
        }

        var constant: [Double] { inverseLoss }

        func modelTerm(_ alphas: [Double]) -> [[Double]] {
            alphas.map { alpha in lnN.indices.map { Foundation.exp(-alpha * lnN[$0]) * inverseLoss[$0] } }
        }

        /// `r^η D^−β / L` for every (η, β) pair, in ``pairs(_:_:)`` order; 0 where `r = 0`.
        func dataTerm(eta: [Double], beta: [Double]) -> [[Double]] {
            DCPTTerms.pairs(eta, beta).map { pair in
                lnD.indices.map { r[$0] > 0 ? Foundation.exp(pair.0 * lnR[$0] - pair.1 * lnD[$0]) * inverseLoss[$0] : 0 }
            }
        }

        /// `D^−β / L` (the additive law's data term).
        func plainDataTerm(_ betas: [Double]) -> [[Double]] {
            betas.map { beta in lnD.indices.map { Foundation.exp(-beta * lnD[$0]) * inverseLoss[$0] } }
        }

        /// `(r + ε)^−γ / L` for every (γ, ε) pair, in ``pairs(_:_:)`` order.
        func mixtureTerm(gamma: [Double], epsilon: [Double]) -> [[Double]] {
            DCPTTerms.pairs(gamma, epsilon).map { pair in
                r.indices.map { Foundation.pow(r[$0] + pair.1, -pair.0) * inverseLoss[$0] }
            }
        }
    }
}
