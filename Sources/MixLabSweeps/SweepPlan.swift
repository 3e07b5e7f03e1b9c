import Crypto
import Foundation
import MixLabAnalysis
import MixingLaws

/// A validated spec expanded into its runs, with the canonical JSON of the resolved spec and its
/// SHA-256 hash: what a coordinator stores when the sweep is submitted. Deterministic: the same
/// spec gives the same runs, JSON and hash on every machine.
public struct SweepPlan: Sendable, Equatable {
    /// The resolved spec (every default filled in).
    public var spec: SweepSpec
    /// ``spec`` as JSON with sorted keys and no insignificant whitespace.
    public var specJSON: String
    /// Lower-case hex SHA-256 of the UTF-8 bytes of ``specJSON``.
    public var specHash: String
    /// Every run, ordered by scale, then design point.
    public var runs: [PlannedRun]
    /// Caveats about the design (too few model sizes, runs beyond the epoch cap, …).
    public var warnings: [String]

    public var domains: [String] { spec.domainNames }
    public var evalDomains: [String] { spec.evalDomains }

    /// Reads, validates and expands a spec file.
    ///
    /// - Throws: ``SweepSpecError`` listing every problem.
    public static func load(path: String, knownLaws: [String]? = nil) throws(SweepSpecError) -> SweepPlan {
        let spec = try SweepSpec.load(path: path, knownLaws: knownLaws ?? LawCatalog.names)
        do {
            return try spec.resolve()
        } catch {
            throw SweepSpecError(file: path, issues: error.issues)
        }
    }

    /// `{domain: data path}` as JSON with sorted keys, the value of `MIXLAB_DOMAINS`.
    public var domainsJSON: String {
        canonicalJSON(Dictionary(uniqueKeysWithValues: spec.domains.map { ($0.name, $0.path) }))
    }
}

/// One run of a plan.
public struct PlannedRun: Sendable, Equatable, Codable {
    /// 0-based position in the sweep: `scale · designPoints + point`.
    public var index: Int
    /// The design point (mixture, and for D-CPT model size and tokens) the run trains; for an
    /// `online.compare` run, its mixture's position in the baseline (0 for stratified).
    public var point: Int
    /// Which entry of `scales` the budget came from (0 with a single `budget`).
    public var scale: Int
    /// One share per training domain, in domain order; they sum to 1.
    public var shares: [Double]
    /// The budget with the run's seed (and, for D-CPT, model size and tokens) filled in.
    public var budget: BudgetSpec
    /// ``budget`` as canonical JSON, the value of `MIXLAB_BUDGET`.
    public var budgetJSON: String
    public var seed: Int
    public var cpus: Int
    public var gpus: Int

    enum CodingKeys: String, CodingKey {
        case index, point, scale, shares, budget, budgetJSON = "budget_json", seed, cpus, gpus
    }

    /// `{domain: share}`, the value of `MIXLAB_MIXTURE` for the run.
    public func mixture(domains: [String]) -> [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(domains, shares).map { ($0, $1) })
    }

    /// The values of the run's placeholders other than the worker-side ones (`run_id`, `sweep_id`,
    /// `attempt`, `work_dir`): its seed and every budget key.
    public var budgetPlaceholders: [String: String] {
        var values: [String: String] = [:]
        for key in budget.keys { values[key] = budget.placeholderValue(key) }
        values["seed"] = String(seed)
        return values
    }
}

extension SweepSpec {
    /// The spec as canonical JSON: sorted keys, no extra whitespace, defaults as resolved.
    public var canonicalJSON: String { MixLabSweeps.canonicalJSON(self) }

    /// Lower-case hex SHA-256 of ``canonicalJSON``.
    public var hash: String { sha256Hex(canonicalJSON) }

