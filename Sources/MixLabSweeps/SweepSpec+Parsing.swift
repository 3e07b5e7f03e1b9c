import Foundation
import MixLabAnalysis
import MixingLaws

extension SweepSpec {
    /// Largest number of runs a sweep may expand to.
    public static let maximumRunCount = 100_000

    /// Laws fitted when a spec names none: `dcpt` for D-CPT designs, `dml` and `linear` otherwise
    /// (none for an online sweep without grid baselines: it has no static runs to fit them to).
    static func defaultLaws(for design: DesignSpec?, known: [String]) -> [String] {
        if case .dcpt = design { return ["dcpt"].filter(known.contains) }
        return ["dml", "linear"].filter(known.contains)
    }

    /// Parses and validates a spec written in YAML (or JSON) and returns it with every default
    /// filled in.
    ///
    /// - Parameters:
    ///   - file: Shown before each message (`FILE: line L, column C: path: problem; fix`).
    ///   - knownLaws: Names `laws` may use (default: every law of ``LawCatalog``).
    /// - Throws: ``SweepSpecError`` with every problem found, each naming its field path and fix.
    public static func parse(yaml: String, file: String? = nil, knownLaws: [String] = LawCatalog.names) throws(SweepSpecError)
        -> SweepSpec
    {
        let root: SpecNode?
        do {
            root = try SpecNode.parse(yaml: yaml)
        } catch {
            throw SweepSpecError(file: file, issues: error.issues)
        }
        guard let root else {
            throw SweepSpecError(
                file: file,
                issues: [SweepSpecIssue(path: "(document)", problem: "is empty", fix: "write a sweep spec (see examples/sweeps/smoke.yaml)")])
        }
        let reader = SpecReader()
        let spec = SpecParser(reader: reader, knownLaws: knownLaws).parse(root)
        guard let spec, reader.issues.isEmpty else {
            let inFileOrder = reader.issues.enumerated().sorted { a, b in
                (a.element.line ?? .max, a.offset) < (b.element.line ?? .max, b.offset)
            }
            throw SweepSpecError(file: file, issues: inFileOrder.map(\.element))
        }
        return spec
    }

    /// Reads and parses a spec file.
    ///
    /// - Throws: ``SweepSpecError`` when the file cannot be read or the spec is invalid.
    public static func load(path: String, knownLaws: [String] = LawCatalog.names) throws(SweepSpecError) -> SweepSpec {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SweepSpecError(
                file: path,
                issues: [
                    SweepSpecIssue(
                        path: "(document)", problem: "cannot be read (\(error.localizedDescription))",
                        fix: "check the path and that the file is UTF-8 text")
                ])
        }
        return try parse(yaml: text, file: path, knownLaws: knownLaws)
    }
}

/// Names of domains, sweeps and budget keys are restricted so they can be CSV headers, YAML keys,
/// file names and environment values without quoting.
enum SpecNames {
    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0))
            }
    }

    static func safeVersion(of name: String) -> String {
        let cleaned = String(
            name.unicodeScalars.map { scalar -> Character in
                scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_-.".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            }.prefix(64))
        return cleaned.isEmpty ? "domain" : cleaned
    }

    /// A placeholder or budget key: a letter, then letters, digits or `_`.
    static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    static func isEnvironmentName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }

    static let rule = "use letters, digits, `_`, `-` and `.` only (at most 64 characters)"
}

/// Reads every section of a spec, reporting problems to the reader and substituting defaults, so
/// that later sections are still checked when earlier ones are broken.
struct SpecParser {
    let reader: SpecReader
    let knownLaws: [String]

