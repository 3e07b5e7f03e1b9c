import Foundation
import MixingLaws

/// `{name}` placeholders in trainer commands: a `{`, an identifier (a letter, then letters,
/// digits or `_`), and a `}`. Other braces, such as JSON in an argument, are left alone.
public enum Placeholders {
    /// The placeholder names in `argument`, in order (repeats included).
    public static func names(in argument: String) -> [String] {
        var names: [String] = []
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let candidate = String(after[..<close])
            if SpecNames.isIdentifier(candidate) {
                names.append(candidate)
                rest = after[after.index(after: close)...]
            } else {
                rest = after
            }
        }
        return names
    }

    /// `argument` with every known placeholder replaced by `values[name]`; unknown names are left as written.
    public static func substitute(_ argument: String, _ values: [String: String]) -> String {
        var result = ""
        var rest = Substring(argument)
        while let open = rest.firstIndex(of: "{") {
            result += rest[..<open]
            let after = rest[rest.index(after: open)...]
            if let close = after.firstIndex(of: "}"), let value = values[String(after[..<close])] {
                result += value
                rest = after[after.index(after: close)...]
            } else {
                result += "{"
                rest = after
            }
        }
        return result + rest
    }
}

extension TrainerSpec {
    /// Placeholders every run has, besides its budget's keys.
    public static let fixedPlaceholders = ["run_id", "sweep_id", "attempt", "seed", "work_dir"]
}

/// Durations written as `90s`, `30m`, `2h`, `1d`, `1h30m` or a plain number of seconds.
public enum DurationText {
    public static func seconds(_ text: String) -> Int? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let plain = Int(trimmed) { return plain }
        guard !trimmed.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for character in trimmed {
            if character.isNumber || character == "." {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            case "d": unit = 86400
            default: return nil
            }
            guard let value = Double(number), value.isFinite else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard number.isEmpty, sawUnit, total < 1e9 else { return nil }
        return Int(total.rounded(.up))
    }
}

extension ConstraintsSpec {
    /// The constraints as the solvers take them, over the sweep's training domains. Epoch caps
    /// apply when ``maxEpochs`` is set and a target size is known (`targetTokens` here or
    /// ``targetTokens`` of the spec); domains without `tokens` are not token-limited.
    public func mixtureConstraints(domains: [DomainSpec], targetTokens: Int? = nil) throws -> MixtureConstraints {
        let names = domains.map(\.name)
        var tokenBudget: MixtureConstraints.TokenBudget?
        if let maxEpochs, let target = targetTokens ?? self.targetTokens {
            tokenBudget = MixtureConstraints.TokenBudget(
                availableTokens: domains.map { $0.tokens.map(Double.init) ?? .infinity }, maximumEpochs: maxEpochs,
                targetTokens: Double(target))
        }
        return MixtureConstraints(
            domainNames: names, minimumShares: names.map { min[$0] ?? 0 }, maximumShares: names.map { max[$0] ?? 1 },
            tokenBudget: tokenBudget)
    }
}
