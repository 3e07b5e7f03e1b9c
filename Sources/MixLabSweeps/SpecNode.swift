import Foundation
import Yams

/// A YAML value with its position in the file: the spec is read from this tree rather than through
/// `Decodable`, so that every problem, not only the first, can be reported with its path and line.
struct SpecNode: Sendable {
    /// A plain scalar as YAML 1.2's core schema reads it; quoted scalars are always strings.
    enum Scalar: Sendable, Equatable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
    }

    struct Entry: Sendable {
        var key: String
        var keyNode: SpecNode
        var value: SpecNode
    }

    enum Value: Sendable {
        case scalar(Scalar, text: String)
        case sequence([SpecNode])
        case mapping([Entry])
    }

    var value: Value
    var line: Int?
    var column: Int?

    /// What the value is, for "expected X, found Y" messages.
    var kindName: String {
        switch value {
        case .scalar(.null, _): "null"
        case .scalar(.bool, _): "a boolean"
        case .scalar(.int, _): "an integer"
        case .scalar(.float, _): "a number"
        case .scalar(.string(let text), _): "the string \"\(text.count > 40 ? String(text.prefix(40)) + "…" : text)\""
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    var isNull: Bool {
        if case .scalar(.null, _) = value { return true }
        return false
    }
}

extension SpecNode {
    /// Parses YAML (or JSON, which YAML reads too) into a located tree.
    ///
    /// - Throws: ``SweepSpecError`` with one issue for a syntax error (with line and column), a duplicated key or
    ///   an alias that points nowhere.
    static func parse(yaml: String) throws(SweepSpecError) -> SpecNode? {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw SweepSpecError(issues: [issue(for: error)])
        } catch {
            throw SweepSpecError(
                issues: [SweepSpecIssue(path: "(document)", problem: "could not be read as YAML: \(error)", fix: "fix the YAML syntax")])
        }
        return root.map(convert)
    }

    private static func issue(for error: YamlError) -> SweepSpecIssue {
        func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> SweepSpecIssue {
            let detail = [context?.text, problem].compactMap { $0?.isEmpty == false ? $0 : nil }.joined(separator: " ")
            return SweepSpecIssue(
                path: "(document)", line: mark.line, column: mark.column, problem: "YAML syntax error: \(detail)",
                fix: "fix the YAML at this position (check indentation, quotes, colons and brackets)")
        }
        switch error {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            return located(problem, context, mark)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return SweepSpecIssue(
                path: "(document)", line: context.mark.line, column: context.mark.column,
                problem: "key \(duplicates.map { "`\($0)`" }.joined(separator: ", ")) appears twice in one mapping",
                fix: "keep one of the entries")
        case .reader(let problem, let offset, _, _):
            return SweepSpecIssue(
                path: "(document)", problem: "is not readable text (\(problem)\(offset.map { " at byte \($0)" } ?? ""))",
                fix: "save the spec as UTF-8 text")
        default:
            return SweepSpecIssue(path: "(document)", problem: "could not be read as YAML: \(error)", fix: "fix the YAML syntax")
        }
    }

    private static func convert(_ node: Node) -> SpecNode {
        let line = node.mark?.line, column = node.mark?.column
        switch node {
        case .scalar(let scalar):
            let plain = scalar.style == .plain || scalar.style == .any
            let value = plain ? classify(scalar.string) : .string(scalar.string)
            return SpecNode(value: .scalar(value, text: scalar.string), line: line, column: column)
        case .sequence(let sequence):
            return SpecNode(value: .sequence(sequence.map(convert)), line: line, column: column)
        case .mapping(let mapping):
            let entries = mapping.map { pair in
                let key = convert(pair.key)
                let name: String
                if case .scalar(_, let text) = key.value { name = text } else { name = "<\(key.kindName)>" }
                return Entry(key: name, keyNode: key, value: convert(pair.value))
            }
            return SpecNode(value: .mapping(entries), line: line, column: column)
        case .alias(let alias):
            return SpecNode(
                value: .scalar(.string("*\(alias.anchor.rawValue)"), text: "*\(alias.anchor.rawValue)"), line: line,
                column: column)
        }
    }

    /// YAML 1.2 core-schema resolution of a plain scalar (so `no` and `on` stay strings), with `_`
    /// allowed as a digit separator in numbers (`1_000_000`).
    static func classify(_ text: String) -> Scalar {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .float(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .float(-.infinity)
        case ".nan", ".NaN", ".NAN": return .float(.nan)
        default: break
        }
        let digits = text.replacingOccurrences(of: "_", with: "")
        let numeric = digits.unicodeScalars.allSatisfy { "0123456789+-.eE".unicodeScalars.contains($0) }
        guard numeric, digits.unicodeScalars.contains(where: { ("0"..."9").contains($0) }), digits.first != "_" else {
            if digits.hasPrefix("0x"), let value = Int(digits.dropFirst(2), radix: 16) { return .int(value) }
            if digits.hasPrefix("0o"), let value = Int(digits.dropFirst(2), radix: 8) { return .int(value) }
            return .string(text)
        }
        if let value = Int(digits) { return .int(value) }
        if let value = Double(digits) { return .float(value) }
        return .string(text)
    }
}

extension SpecNode {
    /// The document as plain JSON values, as MixLab reads it (for checking against the JSON Schema).
    var jsonObject: Any {
        switch value {
        case .scalar(.null, _): return NSNull()
        case .scalar(.bool(let value), _): return value
        case .scalar(.int(let value), _): return value
        case .scalar(.float(let value), let text): return value.isFinite ? value as Any : text
        case .scalar(.string(let value), _): return value
        case .sequence(let items): return items.map(\.jsonObject)
        case .mapping(let entries):
            return Dictionary(entries.map { ($0.key, $0.value.jsonObject) }, uniquingKeysWith: { first, _ in first })
        }
    }

    /// A YAML document converted to JSON text, nil when it does not parse.
    static func jsonText(yaml: String) -> String? {
        guard let node = try? parse(yaml: yaml),
            let data = try? JSONSerialization.data(withJSONObject: node.jsonObject, options: [.sortedKeys])
        else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
