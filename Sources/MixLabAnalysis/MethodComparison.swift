public import MixLabCore

/// The mixing method a run of an online sweep stands for: the online controller, or one of the
/// static baselines the sweep's `online.compare` block adds at the same budgets and seeds.
public enum ComparedMethod: String, Sendable, Codable, CaseIterable {
    /// Equal shares for the whole run.
    case stratified
    /// One of the N static mixtures of a grid search; the method's result is its best run.
    case grid
    /// Aioli, driven by the coordinator.
    case aioli
}

/// One run as the comparison sees it.
public struct ComparedRun: Sendable, Equatable {
    public var method: ComparedMethod
    /// Runs with the same pair key share their budget and seed: methods are compared pair by pair.
    public var pair: String
    /// Training steps and tokens the run was given (nil: its budget does not say).
    public var steps: Int?
    public var tokens: Int?
    /// Final loss per eval domain; nil when the run did not succeed.
    public var finalLosses: [String: Double]?

    public init(method: ComparedMethod, pair: String, steps: Int?, tokens: Int? = nil, finalLosses: [String: Double]?) {
        self.method = method
        self.pair = pair
        self.steps = steps
        self.tokens = tokens
        self.finalLosses = finalLosses
    }
}

/// Aioli against its static baselines, measured on the same budget/seed pairs of one sweep: per
/// method the mean final loss, its spread over pairs, the paired difference to stratified, the
/// pairs it wins, and the training steps or tokens it spent. The statistics use the complete pairs only
/// (every method has a usable result there), so the means of two rows differ by exactly their Δ. Make one with
/// ``compare(runs:measuredOn:selectedBy:)``.
public struct MethodComparison: Sendable, Equatable, Codable {
    /// One method's line of the comparison.
    public struct Row: Sendable, Equatable, Codable {
        public var method: ComparedMethod
        /// Mean over the complete pairs (``MethodComparison/completePairs``).
        public var meanLoss: Double?
        /// Sample standard deviation over the complete pairs (nil with fewer than two).
        public var sd: Double?
        /// Mean of `loss − stratified loss` over the complete pairs (nil for stratified itself).
        public var deltaVsStratified: Double?
        /// Complete pairs where the method's loss is strictly below stratified's.
        public var winsVsStratified: Int?
        /// Complete pairs compared with stratified.
        public var pairsVsStratified: Int?
        /// The method's loss per pair, in ``MethodComparison/pairs`` order (nil: no usable run).
        public var perPair: [Double?]
        /// Runs of the method in the sweep, and how many of them succeeded with every needed loss.
        public var runs: Int
        public var usableRuns: Int
        /// Steps given to all runs of the method, and that total per pair it ran on; nil when no
        /// run's budget gives steps (a budget in tokens only).
        public var trainingSteps: Int?
        public var trainingStepsPerPair: Double?
        /// The same for the tokens the budgets give.
        public var trainingTokens: Int?
        public var trainingTokensPerPair: Double?

        enum CodingKeys: String, CodingKey {
            case method, meanLoss = "mean_loss", sd, deltaVsStratified = "delta_vs_stratified"
            case winsVsStratified = "wins_vs_stratified", pairsVsStratified = "pairs_vs_stratified", perPair = "per_pair"
            case runs, usableRuns = "usable_runs", trainingSteps = "training_steps", trainingStepsPerPair = "training_steps_per_pair"
            case trainingTokens = "training_tokens", trainingTokensPerPair = "training_tokens_per_pair"
        }
    }

    /// Domain → weight of the reported loss (the weighted mean of the final losses).
    public var measuredOn: [String: Double]
    /// Domain → weight of the objective that picks grid's best run of each pair.
    public var selectedBy: [String: Double]
    /// Pair keys in the order their first run appears.
    public var pairs: [String]
    /// The pairs where every method has a usable result; the means, spreads, Δs and wins use
    /// these alone. The others (a failed run, runs added later, a sweep still running) are listed
    /// with their values in each row's ``Row/perPair`` but left out of the statistics.
    public var completePairs: [String]
    /// One row per method present, in ``ComparedMethod`` order.
    public var rows: [Row]

    enum CodingKeys: String, CodingKey {
        case measuredOn = "measured_on", selectedBy = "selected_by", pairs, completePairs = "complete_pairs", rows
    }

    /// The weights a comparison measures on. Without `domains`, the objective's. With `domains`,
    /// each keeps the objective weight of itself or, for an evaluation-only `<d>.test` domain, of
    /// `d`; if any chosen domain has no such weight, all are weighted equally.
    public static func measurementWeights(objective: [String: Double], domains: [String]?) -> [String: Double] {
        guard let domains, !domains.isEmpty else { return objective }
        var weights: [String: Double] = [:]
        for domain in domains {
            let base = domain.hasSuffix(".test") ? String(domain.dropLast(5)) : domain
            guard let weight = objective[domain] ?? objective[base], weight > 0 else {
                return Dictionary(domains.map { ($0, 1.0) }, uniquingKeysWith: { a, _ in a })
            }
            weights[domain] = weight
        }
        return weights
    }