    func parse(_ root: SpecNode) -> SweepSpec? {
        // `compare` is an `online` setting; written at the top it gets a pointer there, not "unknown key".
        guard let top = reader.fields(root, at: "", allowed: SweepSpec.CodingKeys.allCases.map(\.rawValue) + ["compare"]) else { return nil }
        if let misplaced = top["compare"] {
            reader.report(
                "compare", at: misplaced, "compares baselines with an online method, so it belongs inside `online`",
                fix: "move it under `online:` (for example `online: {method: aioli, compare: {stratified: true, grid: 10}}`)")
        }
        let name = parseName(top)
        let description = top.string("description")
        let domains = parseDomains(top)
        let domainNames = domains.map(\.name)
        let evalDomains = parseEvalDomains(top, domainNames: domainNames)
        let design = parseDesign(top, domains: domains)
        var budget: BudgetSpec?
        var scales: [BudgetSpec]?
        if top.has("budget") && top.has("scales") {
            top.report("scales", "is given together with `budget`", fix: "give either one `budget` or a list of `scales`, not both")
        }
        if let node = top["scales"] {
            scales = parseScales(node, at: top.path("scales"))
        } else {
            budget = top["budget"].map { parseBudget($0, at: top.path("budget")) } ?? BudgetSpec()
        }
        let runSeeds = parseRunSeeds(top)
        let trainer = parseTrainer(top, design: design, budgets: scales ?? budget.map { [$0] } ?? [])
        let online = top["online"].flatMap {
            parseOnline($0, at: top.path("online"), design: design, budgets: scales ?? budget.map { [$0] } ?? [], trainer: trainer)
        }
        if let online, online.method == "aioli" {
            checkAioli(online, budgets: scales ?? budget.map { [$0] } ?? [], domainCount: domainNames.count, top: top)
        }
        let laws = parseLaws(top, design: design, hasScales: (scales?.count ?? 0) > 1, online: online)
        let objective = parseObjective(top, evalDomains: evalDomains)
        let constraints = parseConstraints(top, domains: domains)
        let priority = top.int("priority") ?? 0
        var maxConcurrentRuns: Int?
        if let value = top.int("max_concurrent_runs") {
            if value < 1 {
                top.report("max_concurrent_runs", "is \(value)", fix: "use 1 or more, or leave it out for no cap")
            }
            maxConcurrentRuns = value
        }
        if let design {
            checkRunCount(
                design, domainNames: domainNames, scaleCount: scales?.count ?? 1, comparisonRunsPerSeed: online?.compare?.runsPerSeed ?? 0,
                runSeeds: runSeeds, top: top)
        }
        guard let name, let design, let trainer else { return nil }
        return SweepSpec(
            name: name, description: description, domains: domains, evalDomains: evalDomains, design: design,
            trainer: trainer, budget: budget, scales: scales, runSeeds: runSeeds, laws: laws, objective: objective,
            constraints: constraints, priority: priority, maxConcurrentRuns: maxConcurrentRuns, online: online)
    }

    // MARK: Name and domains

    func parseName(_ top: Fields) -> String? {
        guard top.require("name", fix: "give the sweep a name, for example `name: smoke`") != nil,
            let name = top.string("name")
        else { return nil }
        guard SpecNames.isSafe(name) else {
            top.report("name", "`\(name)` is not a valid sweep name", fix: "\(SpecNames.rule), for example `\(SpecNames.safeVersion(of: name))`")
            return name
        }
        return name
    }

    func parseDomains(_ top: Fields) -> [DomainSpec] {
        let fix = "list the training domains, for example `domains: [{name: web, path: /data/web}]`"
        guard let node = top.require("domains", fix: fix), let items = reader.list(node, at: top.path("domains"), fix: fix) else {
            return []
        }
        if items.isEmpty { top.report("domains", "is an empty list", fix: fix) }
        var seen: [String: Int] = [:]
        var domains: [DomainSpec] = []
        for (index, (item, path)) in items.enumerated() {
            guard let fields = reader.fields(item, at: path, allowed: ["name", "path", "tokens"]) else { continue }
            var name = fields.require("name", fix: "give the domain a name").flatMap { _ in fields.string("name") } ?? ""
            if !name.isEmpty {
                if !SpecNames.isSafe(name) {
                    fields.report(
                        "name", "`\(name)` is not a valid domain name", fix: "\(SpecNames.rule), for example `\(SpecNames.safeVersion(of: name))`")
                } else if let first = seen[name] {
                    fields.report("name", "`\(name)` is also the name of domains[\(first)]", fix: "give every domain a different name")
                } else {
                    seen[name] = index
                }
            } else {
                name = "domain\(index)"
            }
            let dataPath = fields.require("path", fix: "give the path of the domain's data on the workers").flatMap { _ in fields.string("path") }
            if let dataPath, dataPath.trimmingCharacters(in: .whitespaces).isEmpty {
                fields.report("path", "is empty", fix: "give the path of the domain's data on the workers")
            }
            var tokens: Int?
            if let value = fields.int("tokens", fix: "give the number of tokens available, for example `tokens: 2e9`") {
                if value <= 0 {
                    fields.report("tokens", "is \(value)", fix: "give the number of tokens available (> 0), or leave it out")
                }
                tokens = value
            }
            domains.append(DomainSpec(name: name, path: dataPath ?? "", tokens: tokens))
        }
        return domains
    }