    /// Expands the design into runs (each design point at each scale) with their budgets and seeds.
    ///
    /// In an online sweep every run's budget names the method it stands for (`mixing_method`):
    /// the design's runs are `aioli`; with `online.compare`, for every distinct budget (with seed)
    /// of those runs one `stratified` run at equal shares and `grid` runs at the points of a
    /// Dirichlet cover of the simplex follow, after all design runs, in that order.
    ///
    /// Seeds: with `run_seeds: distinct` (the default) the run of design point `p` gets
    /// `seed + p`, where `seed` is its budget's (or scale's) `seed` (default 0), so a mixture has
    /// the same seed at every scale; with `run_seeds: shared` every run gets `seed`. The design's
    /// own `seed` only drives the sampling of mixtures.
    ///
    /// - Throws: ``SweepSpecError`` when the design cannot be generated (for example RegMix's
    ///   sampler cannot find enough distinct mixtures within its caps).
    public func resolve() throws(SweepSpecError) -> SweepPlan {
        let generated: GeneratedDesign
        do {
            generated = try generateDesign()
        } catch {
            let parts = error.message.split(separator: "; ", maxSplits: 1).map(String.init)
            throw SweepSpecError(issues: [
                SweepSpecIssue(
                    path: "design", problem: parts[0], fix: parts.count > 1 ? parts[1] : "change the design settings")
            ])
        }
        var points = generated.points.map { point -> (shares: [Double], budget: BudgetSpec) in
            (point.shares, BudgetSpec(tokens: point.tokens.map { Int($0) }, modelSize: point.parameterCount.map { Int($0) }))
        }
        if case .dcpt(let dcpt) = design {
            points = dcptPoints(generated, dcpt)
        }
        let onlineMethod: ComparedMethod? = online == nil ? nil : .aioli
        let scales = self.scales ?? [budget ?? BudgetSpec()]
        var runs: [PlannedRun] = []
        runs.reserveCapacity(points.count * scales.count)
        for (scaleIndex, scale) in scales.enumerated() {
            for (pointIndex, point) in points.enumerated() {
                let base = scale.seed ?? 0
                let seed = runSeeds == .distinct ? base + pointIndex : base
                var runBudget = scale.merging(point.budget)
                runBudget.seed = seed
                runBudget.mixingMethod = onlineMethod
                runs.append(
                    PlannedRun(
                        index: runs.count, point: pointIndex, scale: scaleIndex, shares: point.shares, budget: runBudget,
                        budgetJSON: MixLabSweeps.canonicalJSON(runBudget), seed: seed, cpus: trainer.resources.cpus,
                        gpus: trainer.resources.gpus))
            }
        }
        if let compare = online?.compare {
            do {
                runs += try comparisonRuns(compare, after: runs)
            } catch {
                throw SweepSpecError(issues: [
                    SweepSpecIssue(path: "online.compare.grid", problem: error.message, fix: "change grid or grid_seed")
                ])
            }
        }
        let json = canonicalJSON
        return SweepPlan(spec: self, specJSON: json, specHash: sha256Hex(json), runs: runs, warnings: generated.warnings + epochWarnings(runs))
    }

    /// The baseline runs of `online.compare`: per distinct budget of the online runs, stratified,
    /// then the grid's mixtures, each with that budget (and seed).
    private func comparisonRuns(_ compare: CompareSpec, after online: [PlannedRun]) throws(DesignError) -> [PlannedRun] {
        let count = domains.count
        var baselines: [(ComparedMethod, point: Int, shares: [Double])] = []
        if compare.stratified { baselines.append((.stratified, 0, Array(repeating: 1 / Double(count), count: count))) }
        if let grid = compare.grid {
            let cover = DirichletCover(count: grid, concentration: Array(repeating: 1, count: count))
            let points = try Self.catching { try SweepDesign.dirichletCover(cover).generate(domains: domainNames, seed: UInt64(compare.gridSeed)) }.points
            baselines += points.enumerated().map { (.grid, $0.offset, $0.element.shares) }
        }
        var seen: Set<String> = []
        var runs: [PlannedRun] = []
        for run in online where seen.insert(run.budgetJSON).inserted {
            for (method, point, shares) in baselines {
                var budget = run.budget
                budget.mixingMethod = method
                runs.append(
                    PlannedRun(
                        index: online.count + runs.count, point: point, scale: run.scale, shares: shares, budget: budget,
                        budgetJSON: MixLabSweeps.canonicalJSON(budget), seed: run.seed, cpus: run.cpus, gpus: run.gpus))
            }
        }
        return runs
    }

    /// The trainer command of a run: an online run's is `online.command` when given; every other
    /// run's (static runs, `online.compare` baselines) is `trainer.command`.
    public func command(for method: ComparedMethod?) -> [String] {
        Self.isOnlineRun(method: method, online: online) ? online?.command ?? trainer.command : trainer.command
    }

