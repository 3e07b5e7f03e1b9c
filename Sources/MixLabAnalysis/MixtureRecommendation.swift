import MixLabCore
public import MixingLaws

/// What the user asked of the recommended mixture, by domain name as written on the command line
/// (`--min-share code=0.1`, `--tokens math=2e9 --max-epochs 4 --run-tokens 1e11`, ...).
public struct MixtureRequest: Sendable {
    public var minimumShares: [String: Double] = [:]
    public var maximumShares: [String: Double] = [:]
    public var pinnedShares: [String: Double] = [:]
    /// Tokens available per domain; needs ``runTokens`` unless every domain has a count.
    public var availableTokens: [String: Double] = [:]
    public var maximumEpochs: Double = 1
    /// Tokens of the full run the mixture is for; when nil and every domain has a token count,
    /// the run is taken to be as large as all the data together.
    public var runTokens: Double?
    /// A share is either 0 or at least this much.
    public var minimumNonZeroShare: Double = 0
    /// Caps each domain at the largest share it had in any fitting run, so the recommendation is
    /// not an extrapolation of the law (laws.md §6.4); on by default.
    public var stayWithinFittedRange = true
    public var solver: MixtureSolver = .automatic
    /// Bootstrap resamples for the interval; 0 skips it.
    public var bootstrapResamples = 100
    public var confidence = 0.9
    public var decimals = 4
    public var seed: UInt64 = 0

    public init() {}
}

/// Fits a mixing law, solves it for the best mixture under the requested constraints, finishes the
/// shares (minimum-share rule, exact-sum rounding), and bootstraps an interval by resampling runs,
/// refitting and re-solving.
public enum MixtureRecommendation {
    public static func recommend(law: any MixtureLawFitter, runs loaded: LoadedMixtureRuns, request: MixtureRequest) throws -> ReportValue {
        let runs = loaded.runs
        try FitAnalysis.checkEnoughRuns(law, runs)
        let fittedMaxima = runs.domains.indices.map { j in runs.mixtures.map { $0[j] }.max() ?? 1 }
        let constraints = try makeConstraints(
            domains: runs.domains, request: request, fittedMaxima: request.stayWithinFittedRange ? fittedMaxima : nil)
        _ = try constraints.feasibleRegion()
        let fit = try law.fit(runs)
        let solution = try request.solver.solve(fit.model, subjectTo: constraints)
        let aggregated = runs.aggregatedLosses
        let bestRun = aggregated.indices.min { aggregated[$0] < aggregated[$1] }!
        let finishing = MixtureFinishing(
            decimals: request.decimals, fittingMixtures: runs.mixtures,
            references: [
                .init(name: "uniform", shares: Array(repeating: 1 / Double(runs.domains.count), count: runs.domains.count)),
                .init(name: "best run \(loaded.runIDs[bestRun])", shares: runs.mixtures[bestRun]),
            ])
        let finished = try finishing.finish(solution, model: fit.model, constraints: constraints)

        var report: [(String, ReportValue)] = [
            ("law", .string(law.name)),
            ("mixture", .object(zip(runs.domains, finished.shares).map { ($0, .number($1)) })),
            ("predicted_loss", .number(finished.predictedLoss)),
        ]
        if request.bootstrapResamples > 0 {
            let solver = request.solver
            let bootstrap = RecommendationBootstrap(resamples: request.bootstrapResamples, confidence: request.confidence, seed: request.seed)
            // Each resample goes through the same finishing as the printed mixture, so the interval
            // describes the shares the user gets.
            let interval = try bootstrap.run(law, runs: runs) { fit in
                try finishing.finish(try solver.solve(fit.model, subjectTo: constraints), model: fit.model, constraints: constraints).shares
            }
            report.append(("interval", intervalReport(interval, domains: runs.domains)))
        }
        report.append(("solver", .object([
            ("method", .string(solution.solver)), ("iterations", .integer(solution.iterations)),
            ("converged", .bool(solution.convergence.converged)),
            ("frank_wolfe_gap", solution.convergence.frankWolfeGap.map(ReportValue.number) ?? .null),
        ])))
        report.append(("active_constraints", .array(finished.activeConstraints.map { .string($0.description) })))
        if let epochs = finished.impliedEpochs {
            let limited = runs.domains.indices.filter { request.availableTokens[runs.domains[$0]] != nil }
            report.append(("implied_epochs", .object(limited.map { (runs.domains[$0], .number(epochs[$0])) })))
        }
        report.append(("references", .object(finished.referenceLosses.map { ($0.name, .number($0.loss)) }
            + [("observed loss of best run", .number(aggregated[bestRun]))])))
        report.append(("fit", ReportValue(FitAnalysis.metrics(of: fit.model, on: runs))))
        report.append(("runs", .integer(runs.count)))
        var notes = loaded.warnings
        for (name, value) in request.maximumShares.sorted(by: { $0.key < $1.key }) where request.stayWithinFittedRange {
            if let j = runs.domains.firstIndex(of: name), fittedMaxima[j] < value {
                notes.append("--max-share \(name)=\(value) is above the largest share seen in the fitting runs (\(fittedMaxima[j])), which caps it; pass --allow-extrapolation to lift that cap")
            }
        }
        if let budget = constraints.tokenBudget, request.runTokens == nil {
            notes.append("no --run-tokens: the full run is taken to be all the data together, \(budget.targetTokens) tokens")
        }
        report.append(("warnings", .array((notes + finished.warnings).map(ReportValue.string))))
        return .object(report)
    }