    func parseEvalDomains(_ top: Fields, domainNames: [String]) -> [String] {
        guard let node = top["eval_domains"],
            let items = reader.list(node, at: top.path("eval_domains"), fix: "list the domains trainers report losses for")
        else { return domainNames }
        if items.isEmpty {
            top.report("eval_domains", "is an empty list", fix: "list at least one domain, or leave it out to use the training domains")
        }
        var names: [String] = []
        for (item, path) in items {
            guard let name = reader.string(item, at: path) else { continue }
            if !SpecNames.isSafe(name) {
                reader.report(path, at: item, "`\(name)` is not a valid domain name", fix: SpecNames.rule)
            } else if names.contains(name) {
                reader.report(path, at: item, "`\(name)` is listed twice", fix: "list each evaluation domain once")
            }
            names.append(name)
        }
        return names
    }

    // MARK: Budget

    func parseBudget(_ node: SpecNode, at path: String) -> BudgetSpec {
        guard let fields = reader.fields(node, at: path, allowed: BudgetSpec.knownKeys, openKeys: true) else { return BudgetSpec() }
        func positive(_ key: String, _ noun: String) -> Int? {
            guard let value = fields.int(key) else { return nil }
            if value < 1 { fields.report(key, "is \(value)", fix: "use a positive number of \(noun)") }
            return value
        }
        var budget = BudgetSpec(
            steps: positive("steps", "steps"), tokens: positive("tokens", "tokens"), modelSize: positive("model_size", "parameters"))
        if let seed = fields.int("seed") {
            if !(0...BudgetSpec.maximumSeed).contains(seed) {
                fields.report(
                    "seed", "is \(seed)",
                    fix: "use a whole number from 0 to \(BudgetSpec.maximumSeed) (run seeds add the design point, and trainers "
                        + "such as numpy need seeds below 2^32)")
            }
            budget.seed = seed
        }
        if fields.has(BudgetSpec.mixingMethodKey) {
            fields.report(
                BudgetSpec.mixingMethodKey, "is set by MixLab on each run of an online sweep (aioli, stratified or grid)",
                fix: "remove it; `online.compare` adds the baseline runs")
        }
        if let node = fields["eval_tokens"], let items = reader.list(node, at: fields.path("eval_tokens")) {
            budget.evalTokens = items.compactMap { item, itemPath in
                guard let value = reader.int(item, at: itemPath) else { return nil }
                if value < 1 { reader.report(itemPath, at: item, "is \(value)", fix: "use a positive token count") }
                return value
            }
        }
        for entry in fields.extras {
            let entryPath = Fields.join(path, entry.key)
            guard SpecNames.isIdentifier(entry.key) else {
                reader.report(
                    entryPath, at: entry.keyNode, "`\(entry.key)` is not a valid budget key",
                    fix: "start with a letter and use letters, digits and `_` only")
                continue
            }
            if let suggestion = SpecReader.suggestion(for: entry.key, among: BudgetSpec.knownKeys), suggestion != entry.key,
                SpecReader.editDistance(entry.key, suggestion) <= 1 || entry.key.lowercased() == suggestion.replacingOccurrences(of: "_", with: "")
            {
                reader.report(
                    entryPath, at: entry.keyNode, "`\(entry.key)` looks like a misspelling of `\(suggestion)`", fix: "did you mean `\(suggestion)`?")
                continue
            }
            switch entry.value.value {
            case .scalar(.int(let value), _): budget.extra[entry.key] = .int(value)
            case .scalar(.float(let value), _) where value.isFinite:
                budget.extra[entry.key] = value.rounded() == value && abs(value) < 9e15 ? .int(Int(value)) : .double(value)
            case .scalar(.bool(let value), _): budget.extra[entry.key] = .bool(value)
            case .scalar(.string(let value), _): budget.extra[entry.key] = .string(value)
            default:
                reader.report(
                    entryPath, at: entry.value, "is \(entry.value.kindName); extra budget keys hold one scalar",
                    fix: "give a number, string or boolean")
            }
        }
        return budget
    }

