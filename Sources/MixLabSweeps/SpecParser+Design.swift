import MixingLaws

/// Reading `design`: one reader per design kind, and the check on how many runs it expands to.
extension SpecParser {
    func parseDesign(_ top: Fields, domains: [DomainSpec]) -> DesignSpec? {
        let kinds = DesignSpec.kinds.map { "`\($0)`" }.joined(separator: ", ")
        guard let node = top.require("design", fix: "add a design, for example `design: {kind: dirichlet, runs: 8, seed: 1}`") else {
            return nil
        }
        let path = top.path("design")
        guard case .mapping(let entries) = node.value else {
            reader.report(
                path, at: node, "expected a mapping with a `kind`, found \(node.kindName)",
                fix: "write for example `design: {kind: dirichlet, runs: 8, seed: 1}`")
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

    func parseRuns(_ fields: Fields) -> Int? {
        guard fields.require("runs", fix: "give the number of runs, for example `runs: 16`") != nil,
            let runs = fields.int("runs")
        else { return nil }
        guard runs >= 1, runs <= SweepSpec.maximumRunCount else {
            fields.report("runs", "is \(runs)", fix: "use between 1 and \(SweepSpec.maximumRunCount) runs")
            return nil
        }
        return runs
    }

    func parseSeed(_ fields: Fields, _ key: String = "seed") -> Int {
        guard let seed = fields.int(key) else { return 0 }
        if seed < 0 { fields.report(key, "is \(seed)", fix: "use a whole number ≥ 0") }
        return seed
    }

    /// A `{domain: number}` mapping whose keys must be training (or the given) domains.
    func domainNumbers(
        _ node: SpecNode, at path: String, domains: [String], noun: String, valid: (Double) -> Bool, rule: String,
        kind: String = "domain"
    ) -> [String: Double] {
        let domains = domains.uniqued()
        guard
            let entries = reader.entries(
                node, at: path, fix: "write a mapping from domain name to \(noun), for example `{\(domains.first ?? "a"): 0.5}`")
        else {
            return [:]
        }
        var result: [String: Double] = [:]
        for entry in entries {
            guard domains.contains(entry.key) else {
                let fix =
                    SpecReader.suggestion(for: entry.key, among: domains).map { "did you mean `\($0)`?" }
                    ?? "use one of: \(domains.joined(separator: ", "))"
                reader.report(
                    entry.path, at: entry.keyNode, "`\(entry.key)` is not \(kind == "domain" ? "a domain" : "an \(kind)") of this sweep", fix: fix)
                continue
            }
            guard let value = reader.double(entry.value, at: entry.path) else { continue }
            if !valid(value) { reader.report(entry.path, at: entry.value, "\(noun) \(value) is out of range", fix: rule) }
            result[entry.key] = value
        }
        return result
    }

    func parseDirichlet(_ node: SpecNode, at path: String, domains: [DomainSpec]) -> DirichletDesign? {
        let allowed = ["kind"] + DirichletDesign.CodingKeys.allCases.map(\.rawValue)
        guard let fields = reader.fields(node, at: path, allowed: allowed) else { return nil }
        let names = domains.map(\.name)
        let runs = parseRuns(fields)
        let seed = parseSeed(fields)
        var prior: [String: Double]
        if let priorNode = fields["prior"] {
            prior = domainNumbers(
                priorNode, at: fields.path("prior"), domains: names, noun: "prior weight", valid: { $0 >= 0 }, rule: "use a weight ≥ 0")
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

    func parseDirichletCover(_ node: SpecNode, at path: String, domainNames: [String]) -> DirichletCoverDesign? {
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

    func parseGrid(_ node: SpecNode, at path: String, domainNames: [String]) -> GridDesign? {
        guard let fields = reader.fields(node, at: path, allowed: ["kind", "k", "step", "bounds"]) else { return nil }
        var k: Int?
        switch (fields.has("k"), fields.has("step")) {
        case (true, true):
            fields.report("step", "is given together with `k`", fix: "give either `k` (divisions) or `step` (1/k), not both")
        case (false, false):
            fields.report("k", "is missing", fix: "give the lattice as `step: 0.1` or `k: 10`")
        case (true, false):
            if let value = fields.int("k") {
                if !(1...1000).contains(value) {
                    fields.report("k", "is \(value)", fix: "use a whole number of divisions from 1 to 1000 (10 gives steps of 0.1)")
                }
                k = value
            }
        case (false, true):
            if let step = fields.double("step") {
                let divisions = (1 / step).rounded()
                if step > 0, step <= 1, abs(divisions * step - 1) < 1e-9, divisions <= 1000 {
                    k = Int(divisions)
                } else {
                    fields.report(
                        "step", "is \(step), which does not divide 1 into whole steps",
                        fix: "use a step of at least 0.001 that divides 1, for example 0.1, 0.125 or 0.05")
                }
            }
        }
        var bounds: [String: ShareBounds] = [:]
        if let boundsNode = fields["bounds"],
            let entries = reader.entries(boundsNode, at: fields.path("bounds"), fix: "write `bounds: {domain: {min: 0.1, max: 0.9}}`")
        {
            for entry in entries {
                guard domainNames.contains(entry.key) else {
                    let fix =
                        SpecReader.suggestion(for: entry.key, among: domainNames).map { "did you mean `\($0)`?" }
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

    func parseList(_ node: SpecNode, at path: String, domainNames: [String]) -> ListDesign? {
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
                    let fix =
                        SpecReader.suggestion(for: entry.key, among: domainNames).map { "did you mean `\($0)`?" }
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
                    reader.report(
                        Fields.join(itemPath, entry.key), at: entry.value, "share is negative (\(share))", fix: "use a share between 0 and 1")
                    valid = false
                }
                mixture[entry.key] = share
            }
            let sum = mixture.values.reduce(0, +)
            if valid, abs(sum - 1) > 1e-6 {
                reader.report(
                    itemPath, at: item, "shares sum to \(shareText(sum)), not 1 (tolerance 1e-6)", fix: "make the shares of this mixture sum to 1")
                valid = false
            }
            if valid,
                let twin = mixtures.firstIndex(where: { other in domainNames.allSatisfy { abs((other[$0] ?? 0) - (mixture[$0] ?? 0)) <= 1e-9 } })
            {
                reader.report(
                    itemPath, at: item, "is the same mixture as \(fields.path("mixtures"))[\(twin)]",
                    fix: "remove one of them (use `scales` or seeds for replicates)")
            }
            mixtures.append(mixture)
        }
        return ListDesign(mixtures: mixtures)
    }

    func parseDCPT(_ node: SpecNode, at path: String, domainNames: [String]) -> DCPTDesign? {
        let allowed = ["kind"] + DCPTDesign.CodingKeys.allCases.map(\.rawValue)
        guard let fields = reader.fields(node, at: path, allowed: allowed) else { return nil }
        func numbers(_ key: String, example: String, valid: (Double) -> Bool, rule: String) -> [Double]? {
            guard let node = fields[key], let items = reader.list(node, at: fields.path(key), fix: "write a list, for example `\(key): \(example)`")
            else {
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
        let ratios =
            fields.has("ratios")
            ? numbers("ratios", example: "[0, 0.2, 0.5, 0.8, 1]", valid: { (0...1).contains($0) }, rule: "use a domain share in [0, 1]")
            : DCPTGrid.paperRatios
        if domainNames.count != 2 {
            reader.report(
                "domains", at: node, "has \(domainNames.count) domains, but the dcpt design mixes exactly 2 (a general and a domain corpus)",
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

    func checkRunCount(
        _ design: DesignSpec, domainNames: [String], scaleCount: Int, comparisonRunsPerSeed: Int, runSeeds: RunSeedPolicy, top: Fields
    ) {
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
        // Baselines repeat per distinct budget of the design's runs: per design point when seeds
        // (or, for D-CPT, model sizes and tokens) differ between points.
        var budgetsPerScale = runSeeds == .distinct ? points : 1
        if case .dcpt = design { budgetsPerScale = points }
        let (comparison, comparisonOverflow) = (comparisonRunsPerSeed * scaleCount).multipliedReportingOverflow(by: budgetsPerScale)
        let (designRuns, designOverflow) = points.multipliedReportingOverflow(by: scaleCount)
        let (total, sumOverflow) = designRuns.addingReportingOverflow(comparison)
        let overflow = comparisonOverflow || designOverflow || sumOverflow
        if overflow || total > SweepSpec.maximumRunCount {
            let baselines = comparisonRunsPerSeed > 0 ? " + \(overflow ? "many" : String(comparison)) online.compare runs" : ""
            top.report(
                "design",
                "expands to \(overflow ? "too many" : String(total)) runs (\(points) design points × \(scaleCount) scale(s)\(baselines)), "
                    + "more than \(SweepSpec.maximumRunCount)",
                fix: "use a coarser grid, fewer runs or fewer scales")
        }
    }
}
