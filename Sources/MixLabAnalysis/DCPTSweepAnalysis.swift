import Foundation
public import MixingLaws

/// Turns a D-CPT sweep's stored evals into the two datasets the D-CPT Law is fitted to (laws.md
/// §1.1: the domain loss against `r_d`, the general loss against `r_g = 1 − r_d`), and turns the
/// two fitted laws into a domain share by one of the three usages of laws.md §1.6.
public enum DCPTSweepAnalysis {
    /// One succeeded run: its model size, its domain share and its evals (every checkpoint).
    public struct RunPoints: Sendable {
        public var modelSize: Double
        public var domainShare: Double
        /// `(tokens trained, eval domain, loss)`; a later eval at the same tokens and domain wins.
        public var evals: [(tokens: Double, domain: String, loss: Double)]

        public init(modelSize: Double, domainShare: Double, evals: [(tokens: Double, domain: String, loss: Double)]) {
            self.modelSize = modelSize
            self.domainShare = domainShare
            self.evals = evals
        }
    }

    /// Rows `(N, D, r)` → loss of the general and of the domain eval. Evals at 0 tokens are left
    /// out (the law has no value there).
    public static func datasets(_ runs: [RunPoints], general: String, domain: String) -> (general: LawDataset, domain: LawDataset) {
        var generalRows: [[Double]] = [], generalLosses: [Double] = []
        var domainRows: [[Double]] = [], domainLosses: [Double] = []
        for run in runs {
            var latest: [String: [Double: Double]] = [:]
            for eval in run.evals where eval.tokens > 0 && eval.loss.isFinite { latest[eval.domain, default: [:]][eval.tokens] = eval.loss }
            for (tokens, loss) in (latest[general] ?? [:]).sorted(by: { $0.key < $1.key }) {
                generalRows.append([run.modelSize, tokens, 1 - run.domainShare])
                generalLosses.append(loss)
            }
            for (tokens, loss) in (latest[domain] ?? [:]).sorted(by: { $0.key < $1.key }) {
                domainRows.append([run.modelSize, tokens, run.domainShare])
                domainLosses.append(loss)
            }
        }
        return (
            LawDataset(featureNames: ["N", "D", "r"], rows: generalRows, losses: generalLosses),
            LawDataset(featureNames: ["N", "D", "r"], rows: domainRows, losses: domainLosses)
        )
    }

    /// The constants of a `dcpt` fit report (its `params` object).
    public static func parameters(fromReport report: [String: Any]) -> DCPTParameters? {
        guard let params = report["params"] as? [String: Any] else { return nil }
        let names = ["E", "A", "alpha", "B", "eta", "beta", "C", "gamma", "epsilon"]
        let values = names.compactMap { (params[$0] as? NSNumber)?.doubleValue }
        guard values.count == names.count else { return nil }
        return DCPTParameters(
            E: values[0], A: values[1], alpha: values[2], B: values[3], eta: values[4], beta: values[5], C: values[6], gamma: values[7],
            epsilon: values[8])
    }

    /// Which of the three usages to answer.
    public enum Usage: Sendable {
        /// Smallest domain loss with the general loss at most `tolerance` (relative) above the
        /// reference: `referenceGeneralLoss`, or the general law's prediction with no domain data.
        case tradeOff(tolerance: Double, referenceGeneralLoss: Double?)
        /// Only `domainTokens` domain tokens exist, repeated `epochs` times: `D = epochs · tokens / r_d`.
        case limitedData(domainTokens: Double, epochs: Double)
        /// A compute budget `flops ≈ 6 N D`: the best `(N, D, r_d)`.
        case compute(flops: Double)
    }