    func parseScales(_ node: SpecNode, at path: String) -> [BudgetSpec]? {
        guard let items = reader.list(node, at: path, fix: "list budgets, for example `scales: [{steps: 1000}, {steps: 4000}]`") else { return nil }
        if items.isEmpty { reader.report(path, at: node, "is an empty list", fix: "list at least one budget, or use `budget`") }
        var scales: [BudgetSpec] = []
        for (item, itemPath) in items {
            let scale = parseBudget(item, at: itemPath)
            if let twin = scales.firstIndex(of: scale) {
                reader.report(itemPath, at: item, "is the same budget as \(path)[\(twin)]", fix: "remove the repeat")
            }
            scales.append(scale)
        }
        return scales
    }

    func parseRunSeeds(_ top: Fields) -> RunSeedPolicy {
        guard let text = top.string("run_seeds") else { return .distinct }
        guard let policy = RunSeedPolicy(rawValue: text) else {
            top.report("run_seeds", "unknown value `\(text)`", fix: "use `distinct` (seed + design point) or `shared` (every run the same seed)")
            return .distinct
        }
        return policy
    }

    // MARK: Laws, objective, constraints, online

    func parseLaws(_ top: Fields, design: DesignSpec?, hasScales: Bool, online: OnlineSpec?) -> [String] {
        // Laws are fitted to static runs; an online run's stored mixture is only where it started.
        // An online sweep has static runs with different mixtures only through `online.compare.grid`.
        let fittable = online == nil || (online?.compare?.grid ?? 0) >= 2
        guard let node = top["laws"], let items = reader.list(node, at: top.path("laws"), fix: "list law names, for example `[dml, linear]`") else {
            return fittable ? SweepSpec.defaultLaws(for: design, known: knownLaws) : []
        }
        if !fittable, !items.isEmpty {
            top.report(
                "laws", "are fitted to static runs with different mixtures, and this online sweep has none (an online run's mixture changes as it trains)",
                fix: "add `compare: {grid: N}` under `online` to fit them to its grid runs, or drop `laws` (Aioli's learned mixture is recorded without a law)")
        }
        var laws: [String] = []
        let scalingLaws = Set(LawCatalog.scalingLaws.map(\.name))
        var varyingScale = hasScales
        if case .dcpt = design { varyingScale = true }
        for (item, itemPath) in items {
            guard let law = reader.string(item, at: itemPath) else { continue }
            if !knownLaws.contains(law) {
                let fix =
                    SpecReader.suggestion(for: law, among: knownLaws).map { "did you mean `\($0)`?" }
                    ?? "use one of: \(knownLaws.joined(separator: ", "))"
                reader.report(itemPath, at: item, "unknown law `\(law)`", fix: fix)
            } else if laws.contains(law) {
                reader.report(itemPath, at: item, "`\(law)` is listed twice", fix: "list each law once")
            } else if scalingLaws.contains(law), !varyingScale {
                reader.report(
                    itemPath, at: item, "`\(law)` is a scaling law and needs runs at several model sizes or token counts",
                    fix: "use `design: {kind: dcpt, …}` or several `scales`, or fit a mixture law such as dml")
            }
            laws.append(law)
        }
        return laws
    }

    func parseObjective(_ top: Fields, evalDomains: [String]) -> ObjectiveSpec {
        let equal = Dictionary(evalDomains.map { ($0, 1 / Double(evalDomains.count)) }, uniquingKeysWith: { a, _ in a })
        guard let node = top["objective"], let fields = reader.fields(node, at: top.path("objective"), allowed: ["targets"]),
            let targetsNode = fields["targets"]
        else { return ObjectiveSpec(targets: equal) }
        let targets = domainNumbers(
            targetsNode, at: fields.path("targets"), domains: evalDomains, noun: "weight", valid: { $0 >= 0 }, rule: "use a weight ≥ 0",
            kind: "evaluation domain")
        if case .mapping(let entries) = targetsNode.value {
            if entries.isEmpty {
                fields.report("targets", "is empty", fix: "give at least one evaluation domain a weight, or leave `objective` out for equal weights")
            } else if !targets.isEmpty, targets.values.allSatisfy({ $0 == 0 }) {
                fields.report("targets", "gives every domain weight 0", fix: "give at least one target a positive weight")
            }
        }
        return ObjectiveSpec(targets: targets)
    }