    /// Whether a run whose budget names `method` is driven by the online method: every run of an
    /// online sweep but its `online.compare` baselines (a run stored before runs named their
    /// method counts as online). The one rule for the plan, the coordinator and the fits.
    public static func isOnlineRun(method: ComparedMethod?, online: OnlineSpec?) -> Bool {
        online != nil && (method == nil || method == .aioli)
    }

    func generateDesign() throws(DesignError) -> GeneratedDesign {
        let names = domainNames
        let design: SweepDesign
        var seed: UInt64 = 0
        switch self.design {
        case .dirichlet(let settings):
            var sampler = RegMixSampler(count: settings.runs, prior: names.map { settings.prior[$0] ?? 0 })
            sampler.temperature = settings.temperature
            sampler.strengths = settings.strengths
            sampler.maximumUsage = settings.maximumUsage
            sampler.minimumShare = settings.minimumShare
            sampler.precision = settings.precision
            design = .regMix(sampler)
            seed = UInt64(settings.seed)
        case .dirichletCover(let settings):
            var cover = DirichletCover(count: settings.runs, concentration: names.map { settings.concentration[$0] ?? 1 })
            cover.oversampling = settings.oversampling
            design = .dirichletCover(cover)
            seed = UInt64(settings.seed)
        case .grid(let settings):
            design = .grid(SimplexGrid(divisions: settings.k, bounds: settings.bounds.mapValues { $0.min...$0.max }))
        case .list(let settings):
            design = .explicit(ExplicitMixtures(rows: settings.mixtures.map { mixture in names.map { mixture[$0] ?? 0 } }))
        case .dcpt(let settings):
            let grid = DCPTGrid(
                modelSizes: settings.modelSizes.map(Double.init), tokenCounts: settings.tokens.map(Double.init),
                domainRatios: settings.ratios)
            return try Self.catching { try grid.generate(domains: [settings.general, settings.domain]) }
        }
        return try Self.catching { try design.generate(domains: names, seed: seed) }
    }

    private static func catching<T>(_ body: () throws -> T) throws(DesignError) -> T {
        do {
            return try body()
        } catch let error as DesignError {
            throw error
        } catch {
            throw DesignError("\(error)")
        }
    }

    /// D-CPT points with shares in the sweep's domain order; with checkpoints, one run per
    /// (size, ratio) trained for the largest token count and evaluated at every count.
    private func dcptPoints(_ generated: GeneratedDesign, _ dcpt: DCPTDesign) -> [(shares: [Double], budget: BudgetSpec)] {
        let names = domainNames
        func ordered(_ shares: [Double]) -> [Double] {
            names.map { $0 == dcpt.general ? shares[0] : $0 == dcpt.domain ? shares[1] : 0 }
        }
        guard dcpt.checkpoints else {
            return generated.points.map { point in
                (ordered(point.shares), BudgetSpec(tokens: point.tokens.map { Int($0) }, modelSize: point.parameterCount.map { Int($0) }))
            }
        }
        let checkpoints = dcpt.tokens.sorted()
        var result: [(shares: [Double], budget: BudgetSpec)] = []
        for size in dcpt.modelSizes {
            for ratio in dcpt.ratios {
                result.append((ordered([1 - ratio, ratio]), BudgetSpec(tokens: checkpoints.last, modelSize: size, evalTokens: checkpoints)))
            }
        }
        return result
    }

    private func epochWarnings(_ runs: [PlannedRun]) -> [String] {
        guard let maxEpochs = constraints.maxEpochs else { return [] }
        var warnings: [String] = []
        for (column, domain) in domains.enumerated() {
            guard let available = domain.tokens else { continue }
            let over = runs.filter { run in
                guard let tokens = run.budget.tokens else { return false }
                return run.shares[column] * Double(tokens) > maxEpochs * Double(available)
            }
            if let first = over.first {
                warnings.append(
                    "\(over.count) run(s) train more than \(shareText(maxEpochs)) epoch(s) of domain \(domain.name) "
                        + "(\(available) tokens), for example run \(first.index); the fitted law will see repeated data there")
            }
        }
        return warnings
    }
}

/// JSON with sorted keys and unescaped slashes; the encoding of a spec or budget is stable.
func canonicalJSON<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
        preconditionFailure("encoding a sweep value cannot fail: \(error)")
    }
}

func sha256Hex(_ text: String) -> String {
    SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
}
