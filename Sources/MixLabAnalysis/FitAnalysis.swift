import MixLabCore
public import MixingLaws

/// Turns tables of proxy-run results into fitted laws and the fit report that `mixlab fit`
/// prints: parameters, training metrics, and held-out metrics (a test set and/or k-fold
/// cross-validation over runs).
public enum FitAnalysis {
    /// Huber δ used when *reporting* mixture-law errors on the loss scale.
    public static let mixtureReportHuberDelta = 0.02

    /// Fits a mixing law to joined ratio/metric tables.
    public static func fitMixtureLaw(
        _ law: any MixtureLawFitter, train: LoadedMixtureRuns, test: LoadedMixtureRuns?, folds: Int?, seed: UInt64
    ) throws -> (fit: FittedMixtureLaw, report: ReportValue) {
        try checkEnoughRuns(law, train.runs)
        if let test { try checkSameDomains(train: train.runs, test: test.runs) }
        let fit = try law.fit(train.runs)
        var report: [(String, ReportValue)] = [
            ("law", .string(law.name)),
            ("params", .object(fit.parameters.map { ($0.name, .number($0.value)) })),
            ("train", ReportValue(metrics(of: fit.model, on: train.runs))),
        ]
        if let test { report.append(("test", ReportValue(metrics(of: fit.model, on: test.runs)))) }
        if let folds {
            let cv = try crossValidatedMetrics(law, runs: train.runs, folds: folds, seed: seed)
            report.append(("cv", cvReport(cv, folds: folds)))
        }
        if let objective = fit.objective { report.append(("objective", .number(objective))) }
        report.append(("runs", .integer(train.runs.count)))
        report.append(("domains", .array(train.runs.domains.map(ReportValue.string))))
        report.append(("targets", .object(zip(train.runs.targetNames, train.runs.targetWeights).map { ($0, .number($1)) })))
        report.append(("warnings", .array((train.warnings + (test?.warnings ?? [])).map(ReportValue.string))))
        return (fit, .object(report))
    }

    /// Training or held-out metrics of a mixture model against the runs' aggregated losses.
    public static func metrics(of model: any MixtureLossModel, on runs: MixtureRuns) -> FitMetrics {
        FitMetrics(
            observed: runs.aggregatedLosses, predicted: runs.mixtures.map(model.loss), huberDelta: mixtureReportHuberDelta)
    }

    /// Pooled held-out metrics of k-fold cross-validation over runs (runs with identical mixtures
    /// stay in one fold).
    static func crossValidatedMetrics(_ law: any MixtureLawFitter, runs: MixtureRuns, folds: Int, seed: UInt64) throws -> CrossValidationReport {
        try checkFolds(folds, groups: Set(CrossValidation.groupsByMixture(runs.mixtures)).count)
        var cv = CrossValidation(scheme: .kFold(folds), seed: seed)
        cv.huberDelta = mixtureReportHuberDelta
        return try cv.evaluate(law, runs: runs)
    }

    static func checkFolds(_ folds: Int, groups: Int) throws(MixLabInputError) {
        guard folds >= 2, folds <= groups else {
            throw MixLabInputError(
                field: "--folds \(folds)", problem: "must be between 2 and the number of distinct runs (\(groups))",
                fix: "choose --folds 5 or 10, or omit it")
        }
    }

    static func checkEnoughRuns(_ law: any MixtureLawFitter, _ runs: MixtureRuns) throws(MixLabInputError) {
        let needed = law.minimumRuns(domains: runs.domains.count, targets: runs.targetNames.count)
        guard runs.count >= needed else {
            throw MixLabInputError(
                field: "--ratios", problem: "has \(runs.count) runs, fewer than the \(needed) that law \(law.name) needs for \(runs.domains.count) domains",
                fix: "add runs or choose a law with fewer parameters (`linear` needs \(runs.domains.count))")
        }
    }

    static func checkSameDomains(train: MixtureRuns, test: MixtureRuns) throws(MixLabInputError) {
        guard train.domains == test.domains else {
            let missing = Set(train.domains).symmetricDifference(test.domains).sorted().prefix(5)
            throw MixLabInputError(
                field: "--test-ratios", problem: "has different domain columns from --ratios (\(missing.joined(separator: ", ")))",
                fix: "use the same domain columns, in the same order, in both ratio files")
        }
    }

    /// The `cv` object: pooled held-out metrics, the fold count, and how many folds failed to fit
    /// (their runs are missing from `n`).
    static func cvReport(_ report: CrossValidationReport, folds: Int) -> ReportValue {
        guard case .object(var pairs) = ReportValue(report.pooled) else { return .null }
        pairs.insert(("folds", .integer(folds)), at: 0)
        pairs.append(("failed_folds", .integer(report.failedFolds)))
        return .object(pairs)
    }
}
