public import MixLabCore
public import MixingLaws

/// One validation target of a fit and its weight in the aggregated loss; parsed from
/// `COLUMN` or `COLUMN=WEIGHT` on the command line.
public struct TargetSelection: Sendable, Equatable {
    public var column: String
    public var weight: Double

    public init(column: String, weight: Double = 1) {
        self.column = column
        self.weight = weight
    }

    /// Parses `COLUMN` or `COLUMN=WEIGHT`.
    public init(parsing text: String) throws(MixLabInputError) {
        if let equals = text.lastIndex(of: "="), let weight = Double(text[text.index(after: equals)...]) {
            let column = String(text[..<equals])
            guard weight.isFinite, weight >= 0 else {
                throw MixLabInputError(
                    field: "--target \(text)", problem: "has weight \(weight)", fix: "use a finite, non-negative weight")
            }
            self.init(column: column, weight: weight)
        } else {
            self.init(column: text)
        }
        guard !column.isEmpty else {
            throw MixLabInputError(field: "--target", problem: "is empty", fix: "name a column of the metrics file")
        }
    }
}

/// Proxy runs read from a ratios table and a metrics table joined on their first column (the
/// olmix/RegMix convention), with the notes made while reading them.
public struct LoadedMixtureRuns: Sendable {
    public var runIDs: [String]
    public var runs: MixtureRuns
    /// Things the user should know but that did not stop the load (renormalised rows, ...).
    public var warnings: [String]
}

/// Reads and validates the tables a mixing-law fit starts from.
public enum RunTableReader {
    /// Share rows whose sum is further than this from 1 are renormalised with a warning.
    public static let renormalisationWarningThreshold = 1e-2

    /// Joins `ratios` (run id, one column per domain) with `metrics` (run id, one column per
    /// validation target) and selects `targets`.
    ///
    /// - Throws: ``MixLabInputError`` naming the file, run and column for: a duplicate or
    ///   unjoined run id, a non-numeric or non-finite value, a negative share, a row with all
    ///   shares zero, a missing target column, or no rows at all.
    public static func mixtureRuns(ratios: CSVTable, metrics: CSVTable, targets: [TargetSelection]) throws(MixLabInputError) -> LoadedMixtureRuns {
        guard ratios.header.count >= 2 else {
            throw MixLabInputError(
                field: ratios.source, problem: "has \(ratios.header.count) column(s)",
                fix: "give a run-id column followed by one share column per domain")
        }
        guard !targets.isEmpty else {
            throw MixLabInputError(field: "--target", problem: "is missing", fix: "name the metrics column to fit, e.g. --target \(metrics.header.dropFirst().first ?? "loss")")
        }
        guard !ratios.rows.isEmpty else {
            throw MixLabInputError(field: ratios.source, problem: "has no data rows", fix: "add one row per proxy run")
        }
        let targetColumns = try targets.map { (t) throws(MixLabInputError) in try metrics.columnIndex(t.column) }
        let metricRows = try indexByRunID(metrics)
        _ = try indexByRunID(ratios)
        let ratioIDs = Set(ratios.rows.map { $0[0] })
        if let orphan = metrics.rows.first(where: { !ratioIDs.contains($0[0]) }) {
            throw MixLabInputError(
                field: "\(metrics.source) run \"\(orphan[0])\"", problem: "has no row in \(ratios.source)",
                fix: "make both files list the same run ids in their first column (\(ratios.header[0]) / \(metrics.header[0]))")
        }

        let domains = Array(ratios.header.dropFirst())
        var runIDs: [String] = []
        var mixtures: [[Double]] = []
        var losses: [[Double]] = []
        var renormalised: [(id: String, sum: Double)] = []
        for row in ratios.rows {
            let id = row[0]
            guard let metricRow = metricRows[id] else {
                throw MixLabInputError(
                    field: "\(ratios.source) run \"\(id)\"", problem: "has no row in \(metrics.source)",
                    fix: "add its metrics or remove the run from \(ratios.source)")
            }
            var shares: [Double] = []
            for (offset, text) in row.dropFirst().enumerated() {
                let domain = domains[offset]
                let value = try number(text, file: ratios.source, row: "run \"\(id)\"", column: domain)
                guard value >= 0 else {
                    throw MixLabInputError(
                        field: "\(ratios.source) run \"\(id)\" column \"\(domain)\"", problem: "is negative (\(text))",
                        fix: "shares must be between 0 and 1")
                }
                shares.append(value)
            }
            let sum = shares.reduce(0, +)
            guard sum > 0 else {
                throw MixLabInputError(
                    field: "\(ratios.source) run \"\(id)\"", problem: "has every share zero",
                    fix: "give the run's mixture or remove the row")
            }
            if abs(sum - 1) > renormalisationWarningThreshold { renormalised.append((id, sum)) }
            mixtures.append(shares.map { $0 / sum })
            losses.append(try targetColumns.map { (column) throws(MixLabInputError) in
                try number(metricRow[column], file: metrics.source, row: "run \"\(id)\"", column: metrics.header[column])
            })
            runIDs.append(id)
        }
        var warnings: [String] = []
        if let worst = renormalised.max(by: { abs($0.sum - 1) < abs($1.sum - 1) }) {
            warnings.append(
                "\(ratios.source): \(renormalised.count) row(s) had shares summing further than "
                    + "\(renormalisationWarningThreshold) from 1 (worst: run \"\(worst.id)\" sums to \(worst.sum)); renormalised to 1")
        }
        let runs = MixtureRuns(
            domains: domains, mixtures: mixtures, targetNames: targets.map(\.column), targetLosses: losses,
            targetWeights: targets.map(\.weight))
        return LoadedMixtureRuns(runIDs: runIDs, runs: runs, warnings: warnings)
    }