    /// The answer of `usage` at model size `N` and tokens `D` (D is unused by the limited-data and
    /// compute usages), as a report with the share, predicted losses, and the shares where either
    /// law is not monotone (there the "more domain data, lower domain loss" reading fails).
    public static func usageReport(
        domain: DCPTParameters, general: DCPTParameters, N: Double, D: Double, usage: Usage, shareRange: ClosedRange<Double>
    ) throws -> ReportValue {
        var report: [(String, ReportValue)] = []
        switch usage {
        case .tradeOff(let tolerance, let reference):
            let referenceLoss = reference ?? general.loss(N: N, D: D, r: 1)
            let answer = try DCPTUsage.tradeOff(
                domain: domain, general: general, N: N, D: D, tolerance: tolerance, referenceGeneralLoss: referenceLoss, shareRange: shareRange)
            report = [
                ("usage", .string("tradeoff")), ("N", .number(N)), ("D", .number(D)), ("tolerance", .number(tolerance)),
                ("reference_general_loss", .number(referenceLoss)), ("domain_share", .number(answer.domainShare)),
                ("domain_loss", .number(answer.domainLoss)), ("general_loss", .number(answer.generalLoss)),
                ("general_loss_increase", .number(answer.generalLossIncrease)), ("constraint_active", .bool(answer.constraintActive)),
            ]
        case .limitedData(let tokens, let epochs):
            let answer = try DCPTUsage.limitedDomainData(domain: domain, N: N, domainTokens: tokens, epochs: epochs, shareRange: shareRange)
            report = [
                ("usage", .string("limited-data")), ("N", .number(N)), ("domain_tokens", .number(tokens)), ("epochs", .number(epochs)),
                ("domain_share", .number(answer.domainShare)), ("domain_loss", .number(answer.domainLoss)),
                ("total_tokens", .number(answer.totalTokens)), ("at_boundary", .bool(answer.atBoundary)),
            ]
        case .compute(let flops):
            let lower = max(shareRange.lowerBound, 1e-3)
            let answer = try DCPTUsage.computeAllocation(law: domain, flops: flops, shareRange: lower...max(lower, shareRange.upperBound))
            report = [
                ("usage", .string("compute")), ("flops", .number(flops)), ("N", .number(answer.N)), ("D", .number(answer.D)),
                ("domain_share", .number(answer.share)), ("domain_loss", .number(answer.loss)),
                ("general_loss", .number(general.loss(N: answer.N, D: answer.D, r: 1 - answer.share))),
            ]
        }
        let regions = nonMonotoneRegions(domain: domain, general: general, N: N, D: D)
        report.append(("non_monotone", .object([
            ("domain_loss_rises_with_r_d", .array(regions.domain.map { .array([.number($0.lowerBound), .number($0.upperBound)]) })),
            ("general_loss_falls_with_r_d", .array(regions.general.map { .array([.number($0.lowerBound), .number($0.upperBound)]) })),
        ])))
        report.append(("share_range", .array([.number(shareRange.lowerBound), .number(shareRange.upperBound)])))
        return .object(report)
    }

    /// Intervals of `r_d ∈ [0, 1]` (on a 1,001-point grid) where the domain loss rises with more
    /// domain data, or the general loss falls with more domain data: the regions where the law
    /// contradicts the monotonicity D-CPT assumes, and where its advice deserves a real run.
    public static func nonMonotoneRegions(
        domain: DCPTParameters, general: DCPTParameters, N: Double, D: Double
    ) -> (domain: [ClosedRange<Double>], general: [ClosedRange<Double>]) {
        let grid = (0...1000).map { Double($0) / 1000 }
        func regions(_ bad: (Double, Double) -> Bool) -> [ClosedRange<Double>] {
            var found: [ClosedRange<Double>] = []
            var start: Double?
            for (a, b) in zip(grid, grid.dropFirst()) {
                if bad(a, b) {
                    if start == nil { start = a }
                } else if let open = start {
                    found.append(open...a)
                    start = nil
                }
            }
            if let open = start { found.append(open...1) }
            return found
        }
        let domainLoss = { (r: Double) in domain.loss(N: N, D: D, r: r) }
        let generalLoss = { (r: Double) in general.loss(N: N, D: D, r: 1 - r) }
        return (
            regions { domainLoss($1) > domainLoss($0) + 1e-12 },
            regions { generalLoss($1) < generalLoss($0) - 1e-12 }
        )
    }

