import MixLabCore
public import MixingLaws

extension FitAnalysis {
    /// Fits a scaling law (Chinchilla, D-CPT) to `N,D[,r],loss` rows and reports it like a mixture
    /// law. Cross-validation folds group the checkpoints of one run (same `N` and `r`) together.
    public static func fitScalingLaw<Law: ParametricLaw>(
        _ law: Law, name: String, data: LawDataset, folds: Int?, seed: UInt64, fitter: LawFitter = LawFitter()
    ) throws -> (fit: FittedLaw<Law>, report: ReportValue) {
        guard data.count >= law.parameterCount else {
            throw MixLabInputError(
                field: "--data", problem: "has \(data.count) rows, fewer than the \(law.parameterCount) parameters of \(name)",
                fix: "add measurements (several model sizes and token counts)")
        }
        let fit = try fitter.fit(law, to: data)
        var report: [(String, ReportValue)] = [
            ("law", .string(name)),
            ("params", .object(fit.parameters.map { ($0.name, .number($0.value)) })),
            ("train", ReportValue(fit.metrics(on: data))),
        ]
        if let folds {
            let groups = runGroups(data)
            try checkFolds(folds, groups: Set(groups).count)
            var cv = CrossValidation(scheme: .kFold(folds), seed: seed)
            cv.huberDelta = fit.huberDelta
            let result = try cv.evaluate(law, data: data, groups: groups, fitter: fitter)
            report.append(("cv", cvReport(result, folds: folds)))
        }
        report.append(("objective", .number(fit.objective)))
        report.append(("rows", .integer(data.count)))
        report.append(("starts", .object([("polished", .integer(fit.startsPolished)), ("near_best", .integer(fit.startsNearBest))])))
        report.append(("stop", .string(fit.stopReason.rawValue)))
        return (fit, .object(report))
    }

    /// One group per run: rows sharing every feature but `D` (the checkpoint).
    static func runGroups(_ data: LawDataset) -> [[Double]] {
        guard let dIndex = data.featureNames.firstIndex(of: "D") else { return (0..<data.count).map { [Double($0)] } }
        if data.featureNames.count == 2 { return (0..<data.count).map { [Double($0)] } }
        return (0..<data.count).map { row in
            data.row(row).enumerated().filter { $0.offset != dIndex }.map(\.element)
        }
    }
}