    /// Reads `N,D,loss` (Chinchilla) or `N,D,r,loss` (D-CPT) rows.
    ///
    /// - Throws: ``MixLabInputError`` for a missing column, a non-numeric value, `N` or `D` not
    ///   positive, `r` outside [0, 1], a loss not positive, or no rows.
    public static func scalingData(_ table: CSVTable, featureColumns: [String]) throws(MixLabInputError) -> LawDataset {
        let featureIndices = try featureColumns.map { (c) throws(MixLabInputError) in try table.columnIndex(c) }
        let lossIndex = try table.columnIndex("loss")
        guard !table.rows.isEmpty else {
            throw MixLabInputError(field: table.source, problem: "has no data rows", fix: "add one row per measured checkpoint")
        }
        var rows: [[Double]] = []
        var losses: [Double] = []
        for (offset, row) in table.rows.enumerated() {
            let label = "line \(offset + 2)"
            var features: [Double] = []
            for (name, index) in zip(featureColumns, featureIndices) {
                let value = try number(row[index], file: table.source, row: label, column: name)
                if name == "r" {
                    guard (0...1).contains(value) else {
                        throw MixLabInputError(
                            field: "\(table.source) \(label) column \"r\"", problem: "is \(value)",
                            fix: "r is the share of the modelled corpus, between 0 and 1")
                    }
                } else {
                    guard value > 0 else {
                        throw MixLabInputError(
                            field: "\(table.source) \(label) column \"\(name)\"", problem: "is \(value)",
                            fix: "\(name) must be positive (\(name == "N" ? "parameters" : "tokens"))")
                    }
                }
                features.append(value)
            }
            let loss = try number(row[lossIndex], file: table.source, row: label, column: "loss")
            guard loss > 0 else {
                throw MixLabInputError(
                    field: "\(table.source) \(label) column \"loss\"", problem: "is \(loss)", fix: "losses must be positive")
            }
            rows.append(features)
            losses.append(loss)
        }
        return LawDataset(featureNames: featureColumns, rows: rows, losses: losses)
    }

    private static func indexByRunID(_ table: CSVTable) throws(MixLabInputError) -> [String: [String]] {
        var byID: [String: [String]] = [:]
        for row in table.rows {
            guard !row[0].isEmpty else {
                throw MixLabInputError(
                    field: "\(table.source) column \"\(table.header[0])\"", problem: "has an empty run id",
                    fix: "give every row a run id in the first column")
            }
            guard byID.updateValue(row, forKey: row[0]) == nil else {
                throw MixLabInputError(
                    field: "\(table.source) run \"\(row[0])\"", problem: "appears twice",
                    fix: "keep one row per run id")
            }
        }
        return byID
    }

    private static func number(_ text: String, file: String, row: String, column: String) throws(MixLabInputError) -> Double {
        guard let value = Double(text), value.isFinite else {
            throw MixLabInputError(
                field: "\(file) \(row) column \"\(column)\"",
                problem: text.isEmpty ? "is empty" : "is \"\(text)\", not a finite number",
                fix: "fill in a number or drop the row")
        }
        return value
    }
}