    /// The mixture as CSV rows `domain,share[,lower,upper]`.
    public static func csv(_ report: ReportValue) -> CSVTable {
        guard case .object(let mixture)? = report["mixture"] else { return CSVTable(source: "mixture", header: ["domain", "share"], rows: []) }
        let interval = report["interval"]?["shares"]
        let header = interval == nil ? ["domain", "share"] : ["domain", "share", "lower", "upper"]
        let rows = mixture.map { domain, share -> [String] in
            var row = [domain, share.json()]
            if case .array(let bounds)? = interval?[domain], bounds.count == 2 { row += bounds.map { $0.json() } }
            return row
        }
        return CSVTable(source: "mixture", header: header, rows: rows)
    }

    static func intervalReport(_ interval: RecommendationInterval, domains: [String]) -> ReportValue {
        .object([
            ("confidence", .number(interval.confidence)),
            ("shares", .object(zip(domains, interval.shares).map { ($0, .array([.number($1.lower), .number($1.upper)])) })),
            ("predicted_loss", .array([.number(interval.predictedLoss.lower), .number(interval.predictedLoss.upper)])),
            ("resamples", .integer(interval.resamples)),
            ("failed_resamples", .integer(interval.failedResamples)),
        ])
    }

    /// Builds the solver's constraints; `fittedMaxima`, when given, caps each domain at the largest
    /// share seen in the fitting runs (a user maximum below it still wins).
    static func makeConstraints(domains: [String], request: MixtureRequest, fittedMaxima: [Double]?) throws(MixLabInputError) -> MixtureConstraints {
        func index(_ name: String, flag: String) throws(MixLabInputError) -> Int {
            if let i = domains.firstIndex(of: name) { return i }
            let suggestion = domains.first { $0.hasSuffix(name) }.map { "did you mean \($0)? " } ?? ""
            throw MixLabInputError(
                field: "\(flag) \(name)", problem: "names no domain of the ratios file",
                fix: "\(suggestion)domains are: \(domains.prefix(20).joined(separator: ", "))")
        }
        var lower = Array(repeating: 0.0, count: domains.count)
        var upper = fittedMaxima ?? Array(repeating: 1.0, count: domains.count)
        var pinned: [Int: Double] = [:]
        for (name, value) in request.minimumShares { lower[try index(name, flag: "--min-share")] = value }
        for (name, value) in request.maximumShares {
            let j = try index(name, flag: "--max-share")
            upper[j] = min(upper[j], value)
        }
        if fittedMaxima != nil, upper.reduce(0, +) < 1 {
            throw MixLabInputError(
                field: "--max-share and the fitted range",
                problem: "allow only \(upper.reduce(0, +)) in total (each domain is capped at the largest share it had in the fitting runs, and at any --max-share)",
                fix: "raise a --max-share, add runs with larger shares, or pass --allow-extrapolation")
        }
        for (name, value) in request.pinnedShares {
            let j = try index(name, flag: "--fix")
            pinned[j] = value
            // A pin is an explicit choice: the fitted-range cap does not apply to it.
            if fittedMaxima != nil { upper[j] = max(upper[j], min(value, request.maximumShares[name] ?? 1)) }
        }
        var budget: MixtureConstraints.TokenBudget?
        if !request.availableTokens.isEmpty {
            let everyDomainCounted = Set(request.availableTokens.keys).isSuperset(of: domains)
            guard let runTokens = request.runTokens ?? (everyDomainCounted ? request.availableTokens.values.reduce(0, +) : nil) else {
                throw MixLabInputError(
                    field: "--tokens", problem: "needs the size of the full run when only some domains have a token count",
                    fix: "add --run-tokens N (tokens of the run the mixture is for), or give --tokens for every domain")
            }
            var available = Array(repeating: Double.infinity, count: domains.count)
            for (name, value) in request.availableTokens { available[try index(name, flag: "--tokens")] = value }
            budget = .init(availableTokens: available, maximumEpochs: request.maximumEpochs, targetTokens: runTokens)
        }
        return MixtureConstraints(
            domainNames: domains, minimumShares: lower, maximumShares: upper, pinnedShares: pinned, tokenBudget: budget,
            minimumNonZeroShare: request.minimumNonZeroShare)
    }
}