    func parseConstraints(_ top: Fields, domains: [DomainSpec]) -> ConstraintsSpec {
        guard let node = top["constraints"],
            let fields = reader.fields(node, at: top.path("constraints"), allowed: ConstraintsSpec.CodingKeys.allCases.map(\.rawValue))
        else { return ConstraintsSpec() }
        let names = domains.map(\.name)
        let inUnit: (Double) -> Bool = { (0...1).contains($0) }
        let minimum =
            fields["min"].map {
                domainNumbers($0, at: fields.path("min"), domains: names, noun: "share", valid: inUnit, rule: "use a share in [0, 1]")
            } ?? [:]
        let maximum =
            fields["max"].map {
                domainNumbers($0, at: fields.path("max"), domains: names, noun: "share", valid: inUnit, rule: "use a share in [0, 1]")
            } ?? [:]
        for name in names.uniqued() {
            if let low = minimum[name], let high = maximum[name], low > high {
                fields.report(
                    "min", "the minimum share of `\(name)` (\(low)) is above its maximum (\(high))",
                    fix: "make constraints.min.\(name) ≤ constraints.max.\(name)")
            }
        }
        let minimumSum = minimum.values.reduce(0, +)
        if minimumSum > 1 + 1e-9 {
            fields.report("min", "the minimum shares sum to \(shareText(minimumSum)), more than 1", fix: "lower some minima so they sum to at most 1")
        }
        let maximumSum = names.reduce(0) { $0 + (maximum[$1] ?? 1) }
        if !names.isEmpty, maximumSum < 1 - 1e-9 {
            fields.report(
                "max", "the maximum shares sum to \(shareText(maximumSum)), less than 1, so no mixture fits",
                fix: "raise some maxima so they sum to at least 1")
        }
        var constraints = ConstraintsSpec(min: minimum, max: maximum)
        if let epochs = fields.double("max_epochs") {
            if epochs <= 0 { fields.report("max_epochs", "is \(epochs)", fix: "use a positive number of epochs") }
            if !domains.contains(where: { $0.tokens != nil }) {
                fields.report("max_epochs", "caps epochs, but no domain gives its `tokens`", fix: "add `tokens:` to the domains with limited data")
            }
            constraints.maxEpochs = epochs
        }
        if let target = fields.int("target_tokens") {
            if target < 1 { fields.report("target_tokens", "is \(target)", fix: "give the token count of the final run") }
            constraints.targetTokens = target
        }
        if constraints.maxEpochs != nil, constraints.targetTokens != nil, reader.issues.isEmpty,
            let region = try? constraints.mixtureConstraints(domains: domains)
        {
            do {
                _ = try region.feasibleRegion()
            } catch {
                fields.report("max_epochs", "makes the constraints infeasible: \(error)", fix: "relax the bounds or the epoch cap")
            }
        }
        return constraints
    }

    func parseOnline(_ node: SpecNode, at path: String, design: DesignSpec?, budgets: [BudgetSpec], trainer: TrainerSpec?) -> OnlineSpec? {
        guard let fields = reader.fields(node, at: path, allowed: OnlineSpec.CodingKeys.allCases.map(\.rawValue)) else { return nil }
        let method = fields.require("method", fix: "set `method: aioli`").flatMap { _ in fields.string("method") } ?? ""
        if !method.isEmpty, !OnlineSpec.methods.contains(method) {
            fields.report("method", "unknown online method `\(method)`", fix: "use one of: \(OnlineSpec.methods.joined(separator: ", "))")
        }
        let rounds = fields.int("rounds")
        if let rounds, rounds < 1 { fields.report("rounds", "is \(rounds)", fix: "use 1 or more rounds") }
        let initSteps = fields.int("init_steps")
        if let initSteps, initSteps < 0 { fields.report("init_steps", "is \(initSteps)", fix: "use 0 or more steps") }
        var params: [String: Double] = [:]
        if let paramsNode = fields["params"], let entries = reader.entries(paramsNode, at: fields.path("params"), fix: "write `params: {eta: 0.1}`") {
            for entry in entries {
                if !SpecNames.isIdentifier(entry.key) {
                    reader.report(entry.path, at: entry.keyNode, "`\(entry.key)` is not a valid parameter name", fix: "use letters, digits and `_`")
                }
                if let value = reader.double(entry.value, at: entry.path) { params[entry.key] = value }
            }
        }
        if method == "aioli" {
            for key in params.keys.sorted() where OnlineSpec.aioliParameters[key] == nil {
                fields.report(
                    "params", "`\(key)` is not an Aioli parameter",
                    fix: "use " + OnlineSpec.aioliParameters.keys.sorted().joined(separator: ", "))
            }
        }
        let command = parseOnlineCommand(fields, design: design, budgets: budgets)
        let compare = fields["compare"].flatMap { parseCompare($0, at: fields.path("compare")) }
        if compare != nil, command == nil, let trainer, trainer.command.contains("--online") {
            fields.report(
                "compare", "runs its static baselines with trainer.command, which asks for `--online`",
                fix: "give the online runs their own `online.command` (with --online) and drop --online from trainer.command")
        }
        return OnlineSpec(method: method, rounds: rounds, initSteps: initSteps, params: params, command: command, compare: compare)
    }

