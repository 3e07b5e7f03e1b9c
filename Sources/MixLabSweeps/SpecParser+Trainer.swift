import Foundation

/// Reading `trainer`: command and placeholders, resources, environment, time limits and retry policy.
extension SpecParser {
    func parseTrainer(_ top: Fields, design: DesignSpec?, budgets: [BudgetSpec]) -> TrainerSpec? {
        let example = "`trainer: {command: [python3, train.py, --run, \"{run_id}\"]}`"
        guard let node = top.require("trainer", fix: "add the trainer, for example \(example)"),
            let fields = reader.fields(node, at: top.path("trainer"), allowed: TrainerSpec.CodingKeys.allCases.map(\.rawValue))
        else { return nil }
        var command: [String] = []
        if let commandNode = fields.require(
            "command", fix: "give the program and its arguments as a list, for example `command: [python3, train.py]`"),
            let items = reader.list(
                commandNode, at: fields.path("command"),
                fix: "give the program and its arguments as a list, for example `command: [python3, train.py]`")
        {
            if items.isEmpty {
                fields.report("command", "is an empty list", fix: "give the program and its arguments, for example `[python3, train.py]`")
            }
            for (item, itemPath) in items {
                guard let argument = reader.string(item, at: itemPath, fix: "write each argument as a string") else { continue }
                command.append(argument)
            }
            if let program = command.first, program.trimmingCharacters(in: .whitespaces).isEmpty {
                reader.report("\(fields.path("command"))[0]", at: items[0].0, "the program name is empty", fix: "put the program to run first")
            }
            checkPlaceholders(command, items: items, design: design, budgets: budgets, online: top.has("online"))
        }
        var resources = ResourceSpec()
        if let resourcesNode = fields["resources"], let slots = reader.fields(resourcesNode, at: fields.path("resources"), allowed: ["cpus", "gpus"])
        {
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
                    reader.report(
                        entry.path, at: entry.keyNode, "`\(entry.key)` is not a valid environment variable name",
                        fix: "use letters, digits and `_`, not starting with a digit")
                } else if entry.key.hasPrefix("MIXLAB_") {
                    reader.report(
                        entry.path, at: entry.keyNode, "`\(entry.key)` is reserved (the worker sets the MIXLAB_ variables)",
                        fix: "rename the variable")
                }
                if let value = reader.string(entry.value, at: entry.path, fix: "give the value as a string") { env[entry.key] = value }
            }
        }
        let timeLimit = duration(fields, "time_limit")
        let noReportTimeout = duration(fields, "no_report_timeout")
        let maxAttempts = fields.int("max_attempts") ?? 3
        if !(1...100).contains(maxAttempts) { fields.report("max_attempts", "is \(maxAttempts)", fix: "use 1 (no retries) or more, at most 100") }
        let maxPreemptions = fields.int("max_preemptions")
        if let maxPreemptions, !(0...1000).contains(maxPreemptions) {
            fields.report("max_preemptions", "is \(maxPreemptions)", fix: "use 0 (a preemption uses up an attempt) to 1000")
        }
        var retryCodes: [Int]?
        if let codesNode = fields["retry_on_exit_codes"],
            let items = reader.list(
                codesNode, at: fields.path("retry_on_exit_codes"),
                fix: "list exit codes, for example `[1, 137]`, or leave it out to retry any failure")
        {
            retryCodes = items.compactMap { item, itemPath in
                guard let code = reader.int(item, at: itemPath) else { return nil }
                if !(1...255).contains(code) {
                    reader.report(itemPath, at: item, "exit code \(code) is out of range", fix: "use a code from 1 to 255 (0 is success)")
                }
                return code
            }
        }
        var regexes: [String] = []
        if let regexNode = fields["no_retry_on_log_regex"],
            let items = reader.list(
                regexNode, at: fields.path("no_retry_on_log_regex"), fix: "list regular expressions, for example `[\"CUDA out of memory\"]`")
        {
            for (item, itemPath) in items {
                guard let pattern = reader.string(item, at: itemPath) else { continue }
                do {
                    _ = try Regex(pattern)
                } catch {
                    reader.report(
                        itemPath, at: item, "`\(pattern)` is not a valid regular expression (\(error))",
                        fix: "fix the pattern or escape special characters with `\\`")
                }
                regexes.append(pattern)
            }
        }
        return TrainerSpec(
            command: command, resources: resources, env: env, timeLimit: timeLimit, noReportTimeout: noReportTimeout,
            maxAttempts: maxAttempts, maxPreemptions: maxPreemptions, retryOnExitCodes: retryCodes, noRetryOnLogRegex: regexes)
    }

    func duration(_ fields: Fields, _ key: String) -> Int? {
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

    /// Reports every placeholder of `command` that no run can fill: the fixed ones, the budget keys
    /// every budget sets, the D-CPT keys of a `dcpt` design, and `{mixing_method}` in an online sweep.
    func checkPlaceholders(_ command: [String], items: [(SpecNode, String)], design: DesignSpec?, budgets: [BudgetSpec], online: Bool) {
        var budgetKeys = budgets.first?.keys ?? []
        for budget in budgets.dropFirst() { budgetKeys.formIntersection(budget.keys) }
        if online { budgetKeys.insert(BudgetSpec.mixingMethodKey) }
        if case .dcpt(let dcpt) = design {
            budgetKeys.formUnion(["model_size", "tokens"])
            if dcpt.checkpoints { budgetKeys.insert("eval_tokens") }
        }
        let valid = Set(TrainerSpec.fixedPlaceholders).union(budgetKeys)
        for (argument, (item, itemPath)) in zip(command, items) {
            for name in Placeholders.names(in: argument) where !valid.contains(name) {
                let listed = valid.sorted().map { "{\($0)}" }.joined(separator: " ")
                let hint = SpecReader.suggestion(for: name, among: valid.sorted()).map { "did you mean `{\($0)}`? " } ?? ""
                let budgetHint =
                    BudgetSpec.knownKeys.contains(name) || !budgetKeys.contains(name)
                    ? " (budget keys are valid only when every run's budget sets them)" : ""
                reader.report(itemPath, at: item, "unknown placeholder `{\(name)}`", fix: "\(hint)valid placeholders: \(listed)\(budgetHint)")
            }
        }
    }
}
