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
            if let holdouts = axisHoldouts(law, data: data, fitter: fitter, huberDelta: fit.huberDelta) {
                report.append(("holdout", holdouts))
            }
        }
        report.append(("objective", .number(fit.objective)))
        report.append(("rows", .integer(data.count)))
        report.append(("starts", .object([("polished", .integer(fit.startsPolished)), ("near_best", .integer(fit.startsNearBest))])))
        report.append(("stop", .string(fit.stopReason.rawValue)))
        return (fit, .object(report))
    }

    /// Held-out error along each axis of the law, the generalisation questions a user of a fitted
    /// scaling law asks: `size` fits every model size but the largest and predicts the largest;
    /// `data` does the same for the largest token count; `ratio` leaves out each interior mixture
    /// ratio in turn (the extremes stay in, so this one interpolates) and pools the predictions.
    /// A hold-out whose training part is too small
    /// or whose fit fails reports why instead of metrics. `nil` when no axis qualifies.
    ///
    /// Extrapolating a power law with an offset (`E + A·N^−α`) needs three training levels, so
    /// `size` and `data` need four distinct values; `ratio` needs three.
    static func axisHoldouts<Law: ParametricLaw>(
        _ law: Law, data: LawDataset, fitter: LawFitter, huberDelta: Double
    ) -> ReportValue? {
        func values(_ feature: Int) -> [Double] { Array(Set((0..<data.count).map { data.row($0)[data.row($0).startIndex + feature] })).sorted() }
        func rows(_ feature: Int, _ keep: (Double) -> Bool) -> [Int] {
            (0..<data.count).filter { keep(data.row($0)[data.row($0).startIndex + feature]) }
        }
        func evaluate(folds: [(train: [Int], test: [Int])], heldOut: String) -> ReportValue {
            var observed: [Double] = [], predicted: [Double] = []
            for fold in folds {
                guard fold.train.count >= law.parameterCount else {
                    return .object([
                        ("held_out", .string(heldOut)),
                        ("skipped", .string("\(fold.train.count) training rows, fewer than the law's \(law.parameterCount) parameters")),
                    ])
                }
                do {
                    let fit = try fitter.fit(law, to: data.subset(fold.train))
                    let test = data.subset(fold.test)
                    observed += test.losses
                    predicted += fit.predict(test)
                } catch {
                    return .object([("held_out", .string(heldOut)), ("failed", .string("\(error)"))])
                }
            }
            guard case .object(var pairs) = ReportValue(FitMetrics(observed: observed, predicted: predicted, huberDelta: huberDelta)) else {
                return .null
            }
            let mape = zip(observed, predicted).map { abs($1 - $0) / abs($0) }.reduce(0, +) / Double(max(observed.count, 1))
            pairs.insert(("held_out", .string(heldOut)), at: 0)
            pairs.append(("mape", .number(mape)))
            return .object(pairs)
        }
        func label(_ value: Double) -> String {
            if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
            return String((value * 1e6).rounded() / 1e6)
        }
        var report: [(String, ReportValue)] = []
        for (axis, feature) in [("size", "N"), ("data", "D")] {
            guard let index = data.featureNames.firstIndex(of: feature) else { continue }
            let levels = values(index)
            guard levels.count >= 4, let largest = levels.last else { continue }
            let fold = (train: rows(index) { $0 < largest }, test: rows(index) { $0 == largest })
            report.append((axis, evaluate(folds: [fold], heldOut: "\(feature) = \(label(largest)), fitted on \(feature) ≤ \(label(levels[levels.count - 2]))")))
        }
        if let index = data.featureNames.firstIndex(of: "r") {
            let levels = values(index)
            if levels.count >= 3 {
                let interior = levels.dropFirst().dropLast()
                let folds = interior.map { level in (train: rows(index) { $0 != level }, test: rows(index) { $0 == level }) }
                report.append(("ratio", evaluate(folds: folds, heldOut: "each of r = \(interior.map(label).joined(separator: ", ")) in turn")))
            }
        }
        return report.isEmpty ? nil : .object(report)
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