    func parseOnlineCommand(_ fields: Fields, design: DesignSpec?, budgets: [BudgetSpec]) -> [String]? {
        let fix = "give the online runs' program and arguments as a list, for example `command: [mixlab, proxy, train, --online]`"
        guard let node = fields["command"], let items = reader.list(node, at: fields.path("command"), fix: fix) else { return nil }
        if items.isEmpty { fields.report("command", "is an empty list", fix: fix + ", or leave it out to use trainer.command") }
        var command: [String] = []
        for (item, itemPath) in items {
            guard let argument = reader.string(item, at: itemPath, fix: "write each argument as a string") else { continue }
            command.append(argument)
        }
        if let program = command.first, program.trimmingCharacters(in: .whitespaces).isEmpty {
            reader.report("\(fields.path("command"))[0]", at: items[0].0, "the program name is empty", fix: "put the program to run first")
        }
        checkPlaceholders(command, items: items, design: design, budgets: budgets, online: true)
        return command
    }

    func parseCompare(_ node: SpecNode, at path: String) -> CompareSpec? {
        guard let fields = reader.fields(node, at: path, allowed: CompareSpec.CodingKeys.allCases.map(\.rawValue)) else { return nil }
        var compare = CompareSpec()
        if let stratified = fields.bool("stratified") { compare.stratified = stratified }
        if let grid = fields.int("grid", fix: "give the number of static mixtures, for example `grid: 10`") {
            if grid < 2 {
                fields.report("grid", "is \(grid)", fix: "use 2 or more mixtures (the best of them is grid's result), or leave `grid` out")
            } else if grid > 10_000 {
                fields.report("grid", "is \(grid)", fix: "use at most 10000 mixtures per budget and seed")
            }
            compare.grid = grid
        }
        if let seed = fields.int("grid_seed") {
            if seed < 0 { fields.report("grid_seed", "is \(seed)", fix: "use a seed of 0 or more") }
            if compare.grid == nil { fields.report("grid_seed", "is given without `grid`", fix: "add `grid: N`, or drop grid_seed") }
            compare.gridSeed = seed
        }
        if !compare.stratified, compare.grid == nil {
            reader.report(path, at: node, "adds no baseline", fix: "set `stratified: true` and/or `grid: N`, or leave `compare` out")
        }
        return compare
    }

    /// Builds the controller configuration of every budget, so a spec whose steps, rounds and
    /// knobs do not fit together is refused at submit time, not when its runs start.
    func checkAioli(_ online: OnlineSpec, budgets: [BudgetSpec], domainCount: Int, top: Fields) {
        guard !budgets.isEmpty, budgets.allSatisfy({ $0.steps != nil }) else {
            top.report("online", "Aioli needs every run's length in steps", fix: "set `budget: {steps: N}` (or `steps` in every scale)")
            return
        }
        for steps in Set(budgets.compactMap(\.steps)).sorted() {
            do {
                _ = try online.aioliConfiguration(
                    domainCount: domainCount, totalSteps: steps, initialMixture: Array(repeating: 1, count: max(domainCount, 1)))
            } catch {
                top.report("online", "with \(steps) steps: \(error.field) \(error.problem)", fix: error.fix)
                return
            }
        }
    }
}

/// Shares and sums in messages, without binary noise such as `0.30000000000000004`.
func shareText(_ value: Double) -> String { String(format: "%.6g", value) }

extension Array where Element: Hashable {
    /// The elements in order with repeats removed.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
