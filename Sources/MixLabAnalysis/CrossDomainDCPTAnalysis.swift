import Foundation
public import MixLabCore
public import MixingLaws

/// The leave-one-domain-out test of the Cross-Domain D-CPT Law (laws.md §1.7): for each CPT
/// domain, fit ``CrossDomainDCPTLaw`` on the other domains' runs, predict the held-out domain's
/// losses from its `(k1, k2)` alone, and compare with two references: the plain D-CPT Law fitted
/// on the held-out domain's own runs (the upper bound: what a full sweep of that domain gives)
/// and the plain D-CPT Law fitted on the other domains pooled (the baseline without a domain term).
public enum CrossDomainDCPTAnalysis {
    /// Name of the analysis in reports.
    public static let lawName = "cross-domain-dcpt"
    /// Columns of the points table (`mixlab cross-domain --data`).
    public static let columns = ["domain", "N", "D", "r", "k1", "k2", "loss"]

    /// One CPT domain's measured points: rows `N, D, r, k1, k2` (``CrossDomainDCPTLaw/featureNames``)
    /// and the domain's held-out loss.
    public struct Domain: Sendable {
        public var name: String
        public var data: LawDataset

        public init(name: String, data: LawDataset) {
            self.name = name
            self.data = data
        }
    }

    /// How close predictions are to the measured losses.
    public struct PredictionError: Sendable, Equatable {
        public var r2: Double
        public var mae: Double
        /// Mean absolute percentage error, in percent.
        public var mape: Double
        public var count: Int

        public init(observed: [Double], predicted: [Double]) {
            let metrics = FitMetrics(observed: observed, predicted: predicted)
            r2 = metrics.r2
            mae = metrics.mae
            mape = 100 * zip(observed, predicted).map { abs($0 - $1) / $0 }.reduce(0, +) / Double(max(observed.count, 1))
            count = observed.count
        }

        var report: ReportValue {
            .object([("r2", .number(r2)), ("mae", .number(mae)), ("mape_percent", .number(mape)), ("rows", .integer(count))])
        }
    }

    /// The outcome of holding one domain out.
    public struct HeldOut: Sendable {
        public var domain: String
        /// The domains the cross-domain law was fitted on.
        public var trainingDomains: [String]
        /// The held-out domain's distinct `(N, k1, k2)`.
        public var coefficients: [(N: Double, k1: Double, k2: Double)]
        /// The cross-domain law's prediction from `k1, k2` only.
        public var crossDomain: PredictionError
        /// The plain D-CPT Law fitted on the held-out domain's own runs (in-sample).
        public var perDomainFit: PredictionError
        /// The plain D-CPT Law fitted on the training domains pooled, ignoring `k1, k2`.
        public var noDomainTerm: PredictionError
        /// The cross-domain law on its own training rows.
        public var training: PredictionError
        /// The cross-domain law's reported constants.
        public var parameters: [(name: String, value: Double)]
    }

    /// `k2`: the relative drop of the domain loss during the probe run, `(k1 − L_probe) / k1`,
    /// clamped at 0 (a probe whose loss rose says "no faster than not learning").
    ///
    /// - Throws: ``MixLabInputError`` naming `k1` when it is not a finite number > 0, or the probe
    ///   loss when it is not a finite number ≥ 0 (rather than a silent `k2 = 0`).
    public static func probeRate(baseLoss k1: Double, probeLoss: Double) throws(MixLabInputError) -> Double {
        guard k1.isFinite, k1 > 0 else {
            throw MixLabInputError(
                field: "k1 (base loss)", problem: "is \(k1)",
                fix: "give the base model's held-out loss on the domain before continual pre-training, a finite number > 0")
        }
        guard probeLoss.isFinite, probeLoss >= 0 else {
            throw MixLabInputError(
                field: "probe loss", problem: "is \(probeLoss)",
                fix: "give the probe run's held-out loss on the domain, a finite number ≥ 0 "
                    + "(a NaN or infinite loss means the probe diverged: rerun it with a lower --lr)")
        }
        return max(0, (k1 - probeLoss) / k1)
    }

