import Foundation
import MixLabCore

/// The exact command line and environment of one attempt, before it is started.
public struct TrainerInvocation: Sendable, Hashable {
    /// The argument vector; `arguments[0]` is the program, looked up in `PATH` when it has no slash.
    public var arguments: [String]
    /// The variables MixLab sets for the trainer: the `MIXLAB_*` protocol variables,
    /// `CUDA_VISIBLE_DEVICES`, and the sweep's own `env`. Everything else is inherited.
    public var environment: [String: String]

    /// The whole environment the trainer starts with: `inherited` without any `MIXLAB_*` variable
    /// of the worker's own (they may name the worker's key files), plus ``environment``.
    public func fullEnvironment(
        inheriting inherited: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String: String] {
        var merged = inherited.filter { !$0.key.hasPrefix("MIXLAB_") }
        merged.merge(environment) { _, set in set }
        return merged
    }

    /// The invocation as shell-quoted text, one `NAME=value` per line then the command, for dry runs.
    public func shellText() -> String {
        let assignments = environment.keys.sorted().map { "\($0)=\(Self.shellQuoted(environment[$0]!))" }
        return (assignments + [arguments.map(Self.shellQuoted).joined(separator: " ")]).joined(separator: "\n")
    }

    /// Like ``shellText()`` but with the values of `sweepVariables` (the sweep's own `env`, which may
    /// hold tokens) replaced by `***`, for the attempt log.
    public func logText(sweepVariables: Set<String>) -> String {
        var redacted = self
        for name in sweepVariables where redacted.environment[name] != nil {
            redacted.environment[name] = "***"
        }
        return redacted.shellText()
    }

    static func shellQuoted(_ text: String) -> String {
        let plain = text.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_./:=,@%+".unicodeScalars.contains($0)
        }
        if plain, !text.isEmpty { return text }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// Turns a sweep's trainer command template and a run into the exact command and environment.
///
/// A placeholder is `{name}` where `name` is letters, digits and underscores: `{run_id}`,
/// `{sweep_id}`, `{attempt}`, `{seed}`, `{work_dir}`, and every key of the run's budget object
/// (`{steps}`, `{tokens}`, `{model_size}`, …). Braces around anything else (e.g. inline JSON) are
/// left alone; an unknown placeholder is an error naming it.
public enum TrainerCommand {
    /// Environment variables MixLab owns; a sweep's `env` may not set them.
    public static let reservedVariables: Set<String> = [
        "MIXLAB_RUN_ID", "MIXLAB_SWEEP_ID", "MIXLAB_ATTEMPT", "MIXLAB_MIXTURE", "MIXLAB_BUDGET",
        "MIXLAB_DOMAINS", "MIXLAB_CONTROL", "MIXLAB_PROTOCOL", "CUDA_VISIBLE_DEVICES",
    ]

    /// The value of every placeholder for `spec`. Built-in names win over budget keys of the same name.
    public static func placeholderValues(for spec: AttemptSpec) -> [String: String] {
        var values: [String: String] = [:]
        for (key, value) in spec.budget where isIdentifier(Substring(key)) {
            values[key] = value.placeholderText
        }
        values["run_id"] = spec.runID.rawValue
        values["sweep_id"] = spec.sweepID.rawValue
        values["attempt"] = String(spec.attempt)
        values["seed"] = String(spec.seed)
        values["work_dir"] = spec.workDirectory
        return values
    }

    /// Renders the command and environment of `spec`'s attempt.
    ///
    /// - Parameter controlPath: the control socket path the trainer will find in `MIXLAB_CONTROL`.
    /// - Throws: ``MixLabInputError`` for an empty command, an unknown placeholder (naming it and
    ///   the known ones), or a sweep `env` entry that sets a reserved variable.
    public static func render(_ spec: AttemptSpec, controlPath: String) throws(MixLabInputError) -> TrainerInvocation {
        guard !(spec.command.first ?? "").isEmpty else {
            throw MixLabInputError(field: "trainer.command", problem: "is empty",
                                   fix: "give the program and its arguments, e.g. [\"python3\", \"train.py\"]")
        }
        let values = placeholderValues(for: spec)
        var arguments: [String] = []
        for (index, template) in spec.command.enumerated() {
            arguments.append(try substitute(template, values: values, field: "trainer.command[\(index)]"))
        }
        var environment: [String: String] = [:]
        for (name, template) in spec.environment {
            guard !reservedVariables.contains(name) else {
                throw MixLabInputError(field: "trainer.env.\(name)", problem: "is set by MixLab for every run",
                                       fix: "remove it from trainer.env")
            }
            environment[name] = try substitute(template, values: values, field: "trainer.env.\(name)")
        }
        environment["MIXLAB_RUN_ID"] = spec.runID.rawValue
        environment["MIXLAB_SWEEP_ID"] = spec.sweepID.rawValue
        environment["MIXLAB_ATTEMPT"] = String(spec.attempt)
        environment["MIXLAB_MIXTURE"] = JSONValue.object(spec.mixture.mapValues { .number($0) }).rendered()
        environment["MIXLAB_BUDGET"] = JSONValue.object(spec.budget).rendered()
        let domainPaths = spec.domains.map { ($0.name, JSONValue.string($0.path)) }
        environment["MIXLAB_DOMAINS"] = JSONValue.object(Dictionary(domainPaths) { first, _ in first }).rendered()
        environment["MIXLAB_CONTROL"] = controlPath
        environment["MIXLAB_PROTOCOL"] = String(trainerProtocolVersion)
        environment["CUDA_VISIBLE_DEVICES"] = spec.gpus.map(String.init).joined(separator: ",")
        return TrainerInvocation(arguments: arguments, environment: environment)
    }

    /// Replaces every `{name}` in `template` by `values[name]`.
    ///
    /// - Parameter field: the spec path reported in an error, e.g. `trainer.command[2]`.
    public static func substitute(
        _ template: String, values: [String: String], field: String
    ) throws(MixLabInputError) -> String {
        var output = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            output += rest[..<open]
            let afterOpen = rest.index(after: open)
            guard let close = rest[afterOpen...].firstIndex(of: "}"),
                  isIdentifier(rest[afterOpen..<close]) else {
                output.append("{")
                rest = rest[afterOpen...]
                continue
            }
            let name = String(rest[afterOpen..<close])
            guard let value = values[name] else {
                let known = values.keys.sorted().map { "{\($0)}" }.joined(separator: ", ")
                throw MixLabInputError(field: field, problem: "unknown placeholder {\(name)}",
                                       fix: "use one of \(known), or add \"\(name)\" to the budget")
            }
            output += value
            rest = rest[rest.index(after: close)...]
        }
        output += rest
        return output
    }

    private static func isIdentifier(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return text.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }
}