    /// `{N: [min, max], D: [min, max], r: [min, max]}` of a dataset's rows, stored with each fit so
    /// the usages can stay inside the range the law saw.
    public static func rangeReport(_ data: LawDataset) -> ReportValue {
        .object(data.featureNames.indices.map { column in
            let values = (0..<data.count).map { Array(data.row($0))[column] }
            return (data.featureNames[column], .array([.number(values.min() ?? .nan), .number(values.max() ?? .nan)]))
        })
    }

    /// Answers `usage` from a sweep's stored fit reports: the newest `law` fits of the general and
    /// the domain loss. `N` and `D` default to the largest the sweep trained; the domain share is
    /// searched within the range of shares the domain law was fitted on unless `allowExtrapolation`.
    public static func answer(
        fitReports: [[String: Any]], law: String = "dcpt", usage: Usage, N: Double?, D: Double?, allowExtrapolation: Bool
    ) throws -> ReportValue {
        func newest(_ role: String) -> [String: Any]? {
            fitReports.last { ($0["law"] as? String) == law && ($0["role"] as? String) == role }
        }
        guard let domainReport = newest("domain"), let generalReport = newest("general") else {
            throw LawFitError(
                "the sweep has no \(law) fits of both the general and the domain loss; a D-CPT sweep (`design: {kind: dcpt}`, `laws: [dcpt]`) fits them when it completes")
        }
        guard let domain = parameters(fromReport: domainReport), let general = parameters(fromReport: generalReport) else {
            throw LawFitError("the stored \(law) fits have no D-CPT parameters; the usages need law `dcpt`")
        }
        func range(_ key: String) -> ClosedRange<Double>? {
            guard let ranges = domainReport["fitted_range"] as? [String: Any], let pair = ranges[key] as? [Any], pair.count == 2,
                let low = (pair[0] as? NSNumber)?.doubleValue, let high = (pair[1] as? NSNumber)?.doubleValue, low <= high
            else { return nil }
            return low...high
        }
        guard let sizes = range("N"), let tokens = range("D") else {
            throw LawFitError("the stored \(law) fit has no fitted range; refit the sweep with this version")
        }
        let shares = allowExtrapolation ? 0...1 : (range("r") ?? 0...1)
        let n = N ?? sizes.upperBound
        let d = D ?? tokens.upperBound
        guard n > 0, n.isFinite, d > 0, d.isFinite else { throw LawFitError("N = \(n), D = \(d); give positive sizes") }
        guard case .object(var pairs) = try usageReport(domain: domain, general: general, N: n, D: d, usage: usage, shareRange: shares) else {
            return .null
        }
        pairs.insert(("law", .string(law)), at: 0)
        // The N and D of the answer: given (tradeoff), given N with the tokens the data allows
        // (limited-data), or chosen for the budget (compute).
        func number(_ key: String) -> Double? {
            guard let value = pairs.first(where: { $0.0 == key })?.1, case .number(let number) = value else { return nil }
            return number
        }
        let answeredN = number("N") ?? n, answeredD = number("D") ?? number("total_tokens") ?? d
        var notes: [ReportValue] = []
        if !sizes.contains(answeredN) {
            notes.append(.string("N = \(answeredN) is outside the fitted model sizes \(sizes.lowerBound)…\(sizes.upperBound): the law extrapolates"))
        }
        if !tokens.contains(answeredD) {
            notes.append(.string("D = \(answeredD) is outside the fitted tokens \(tokens.lowerBound)…\(tokens.upperBound): the law extrapolates"))
        }
        pairs.append(("warnings", .array(notes)))
        return .object(pairs)
    }
}
