import Foundation
import MixLabAnalysis
import MixingLaws

extension SweepSpec {
    /// Largest number of runs a sweep may expand to.
    public static let maximumRunCount = 100_000

    /// Laws fitted when a spec names none: `dcpt` for D-CPT designs, `dml` and `linear` otherwise.
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
                issues: [SweepSpecIssue(
                    path: "(document)", problem: "cannot be read (\(error.localizedDescription))",
                    fix: "check the path and that the file is UTF-8 text")])
        }
        return try parse(yaml: text, file: path, knownLaws: knownLaws)
    }
}

/// Names of domains, sweeps and budget keys are restricted so they can be CSV headers, YAML keys,
/// file names and environment values without quoting.
enum SpecNames {
    static func isSafe(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0)) }
    }

    static func safeVersion(of name: String) -> String {
        let cleaned = String(name.unicodeScalars.map { scalar -> Character in
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
        guard let top = reader.fields(root, at: "", allowed: SweepSpec.CodingKeys.allCases.map(\.rawValue)) else { return nil }
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
        let laws = parseLaws(top, design: design, hasScales: (scales?.count ?? 0) > 1)
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
        let online = top["online"].flatMap { parseOnline($0, at: top.path("online")) }
        if let design {
            checkRunCount(design, domainNames: domainNames, scaleCount: scales?.count ?? 1, top: top)
        }
        guard let name, let design, let trainer else { return nil }
        return SweepSpec(
            name: name, description: description, domains: domains, evalDomains: evalDomains, design: design,
            trainer: trainer, budget: budget, scales: scales, runSeeds: runSeeds, laws: laws, objective: objective,
            constraints: constraints, priority: priority, maxConcurrentRuns: maxConcurrentRuns, online: online)
    }

    // MARK: Name and domains

    private func parseName(_ top: Fields) -> String? {
        guard top.require("name", fix: "give the sweep a name, for example `name: smoke`") != nil,
            let name = top.string("name")
        else { return nil }
        guard SpecNames.isSafe(name) else {
            top.report("name", "`\(name)` is not a valid sweep name", fix: "\(SpecNames.rule), for example `\(SpecNames.safeVersion(of: name))`")
            return name
        }
        return name
    }

    private func parseDomains(_ top: Fields) -> [DomainSpec] {
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
                    fields.report("name", "`\(name)` is not a valid domain name", fix: "\(SpecNames.rule), for example `\(SpecNames.safeVersion(of: name))`")
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

    private func parseEvalDomains(_ top: Fields, domainNames: [String]) -> [String] {
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

    // MARK: Design

    private func parseDesign(_ top: Fields, domains: [DomainSpec]) -> DesignSpec? {
        let kinds = DesignSpec.kinds.map { "`\($0)`" }.joined(separator: ", ")
        guard let node = top.require("design", fix: "add a design, for example `design: {kind: dirichlet, runs: 8, seed: 1}`") else {
            return nil
        }
        let path = top.path("design")
        guard case .mapping(let entries) = node.value else {
            reader.report(path, at: node, "expected a mapping with a `kind`, found \(node.kindName)", fix: "write for example `design: {kind: dirichlet, runs: 8, seed: 1}`")
            return nil
        }
        guard let kindEntry = entries.first(where: { $0.key == "kind" }), !kindEntry.value.isNull else {
            reader.report(Fields.join(path, "kind"), at: node, "is missing", fix: "set `kind` to one of \(kinds)")
            return nil
        }
        guard let kind = reader.string(kindEntry.value, at: Fields.join(path, "kind")) else { return nil }
        let names = domains.map(\.name)
        switch kind {
        case "dirichlet":
            return parseDirichlet(node, at: path, domains: domains).map(DesignSpec.dirichlet)
        case "dirichlet_cover":
            return parseDirichletCover(node, at: path, domainNames: names).map(DesignSpec.dirichletCover)
        case "grid":
            return parseGrid(node, at: path, domainNames: names).map(DesignSpec.grid)
        case "list":
            return parseList(node, at: path, domainNames: names).map(DesignSpec.list)
        case "dcpt":
            return parseDCPT(node, at: path, domainNames: names).map(DesignSpec.dcpt)
        default:
            let fix = SpecReader.suggestion(for: kind, among: DesignSpec.kinds).map { "did you mean `\($0)`?" } ?? "use one of \(kinds)"
            reader.report(Fields.join(path, "kind"), at: kindEntry.value, "unknown design kind `\(kind)`", fix: fix)
            return nil
        }
    }

    private func parseRuns(_ fields: Fields) -> Int? {
        guard fields.require("runs", fix: "give the number of runs, for example `runs: 16`") != nil,
            let runs = fields.int("runs")
        else { return nil }
        guard runs >= 1, runs <= SweepSpec.maximumRunCount else {
            fields.report("runs", "is \(runs)", fix: "use between 1 and \(SweepSpec.maximumRunCount) runs")
            return nil
        }
        return runs
    }

    private func parseSeed(_ fields: Fields, _ key: String = "seed") -> Int {
        guard let seed = fields.int(key) else { return 0 }
        if seed < 0 { fields.report(key, "is \(seed)", fix: "use a whole number ≥ 0") }
        return seed
    }

    /// A `{domain: number}` mapping whose keys must be training (or the given) domains.
    private func domainNumbers(
        _ node: SpecNode, at path: String, domains: [String], noun: String, valid: (Double) -> Bool, rule: String,
        kind: String = "domain"
    ) -> [String: Double] {
        let domains = domains.uniqued()
        guard let entries = reader.entries(node, at: path, fix: "write a mapping from domain name to \(noun), for example `{\(domains.first ?? "a"): 0.5}`") else {
            return [:]
        }
        var result: [String: Double] = [:]
        for entry in entries {
            guard domains.contains(entry.key) else {
                let fix = SpecReader.suggestion(for: entry.key, among: domains).map { "did you mean `\($0)`?" }
                    ?? "use one of: \(domains.joined(separator: ", "))"
                reader.report(entry.path, at: entry.keyNode, "`\(entry.key)` is not \(kind == "domain" ? "a domain" : "an \(kind)") of this sweep", fix: fix)
                continue
            }
            guard let value = reader.double(entry.value, at: entry.path) else { continue }
            if !valid(value) { reader.report(entry.path, at: entry.value, "\(noun) \(value) is out of range", fix: rule) }
            result[entry.key] = value
        }
        return result
    }

    private func parseDirichlet(_ node: SpecNode, at path: String, domains: [DomainSpec]) -> DirichletDesign? {
        let allowed = ["kind"] + DirichletDesign.CodingKeys.allCases.map(\.rawValue)
        guard let fields = reader.fields(node, at: path, allowed: allowed) else { return nil }
        let names = domains.map(\.name)
        let runs = parseRuns(fields)
        let seed = parseSeed(fields)
        var prior: [String: Double]
        if let priorNode = fields["prior"] {
            prior = domainNumbers(priorNode, at: fields.path("prior"), domains: names, noun: "prior weight", valid: { $0 >= 0 }, rule: "use a weight ≥ 0")
            let missing = names.filter { prior[$0] == nil }
            if !missing.isEmpty, case .mapping = priorNode.value {
                fields.report("prior", "gives no weight for \(missing.joined(separator: ", "))", fix: "give every domain a weight (0 excludes it)")
            }
            if !prior.isEmpty, prior.values.allSatisfy({ $0 == 0 }) {
                fields.report("prior", "gives every domain weight 0", fix: "give at least one domain a positive weight")
            }
        } else if domains.allSatisfy({ $0.tokens != nil }) {
            prior = Dictionary(uniqueKeysWithValues: domains.map { ($0.name, Double($0.tokens ?? 1)) })
        } else {
            prior = Dictionary(names.map { ($0, 1.0) }, uniquingKeysWith: { a, _ in a })
        }
        let defaults = RegMixSampler(count: 1, prior: [1])
        let temperature = fields.double("temperature") ?? defaults.temperature
        if temperature <= 0 { fields.report("temperature", "is \(temperature)", fix: "use a positive exponent (RegMix used 0.5)") }
        var strengths = defaults.strengths
        if let node = fields["strengths"], let items = reader.list(node, at: fields.path("strengths")) {
            strengths = items.compactMap { reader.double($0.0, at: $0.1) }
            if items.isEmpty { fields.report("strengths", "is empty", fix: "list positive concentrations (RegMix: 0.1 … 5)") }
            for (value, (item, itemPath)) in zip(strengths, items) where value <= 0 {
                reader.report(itemPath, at: item, "is \(value)", fix: "use a positive concentration")
            }
        }
        let maximumUsage = fields.double("maximum_usage") ?? defaults.maximumUsage
        if maximumUsage <= 0 { fields.report("maximum_usage", "is \(maximumUsage)", fix: "use a positive cap multiplier (RegMix used 15)") }
        let minimumShare = fields.double("minimum_share") ?? defaults.minimumShare
        if !(0..<1).contains(minimumShare) { fields.report("minimum_share", "is \(minimumShare)", fix: "use a share in [0, 1)") }
        let precision = fields.double("precision") ?? defaults.precision
        let steps = (1 / precision).rounded()
        if !(precision > 0 && precision <= 1 && abs(steps * precision - 1) < 1e-9) {
            fields.report("precision", "is \(precision), which does not divide 1 into whole steps", fix: "use for example 2e-4, 1e-3 or 0.01")
        }
        guard let runs else { return nil }
        return DirichletDesign(
            runs: runs, seed: seed, prior: prior, temperature: temperature, strengths: strengths, maximumUsage: maximumUsage,
            minimumShare: minimumShare, precision: precision)
    }

    private func parseDirichletCover(_ node: SpecNode, at path: String, domainNames: [String]) -> DirichletCoverDesign? {
        let allowed = ["kind"] + DirichletCoverDesign.CodingKeys.allCases.map(\.rawValue)
        guard let fields = reader.fields(node, at: path, allowed: allowed) else { return nil }
        let runs = parseRuns(fields)
        let seed = parseSeed(fields)
        var concentration = Dictionary(domainNames.map { ($0, 1.0) }, uniquingKeysWith: { a, _ in a })
        if let node = fields["concentration"] {
            let given = domainNumbers(
                node, at: fields.path("concentration"), domains: domainNames, noun: "concentration", valid: { $0 > 0 },
                rule: "use a positive concentration")
            concentration.merge(given) { $1 }
        }
        let oversampling = fields.int("oversampling") ?? 16
        if !(1...1000).contains(oversampling) {
            fields.report("oversampling", "is \(oversampling)", fix: "use between 1 and 1000 draws per mixture (Aioli used 16)")
        }
        guard let runs else { return nil }
        return DirichletCoverDesign(runs: runs, seed: seed, concentration: concentration, oversampling: oversampling)
    }

    private func parseGrid(_ node: SpecNode, at path: String, domainNames: [String]) -> GridDesign? {
        guard let fields = reader.fields(node, at: path, allowed: ["kind", "k", "step", "bounds"]) else { return nil }
        var k: Int?
        switch (fields.has("k"), fields.has("step")) {
        case (true, true):
            fields.report("step", "is given together with `k`", fix: "give either `k` (divisions) or `step` (1/k), not both")
        case (false, false):
            fields.report("k", "is missing", fix: "give the lattice as `step: 0.1` or `k: 10`")
        case (true, false):
            if let value = fields.int("k") {
                if !(1...1000).contains(value) { fields.report("k", "is \(value)", fix: "use a whole number of divisions from 1 to 1000 (10 gives steps of 0.1)") }
                k = value
            }
        case (false, true):
            if let step = fields.double("step") {
                let divisions = (1 / step).rounded()
                if step > 0, step <= 1, abs(divisions * step - 1) < 1e-9, divisions <= 1000 {
                    k = Int(divisions)
                } else {
                    fields.report("step", "is \(step), which does not divide 1 into whole steps", fix: "use a step of at least 0.001 that divides 1, for example 0.1, 0.125 or 0.05")
                }
            }
        }
        var bounds: [String: ShareBounds] = [:]
        if let boundsNode = fields["bounds"],
            let entries = reader.entries(boundsNode, at: fields.path("bounds"), fix: "write `bounds: {domain: {min: 0.1, max: 0.9}}`")
        {
            for entry in entries {
                guard domainNames.contains(entry.key) else {
                    let fix = SpecReader.suggestion(for: entry.key, among: domainNames).map { "did you mean `\($0)`?" }
                        ?? "use one of the domains: \(domainNames.uniqued().joined(separator: ", "))"
                    reader.report(entry.path, at: entry.keyNode, "`\(entry.key)` is not a domain of this sweep", fix: fix)
                    continue
                }
                guard let range = reader.fields(entry.value, at: entry.path, allowed: ["min", "max"]) else { continue }
                let lower = range.double("min") ?? 0, upper = range.double("max") ?? 1
                if !(0...1).contains(lower) { range.report("min", "is \(lower)", fix: "use a share in [0, 1]") }
                if !(0...1).contains(upper) { range.report("max", "is \(upper)", fix: "use a share in [0, 1]") }
                if lower > upper { range.report("min", "\(lower) is above max \(upper)", fix: "make min ≤ max") }
                bounds[entry.key] = ShareBounds(min: lower, max: upper)
            }
        }
        guard let k else { return nil }
        return GridDesign(k: k, bounds: bounds)
    }

    private func parseList(_ node: SpecNode, at path: String, domainNames: [String]) -> ListDesign? {
        guard let fields = reader.fields(node, at: path, allowed: ["kind", "mixtures"]) else { return nil }
        let example = "`mixtures: [{\(domainNames.map { "\($0): \(shareText(1 / Double(max(domainNames.count, 1))))" }.joined(separator: ", "))}]`"
        guard let mixturesNode = fields.require("mixtures", fix: "list the mixtures, for example \(example)"),
            let items = reader.list(mixturesNode, at: fields.path("mixtures"), fix: "list the mixtures, for example \(example)")
        else { return nil }
        if items.isEmpty { fields.report("mixtures", "is an empty list", fix: "list at least one mixture, for example \(example)") }
        var mixtures: [[String: Double]] = []
        for (item, itemPath) in items {
            guard let entries = reader.entries(item, at: itemPath, fix: "write the mixture as `{domain: share, …}`, for example \(example)") else {
                continue
            }
            var mixture = Dictionary(domainNames.map { ($0, 0.0) }, uniquingKeysWith: { a, _ in a })
            var valid = true
            for entry in entries {
                guard domainNames.contains(entry.key) else {
                    let fix = SpecReader.suggestion(for: entry.key, among: domainNames).map { "did you mean `\($0)`?" }
                        ?? "use the domains of this sweep: \(domainNames.uniqued().joined(separator: ", "))"
                    reader.report(itemPath, at: entry.keyNode, "`\(entry.key)` is not a domain of this sweep", fix: fix)
                    valid = false
                    continue
                }
                guard let share = reader.double(entry.value, at: Fields.join(itemPath, entry.key)) else {
                    valid = false
                    continue
                }
                if share < 0 {
                    reader.report(Fields.join(itemPath, entry.key), at: entry.value, "share is negative (\(share))", fix: "use a share between 0 and 1")
                    valid = false
                }
                mixture[entry.key] = share
            }
            let sum = mixture.values.reduce(0, +)
            if valid, abs(sum - 1) > 1e-6 {
                reader.report(itemPath, at: item, "shares sum to \(shareText(sum)), not 1 (tolerance 1e-6)", fix: "make the shares of this mixture sum to 1")
                valid = false
            }
            if valid, let twin = mixtures.firstIndex(where: { other in domainNames.allSatisfy { abs((other[$0] ?? 0) - (mixture[$0] ?? 0)) <= 1e-9 } }) {
                reader.report(itemPath, at: item, "is the same mixture as \(fields.path("mixtures"))[\(twin)]", fix: "remove one of them (use `scales` or seeds for replicates)")
            }
            mixtures.append(mixture)
        }
        return ListDesign(mixtures: mixtures)
    }

    private func parseDCPT(_ node: SpecNode, at path: String, domainNames: [String]) -> DCPTDesign? {
        let allowed = ["kind"] + DCPTDesign.CodingKeys.allCases.map(\.rawValue)
        guard let fields = reader.fields(node, at: path, allowed: allowed) else { return nil }
        func numbers(_ key: String, example: String, valid: (Double) -> Bool, rule: String) -> [Double]? {
            guard let node = fields[key], let items = reader.list(node, at: fields.path(key), fix: "write a list, for example `\(key): \(example)`") else {
                return nil
            }
            if items.isEmpty { fields.report(key, "is an empty list", fix: "give at least one value, for example `\(key): \(example)`") }
            var values: [Double] = []
            for (item, itemPath) in items {
                guard let value = reader.double(item, at: itemPath) else { continue }
                if !valid(value) {
                    reader.report(itemPath, at: item, "is \(value)", fix: rule)
                } else if values.contains(value) {
                    reader.report(itemPath, at: item, "\(value) is listed twice", fix: "remove the repeat")
                }
                values.append(value)
            }
            return values
        }
        let sizesExample = "[1e6, 4e6, 16e6]", tokensExample = "[1e8, 3e8, 1e9]"
        if fields.require("model_sizes", fix: "list the model sizes N, for example `model_sizes: \(sizesExample)`") == nil
            || fields.require("tokens", fix: "list the token counts D, for example `tokens: \(tokensExample)`") == nil
        {
            return nil
        }
        let integral: (Double) -> Bool = { $0 >= 1 && $0.rounded() == $0 && $0 < 9e18 }
        let sizes = numbers("model_sizes", example: sizesExample, valid: integral, rule: "use a whole number of parameters ≥ 1")
        let tokens = numbers("tokens", example: tokensExample, valid: integral, rule: "use a whole number of tokens ≥ 1")
        let ratios = fields.has("ratios")
            ? numbers("ratios", example: "[0, 0.2, 0.5, 0.8, 1]", valid: { (0...1).contains($0) }, rule: "use a domain share in [0, 1]")
            : DCPTGrid.paperRatios
        if domainNames.count != 2 {
            reader.report(
                "domains", at: nil, "has \(domainNames.count) domains, but the dcpt design mixes exactly 2 (a general and a domain corpus)",
                fix: "list exactly two training domains (evaluation-only domains go in `eval_domains`)")
        }
        func corpus(_ key: String, default index: Int) -> String {
            guard let name = fields.string(key) else { return domainNames.count == 2 ? domainNames[index] : "" }
            if !domainNames.contains(name) {
                fields.report(key, "`\(name)` is not a domain of this sweep", fix: "use one of: \(domainNames.joined(separator: ", "))")
            }
            return name
        }
        let general = corpus("general", default: 0), domain = corpus("domain", default: 1)
        if !general.isEmpty, general == domain {
            fields.report("domain", "is the same as `general` (`\(general)`)", fix: "name the two different corpora")
        }
        let checkpoints = fields.bool("checkpoints") ?? false
        guard let sizes, let tokens, let ratios else { return nil }
        return DCPTDesign(
            modelSizes: sizes.map { Int($0.isFinite && abs($0) < 9e18 ? $0 : 0) }, tokens: tokens.map { Int($0.isFinite && abs($0) < 9e18 ? $0 : 0) },
            ratios: ratios, general: general, domain: domain, checkpoints: checkpoints)
    }

    private func checkRunCount(_ design: DesignSpec, domainNames: [String], scaleCount: Int, top: Fields) {
        let points: Int
        switch design {
        case .dirichlet(let design): points = design.runs
        case .dirichletCover(let design): points = design.runs
        case .list(let design): points = design.mixtures.count
        case .grid(let design):
            let grid = SimplexGrid(divisions: design.k, bounds: design.bounds.mapValues { $0.min...Swift.max($0.min, $0.max) })
            guard !domainNames.isEmpty, let count = try? grid.pointCount(domains: domainNames) else { return }
            if count == 0 {
                top.report("design", "no mixture on the 1/\(design.k) lattice satisfies the bounds", fix: "widen the bounds or use a finer step")
            }
            points = count
        case .dcpt(let design):
            points = design.modelSizes.count * design.ratios.count * (design.checkpoints ? 1 : design.tokens.count)
        }
        let (total, overflow) = points.multipliedReportingOverflow(by: scaleCount)
        if overflow || total > SweepSpec.maximumRunCount {
            top.report(
                "design", "expands to \(overflow ? "too many" : String(total)) runs (\(points) design points × \(scaleCount) scale(s)), more than \(SweepSpec.maximumRunCount)",
                fix: "use a coarser grid, fewer runs or fewer scales")
        }
    }

    // MARK: Budget

    private func parseBudget(_ node: SpecNode, at path: String) -> BudgetSpec {
        guard let fields = reader.fields(node, at: path, allowed: BudgetSpec.knownKeys, openKeys: true) else { return BudgetSpec() }
        func positive(_ key: String, _ noun: String) -> Int? {
            guard let value = fields.int(key) else { return nil }
            if value < 1 { fields.report(key, "is \(value)", fix: "use a positive number of \(noun)") }
            return value
        }
        var budget = BudgetSpec(
            steps: positive("steps", "steps"), tokens: positive("tokens", "tokens"), modelSize: positive("model_size", "parameters"))
        if let seed = fields.int("seed") {
            if seed < 0 { fields.report("seed", "is \(seed)", fix: "use a whole number ≥ 0") }
            budget.seed = seed
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
                reader.report(entryPath, at: entry.keyNode, "`\(entry.key)` is not a valid budget key", fix: "start with a letter and use letters, digits and `_` only")
                continue
            }
            if let suggestion = SpecReader.suggestion(for: entry.key, among: BudgetSpec.knownKeys), suggestion != entry.key,
                SpecReader.editDistance(entry.key, suggestion) <= 1 || entry.key.lowercased() == suggestion.replacingOccurrences(of: "_", with: "")
            {
                reader.report(entryPath, at: entry.keyNode, "`\(entry.key)` looks like a misspelling of `\(suggestion)`", fix: "did you mean `\(suggestion)`?")
                continue
            }
            switch entry.value.value {
            case .scalar(.int(let value), _): budget.extra[entry.key] = .int(value)
            case .scalar(.float(let value), _) where value.isFinite:
                budget.extra[entry.key] = value.rounded() == value && abs(value) < 9e15 ? .int(Int(value)) : .double(value)
            case .scalar(.bool(let value), _): budget.extra[entry.key] = .bool(value)
            case .scalar(.string(let value), _): budget.extra[entry.key] = .string(value)
            default:
                reader.report(entryPath, at: entry.value, "is \(entry.value.kindName); extra budget keys hold one scalar", fix: "give a number, string or boolean")
            }
        }
        return budget
    }

    private func parseScales(_ node: SpecNode, at path: String) -> [BudgetSpec]? {
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

    private func parseRunSeeds(_ top: Fields) -> RunSeedPolicy {
        guard let text = top.string("run_seeds") else { return .distinct }
        guard let policy = RunSeedPolicy(rawValue: text) else {
            top.report("run_seeds", "unknown value `\(text)`", fix: "use `distinct` (seed + design point) or `shared` (every run the same seed)")
            return .distinct
        }
        return policy
    }

    // MARK: Trainer

    private func parseTrainer(_ top: Fields, design: DesignSpec?, budgets: [BudgetSpec]) -> TrainerSpec? {
        let example = "`trainer: {command: [python3, train.py, --run, \"{run_id}\"]}`"
        guard let node = top.require("trainer", fix: "add the trainer, for example \(example)"),
            let fields = reader.fields(node, at: top.path("trainer"), allowed: TrainerSpec.CodingKeys.allCases.map(\.rawValue))
        else { return nil }
        var command: [String] = []
        if let commandNode = fields.require("command", fix: "give the program and its arguments as a list, for example `command: [python3, train.py]`"),
            let items = reader.list(commandNode, at: fields.path("command"), fix: "give the program and its arguments as a list, for example `command: [python3, train.py]`")
        {
            if items.isEmpty { fields.report("command", "is an empty list", fix: "give the program and its arguments, for example `[python3, train.py]`") }
            for (item, itemPath) in items {
                guard let argument = reader.string(item, at: itemPath, fix: "write each argument as a string") else { continue }
                command.append(argument)
            }
            if let program = command.first, program.trimmingCharacters(in: .whitespaces).isEmpty {
                reader.report("\(fields.path("command"))[0]", at: items[0].0, "the program name is empty", fix: "put the program to run first")
            }
            checkPlaceholders(command, items: items, design: design, budgets: budgets)
        }
        var resources = ResourceSpec()
        if let resourcesNode = fields["resources"], let slots = reader.fields(resourcesNode, at: fields.path("resources"), allowed: ["cpus", "gpus"]) {
            if let cpus = slots.int("cpus") {
                if !(1...1024).contains(cpus) { slots.report("cpus", "is \(cpus)", fix: "use 1 or more CPU slots (at most 1024)") }
                resources.cpus = cpus
            }
            if let gpus = slots.int("gpus") {
                if !(0...64).contains(gpus) { slots.report("gpus", "is \(gpus)", fix: "use 0 or more GPUs (at most 64)") }
                resources.gpus = gpus
            }
        }
        var env: [String: String] = [:]
        if let envNode = fields["env"], let entries = reader.entries(envNode, at: fields.path("env"), fix: "write `env: {NAME: value}`") {
            for entry in entries {
                if !SpecNames.isEnvironmentName(entry.key) {
                    reader.report(entry.path, at: entry.keyNode, "`\(entry.key)` is not a valid environment variable name", fix: "use letters, digits and `_`, not starting with a digit")
                } else if entry.key.hasPrefix("MIXLAB_") {
                    reader.report(entry.path, at: entry.keyNode, "`\(entry.key)` is reserved (the worker sets the MIXLAB_ variables)", fix: "rename the variable")
                }
                if let value = reader.string(entry.value, at: entry.path, fix: "give the value as a string") { env[entry.key] = value }
            }
        }
        let timeLimit = duration(fields, "time_limit")
        let noReportTimeout = duration(fields, "no_report_timeout")
        let maxAttempts = fields.int("max_attempts") ?? 3
        if !(1...100).contains(maxAttempts) { fields.report("max_attempts", "is \(maxAttempts)", fix: "use 1 (no retries) or more, at most 100") }
        var retryCodes: [Int]?
        if let codesNode = fields["retry_on_exit_codes"],
            let items = reader.list(codesNode, at: fields.path("retry_on_exit_codes"), fix: "list exit codes, for example `[1, 137]`, or leave it out to retry any failure")
        {
            retryCodes = items.compactMap { item, itemPath in
                guard let code = reader.int(item, at: itemPath) else { return nil }
                if !(1...255).contains(code) { reader.report(itemPath, at: item, "exit code \(code) is out of range", fix: "use a code from 1 to 255 (0 is success)") }
                return code
            }
        }
        var regexes: [String] = []
        if let regexNode = fields["no_retry_on_log_regex"],
            let items = reader.list(regexNode, at: fields.path("no_retry_on_log_regex"), fix: "list regular expressions, for example `[\"CUDA out of memory\"]`")
        {
            for (item, itemPath) in items {
                guard let pattern = reader.string(item, at: itemPath) else { continue }
                do {
                    _ = try Regex(pattern)
                } catch {
                    reader.report(itemPath, at: item, "`\(pattern)` is not a valid regular expression (\(error))", fix: "fix the pattern or escape special characters with `\\`")
                }
                regexes.append(pattern)
            }
        }
        return TrainerSpec(
            command: command, resources: resources, env: env, timeLimit: timeLimit, noReportTimeout: noReportTimeout,
            maxAttempts: maxAttempts, retryOnExitCodes: retryCodes, noRetryOnLogRegex: regexes)
    }

    private func duration(_ fields: Fields, _ key: String) -> Int? {
        guard let node = fields[key] else { return nil }
        let fix = "write a duration such as `90s`, `30m`, `2h`, `1h30m` or a number of seconds"
        let seconds: Int?
        switch node.value {
        case .scalar(.int(let value), _): seconds = value
        case .scalar(.float(let value), _) where value.isFinite: seconds = Int(value.rounded(.up))
        case .scalar(.string(let text), _): seconds = DurationText.seconds(text)
        default: seconds = nil
        }
        guard let seconds else {
            fields.report(key, "\(node.kindName) is not a duration", fix: fix)
            return nil
        }
        if seconds < 1 { fields.report(key, "is \(seconds) seconds", fix: "use at least 1 second, or leave it out for no limit") }
        return seconds
    }

    private func checkPlaceholders(_ command: [String], items: [(SpecNode, String)], design: DesignSpec?, budgets: [BudgetSpec]) {
        var budgetKeys = budgets.first?.keys ?? []
        for budget in budgets.dropFirst() { budgetKeys.formIntersection(budget.keys) }
        if case .dcpt(let dcpt) = design {
            budgetKeys.formUnion(["model_size", "tokens"])
            if dcpt.checkpoints { budgetKeys.insert("eval_tokens") }
        }
        let valid = Set(TrainerSpec.fixedPlaceholders).union(budgetKeys)
        for (argument, (item, itemPath)) in zip(command, items) {
            for name in Placeholders.names(in: argument) where !valid.contains(name) {
                let listed = valid.sorted().map { "{\($0)}" }.joined(separator: " ")
                let hint = SpecReader.suggestion(for: name, among: valid.sorted()).map { "did you mean `{\($0)}`? " } ?? ""
                let budgetHint = BudgetSpec.knownKeys.contains(name) || !budgetKeys.contains(name) ? " (budget keys are valid only when every run's budget sets them)" : ""
                reader.report(itemPath, at: item, "unknown placeholder `{\(name)}`", fix: "\(hint)valid placeholders: \(listed)\(budgetHint)")
            }
        }
    }

    // MARK: Laws, objective, constraints, online

    private func parseLaws(_ top: Fields, design: DesignSpec?, hasScales: Bool) -> [String] {
        guard let node = top["laws"], let items = reader.list(node, at: top.path("laws"), fix: "list law names, for example `[dml, linear]`") else {
            return SweepSpec.defaultLaws(for: design, known: knownLaws)
        }
        var laws: [String] = []
        let scalingLaws = Set(LawCatalog.scalingLaws.map(\.name))
        var varyingScale = hasScales
        if case .dcpt = design { varyingScale = true }
        for (item, itemPath) in items {
            guard let law = reader.string(item, at: itemPath) else { continue }
            if !knownLaws.contains(law) {
                let fix = SpecReader.suggestion(for: law, among: knownLaws).map { "did you mean `\($0)`?" } ?? "use one of: \(knownLaws.joined(separator: ", "))"
                reader.report(itemPath, at: item, "unknown law `\(law)`", fix: fix)
            } else if laws.contains(law) {
                reader.report(itemPath, at: item, "`\(law)` is listed twice", fix: "list each law once")
            } else if scalingLaws.contains(law), !varyingScale {
                reader.report(itemPath, at: item, "`\(law)` is a scaling law and needs runs at several model sizes or token counts", fix: "use `design: {kind: dcpt, …}` or several `scales`, or fit a mixture law such as dml")
            }
            laws.append(law)
        }
        return laws
    }

    private func parseObjective(_ top: Fields, evalDomains: [String]) -> ObjectiveSpec {
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

    private func parseConstraints(_ top: Fields, domains: [DomainSpec]) -> ConstraintsSpec {
        guard let node = top["constraints"],
            let fields = reader.fields(node, at: top.path("constraints"), allowed: ConstraintsSpec.CodingKeys.allCases.map(\.rawValue))
        else { return ConstraintsSpec() }
        let names = domains.map(\.name)
        let inUnit: (Double) -> Bool = { (0...1).contains($0) }
        let minimum = fields["min"].map { domainNumbers($0, at: fields.path("min"), domains: names, noun: "share", valid: inUnit, rule: "use a share in [0, 1]") } ?? [:]
        let maximum = fields["max"].map { domainNumbers($0, at: fields.path("max"), domains: names, noun: "share", valid: inUnit, rule: "use a share in [0, 1]") } ?? [:]
        for name in names.uniqued() {
            if let low = minimum[name], let high = maximum[name], low > high {
                fields.report("min", "the minimum share of `\(name)` (\(low)) is above its maximum (\(high))", fix: "make constraints.min.\(name) ≤ constraints.max.\(name)")
            }
        }
        let minimumSum = minimum.values.reduce(0, +)
        if minimumSum > 1 + 1e-9 {
            fields.report("min", "the minimum shares sum to \(shareText(minimumSum)), more than 1", fix: "lower some minima so they sum to at most 1")
        }
        let maximumSum = names.reduce(0) { $0 + (maximum[$1] ?? 1) }
        if !names.isEmpty, maximumSum < 1 - 1e-9 {
            fields.report("max", "the maximum shares sum to \(shareText(maximumSum)), less than 1, so no mixture fits", fix: "raise some maxima so they sum to at least 1")
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

    private func parseOnline(_ node: SpecNode, at path: String) -> OnlineSpec? {
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
        return OnlineSpec(method: method, rounds: rounds, initSteps: initSteps, params: params)
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