    /// Holds out each domain in turn.
    ///
    /// - Throws: ``MixLabInputError`` for fewer than 3 domains, a repeated name, a domain with
    ///   fewer than 9 rows, rows of the wrong width or with `k1 ≤ 0`, `k2 < 0`, `r ∉ [0, 1]`, or a
    ///   non-positive `N`, `D` or loss; ``LawFitError`` when a fit fails.
    public static func leaveOneDomainOut(
        _ domains: [Domain], law: CrossDomainDCPTLaw = CrossDomainDCPTLaw(), fitter: LawFitter = LawFitter()
    ) throws -> [HeldOut] {
        try validate(domains)
        return try domains.indices.map { held in
            let heldOut = domains[held]
            let training = domains.indices.filter { $0 != held }.map { domains[$0] }
            let pooled = concatenate(training.map(\.data))
            let crossFit = try law.fit(pooled, using: fitter)
            let perDomain = try DCPTLaw().fit(baseRows(heldOut.data), using: fitter)
            let noTerm = try DCPTLaw().fit(baseRows(pooled), using: fitter)
            let observed = heldOut.data.losses
            var seen: Set<[Double]> = []
            var coefficients: [(N: Double, k1: Double, k2: Double)] = []
            for row in heldOut.data.rows where seen.insert([row[0], row[3], row[4]]).inserted {
                coefficients.append((row[0], row[3], row[4]))
            }
            return HeldOut(
                domain: heldOut.name, trainingDomains: training.map(\.name), coefficients: coefficients.sorted { $0.N < $1.N },
                crossDomain: PredictionError(observed: observed, predicted: crossFit.predict(heldOut.data)),
                perDomainFit: PredictionError(observed: observed, predicted: perDomain.predict(baseRows(heldOut.data))),
                noDomainTerm: PredictionError(observed: observed, predicted: noTerm.predict(baseRows(heldOut.data))),
                training: PredictionError(observed: pooled.losses, predicted: crossFit.predict(pooled)),
                parameters: crossFit.parameters)
        }
    }

    /// The report `mixlab cross-domain` prints: one entry per held-out domain and the means.
    public static func report(_ results: [HeldOut]) -> ReportValue {
        let held = results.map { result -> ReportValue in
            .object([
                ("domain", .string(result.domain)),
                ("training_domains", .array(result.trainingDomains.map { .string($0) })),
                ("k", .array(result.coefficients.map { .object([("N", .number($0.N)), ("k1", .number($0.k1)), ("k2", .number($0.k2))]) })),
                ("cross_domain", result.crossDomain.report),
                ("per_domain_fit", result.perDomainFit.report),
                ("no_domain_term", result.noDomainTerm.report),
                ("train", result.training.report),
                ("params", .object(result.parameters.map { ($0.name, .number($0.value)) })),
            ])
        }
        func mean(_ metric: (HeldOut) -> PredictionError) -> ReportValue {
            let values = results.map(metric)
            let count = Double(max(values.count, 1))
            return .object([
                ("r2", .number(values.map(\.r2).reduce(0, +) / count)), ("mae", .number(values.map(\.mae).reduce(0, +) / count)),
                ("mape_percent", .number(values.map(\.mape).reduce(0, +) / count)),
            ])
        }
        var warnings: [ReportValue] = []
        if let first = results.first, first.trainingDomains.count < 4 {
            warnings.append(.string(
                "each fit sees \(first.trainingDomains.count) training domains; E, F, mu and w1 need at least 4 with distinct (k1, k2) to be identified, so read the constants with care"))
        }
        return .object([
            ("law", .string(lawName)),
            ("held_out", .array(held)),
            ("mean", .object([
                ("cross_domain", mean(\.crossDomain)), ("per_domain_fit", mean(\.perDomainFit)), ("no_domain_term", mean(\.noDomainTerm)),
            ])),
            ("warnings", .array(warnings)),
        ])
    }