    /// Compares the methods of one sweep.
    ///
    /// A run counts when it succeeded and reported every domain of `measuredOn` and `selectedBy`.
    /// Per pair, stratified and Aioli take the mean of their runs' weighted losses; grid takes the
    /// loss, on `measuredOn`, of its run with the lowest objective on `selectedBy`, so with
    /// evaluation-only domains grid picks by the validation domains like Aioli steers by them.
    ///
    /// - Throws: ``MixLabInputError`` when a weight map is empty or has no positive weight.
    public static func compare(runs: [ComparedRun], measuredOn: [String: Double], selectedBy: [String: Double]) throws(MixLabInputError)
        -> MethodComparison
    {
        for (field, weights) in [("domains", measuredOn), ("objective.targets", selectedBy)] {
            guard !weights.isEmpty, weights.values.allSatisfy({ $0 >= 0 && $0.isFinite }), weights.values.contains(where: { $0 > 0 }) else {
                throw MixLabInputError(field: field, problem: "gives no positive weight", fix: "name at least one eval domain with a weight > 0")
            }
        }
        var pairs: [String] = []
        for run in runs where !pairs.contains(run.pair) { pairs.append(run.pair) }
        var rows: [Row] = []
        for method in ComparedMethod.allCases {
            let mine = runs.filter { $0.method == method }
            guard !mine.isEmpty else { continue }
            var perPair: [Double?] = []
            var usable = 0
            for pair in pairs {
                let scored = mine.filter { $0.pair == pair }.compactMap { run -> (measured: Double, selection: Double)? in
                    guard let losses = run.finalLosses, let measured = weightedMean(losses, measuredOn),
                        let selection = weightedMean(losses, selectedBy)
                    else { return nil }
                    return (measured, selection)
                }
                usable += scored.count
                if scored.isEmpty {
                    perPair.append(nil)
                } else if method == .grid {
                    perPair.append(scored.min { $0.selection < $1.selection }!.measured)
                } else {
                    perPair.append(scored.map(\.measured).reduce(0, +) / Double(scored.count))
                }
            }
            let steps = total(mine.map(\.steps)), tokens = total(mine.map(\.tokens))
            let pairsRun = Double(Set(mine.map(\.pair)).count)
            rows.append(
                Row(
                    method: method, perPair: perPair, runs: mine.count, usableRuns: usable, trainingSteps: steps,
                    trainingStepsPerPair: steps.map { Double($0) / pairsRun }, trainingTokens: tokens,
                    trainingTokensPerPair: tokens.map { Double($0) / pairsRun }))
        }
        let complete = pairs.indices.filter { index in rows.allSatisfy { $0.perPair[index] != nil } }
        let baseline = rows.first { $0.method == .stratified }
        for index in rows.indices {
            let values = complete.map { rows[index].perPair[$0]! }
            rows[index].meanLoss = values.isEmpty ? nil : mean(values)
            rows[index].sd = sampleDeviation(values)
            guard let baseline, rows[index].method != .stratified else { continue }
            let differences = complete.map { rows[index].perPair[$0]! - baseline.perPair[$0]! }
            rows[index].pairsVsStratified = differences.count
            rows[index].winsVsStratified = differences.filter { $0 < 0 }.count
            rows[index].deltaVsStratified = differences.isEmpty ? nil : mean(differences)
        }
        return MethodComparison(
            measuredOn: measuredOn, selectedBy: selectedBy, pairs: pairs, completePairs: complete.map { pairs[$0] }, rows: rows)
    }

    /// A Markdown table: method, mean loss, sd, Δ and wins vs stratified, runs and the training
    /// each pair got (steps, or tokens for budgets in tokens only);
    /// then a line naming the pairs left out of the statistics, if any.
    public var table: String {
        func number(_ value: Double?, signed: Bool = false) -> String {
            guard let value else { return "—" }
            return signed ? (value >= 0 ? "+" : "−") + formatted(abs(value)) : formatted(value)
        }
        var lines = [
            "| method | mean loss | sd over pairs | Δ vs stratified | wins vs stratified | usable runs | training per pair |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in rows {
            let wins = row.winsVsStratified.map { "\($0)/\(row.pairsVsStratified ?? 0)" } ?? "—"
            func amount(_ value: Double) -> String { value.rounded() == value ? String(Int(value)) : formatted(value) }
            let training = row.trainingStepsPerPair.map { "\(amount($0)) steps" } ?? row.trainingTokensPerPair.map { "\(amount($0)) tokens" } ?? "—"
            lines.append(
                "| \(row.method.rawValue) | \(number(row.meanLoss)) | \(number(row.sd)) | \(number(row.deltaVsStratified, signed: true)) | \(wins) | "
                    + "\(row.usableRuns)/\(row.runs) | \(training) |")
        }
        let left = pairs.filter { !completePairs.contains($0) }
        if !left.isEmpty {
            let missing = left.map { pair -> String in
                let index = pairs.firstIndex(of: pair)!
                let without = rows.filter { $0.perPair[index] == nil }.map(\.method.rawValue)
                return "\(pair) (no usable \(without.joined(separator: ", ")) run)"
            }
            lines.append("")
            lines.append("Left out of the statistics, as not every method has a result there: \(missing.joined(separator: "; ")).")
        }
        return lines.joined(separator: "\n")
    }

    private func formatted(_ value: Double) -> String {
        let scaled = (value * 10_000).rounded() / 10_000
        var text = String(scaled)
        if let dot = text.firstIndex(of: "."), !text.contains("e") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < 4 { text += String(repeating: "0", count: 4 - decimals) }
        }
        return text
    }

    static func weightedMean(_ losses: [String: Double], _ weights: [String: Double]) -> Double? {
        var total = 0.0, weightSum = 0.0
        for (domain, weight) in weights where weight > 0 {
            guard let loss = losses[domain], loss.isFinite else { return nil }
            total += weight * loss
            weightSum += weight
        }
        return total / weightSum
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    /// The sum of the amounts given; nil when none is.
    static func total(_ amounts: [Int?]) -> Int? {
        let given = amounts.compactMap { $0 }
        return given.isEmpty ? nil : given.reduce(0, +)
    }

    static func sampleDeviation(_ values: [Double]) -> Double? {
        guard values.count > 1 else { return nil }
        let centre = mean(values)
        return (values.map { ($0 - centre) * ($0 - centre) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }
}