    /// Reads a points table with columns `domain, N, D, r, k1, k2, loss` (any order, more allowed),
    /// one row per checkpoint; domains keep their first-appearance order.
    ///
    /// - Throws: ``MixLabInputError`` naming the file, line and column of a missing column, an
    ///   empty table or a value that is not a number.
    public static func domains(from table: CSVTable) throws(MixLabInputError) -> [Domain] {
        let indices = try columns.map { (name) throws(MixLabInputError) in try table.columnIndex(name) }
        guard !table.rows.isEmpty else {
            throw MixLabInputError(field: table.source, problem: "has no data rows", fix: "add one row per domain checkpoint")
        }
        var order: [String] = []
        var rows: [String: [[Double]]] = [:], losses: [String: [Double]] = [:]
        for (offset, row) in table.rows.enumerated() {
            let name = row[indices[0]].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                throw MixLabInputError(field: "\(table.source) line \(offset + 2) column \"domain\"", problem: "is empty", fix: "name the CPT domain")
            }
            var values: [Double] = []
            for (column, index) in zip(columns.dropFirst(), indices.dropFirst()) {
                guard let value = Double(row[index].trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw MixLabInputError(
                        field: "\(table.source) line \(offset + 2) column \"\(column)\"", problem: "is \"\(row[index])\"",
                        fix: "write a finite number")
                }
                values.append(value)
            }
            if rows[name] == nil { order.append(name) }
            rows[name, default: []].append(Array(values.prefix(5)))
            losses[name, default: []].append(values[5])
        }
        return order.map { Domain(name: $0, data: LawDataset(featureNames: CrossDomainDCPTLaw.featureNames, rows: rows[$0]!, losses: losses[$0]!)) }
    }

    static func validate(_ domains: [Domain]) throws(MixLabInputError) {
        guard domains.count >= 3 else {
            throw MixLabInputError(
                field: "domains", problem: "has \(domains.count) CPT domain(s)",
                fix: "give at least 3 (each fit needs 2 training domains and 1 held out; 5 or more identify the domain term)")
        }
        var names: Set<String> = []
        for domain in domains {
            guard names.insert(domain.name).inserted else {
                throw MixLabInputError(field: "domain \(domain.name)", problem: "is given twice", fix: "give each CPT domain once")
            }
            let data = domain.data
            guard data.width == CrossDomainDCPTLaw.featureNames.count else {
                throw MixLabInputError(
                    field: "domain \(domain.name)", problem: "has \(data.width) feature columns",
                    fix: "give rows \(CrossDomainDCPTLaw.featureNames.joined(separator: ", "))")
            }
            guard data.count >= DCPTLaw().parameterNames.count else {
                throw MixLabInputError(
                    field: "domain \(domain.name)", problem: "has \(data.count) rows, fewer than the 9 constants of its own D-CPT fit",
                    fix: "give it a D-CPT grid (several model sizes, ratios and checkpoints)")
            }
            for (index, row) in data.rows.enumerated() {
                let place = "domain \(domain.name) row \(index + 1)"
                func check(_ ok: Bool, _ column: String, _ value: Double, _ fix: String) throws(MixLabInputError) {
                    guard ok, value.isFinite else { throw MixLabInputError(field: "\(place) \(column)", problem: "is \(value)", fix: fix) }
                }
                try check(row[0] > 0, "N", row[0], "N is a parameter count and must be positive")
                try check(row[1] > 0, "D", row[1], "D is the CPT tokens trained and must be positive")
                try check((0...1).contains(row[2]), "r", row[2], "r is the domain's share of the CPT data, between 0 and 1")
                try check(row[3] > 0, "k1", row[3], "k1 is the base model's loss on the domain and must be positive")
                try check(row[4] >= 0, "k2", row[4], "k2 is the probe run's relative loss drop, ≥ 0 (use 0 if the loss did not fall)")
                try check(data.losses[index] > 0, "loss", data.losses[index], "losses must be positive")
            }
        }
    }

    static func concatenate(_ sets: [LawDataset]) -> LawDataset {
        LawDataset(featureNames: sets[0].featureNames, features: sets.flatMap(\.features), losses: sets.flatMap(\.losses))
    }

    /// The `N, D, r` columns of cross-domain rows.
    static func baseRows(_ data: LawDataset) -> LawDataset {
        LawDataset(featureNames: DCPTLaw.featureNames, rows: data.rows.map { Array($0.prefix(3)) }, losses: data.losses)
    }
}
