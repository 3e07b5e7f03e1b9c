/// Reads a ``SpecNode`` tree field by field, collecting every problem instead of stopping at the
/// first. A null value counts as absent, so `gpus:` with nothing after it takes the default.
final class SpecReader {
    private(set) var issues: [SweepSpecIssue] = []

    func report(_ path: String, at node: SpecNode?, _ problem: String, fix: String) {
        issues.append(SweepSpecIssue(path: path, line: node?.line, column: node?.column, problem: problem, fix: fix))
    }

    /// A mapping's fields, after reporting keys that are not in `allowed` (with a suggestion when a
    /// known key is close). Returns nil, having reported it, when the node is not a mapping.
    func fields(_ node: SpecNode, at path: String, allowed: [String], openKeys: Bool = false) -> Fields? {
        guard case .mapping(let entries) = node.value else {
            report(path, at: node, "expected a mapping (`key: value` lines), found \(node.kindName)", fix: mappingFix(allowed))
            return nil
        }
        var values: [String: SpecNode] = [:]
        var extras: [SpecNode.Entry] = []
        for entry in entries {
            if allowed.contains(entry.key) {
                values[entry.key] = entry.value
            } else if openKeys {
                extras.append(entry)
            } else {
                let fix =
                    Self.suggestion(for: entry.key, among: allowed).map { "did you mean `\($0)`?" }
                    ?? "remove it; the keys allowed here are \(allowed.map { "`\($0)`" }.joined(separator: ", "))"
                report(Fields.join(path, entry.key), at: entry.keyNode, "unknown key `\(entry.key)`", fix: fix)
            }
        }
        return Fields(reader: self, path: path, node: node, values: values, extras: extras)
    }

    private func mappingFix(_ allowed: [String]) -> String {
        allowed.isEmpty ? "write a mapping" : "write a mapping with keys such as \(allowed.prefix(4).map { "`\($0)`" }.joined(separator: ", "))"
    }

    /// The allowed key closest to a misspelt one: the same key in snake case, a longer key it begins, or
    /// one within a small edit distance.
    static func suggestion(for key: String, among allowed: [String]) -> String? {
        let snake = key.reduce(into: "") { text, character in
            if character.isUppercase { text += "_" + character.lowercased() } else { text.append(character == "-" ? "_" : character) }
        }
        if allowed.contains(snake) { return snake }
        if key.count >= 3, let extended = allowed.first(where: { $0.hasPrefix(key.lowercased()) }) { return extended }
        let limit = max(1, key.count / 3)
        let ranked = allowed.map { ($0, editDistance(key.lowercased(), $0)) }.filter { $0.1 <= limit && $0.1 < key.count }
        return ranked.min { $0.1 < $1.1 }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { current[j] = min(current[j], previous[j - 1]) }
            }
            previous = current
        }
        return previous[b.count]
    }

    // MARK: Scalars

    /// Any non-null scalar as text (numbers and booleans as written).
    func string(_ node: SpecNode, at path: String, fix: String = "write a string") -> String? {
        guard case .scalar(let scalar, let text) = node.value, scalar != .null else {
            report(path, at: node, "expected a string, found \(node.kindName)", fix: fix)
            return nil
        }
        return text
    }

    /// A whole number; a float with no fractional part (`1e9`) is accepted.
    func int(_ node: SpecNode, at path: String, fix: String = "write a whole number") -> Int? {
        switch node.value {
        case .scalar(.int(let value), _): return value
        case .scalar(.float(let value), _) where value.isFinite && value.rounded() == value && abs(value) < 9e18:
            return Int(value)
        case .scalar(.float(let value), _):
            report(path, at: node, "expected a whole number, found \(value)", fix: fix)
        default:
            report(path, at: node, "expected a whole number, found \(node.kindName)", fix: fix)
        }
        return nil
    }

    /// A finite number.
    func double(_ node: SpecNode, at path: String, fix: String = "write a number") -> Double? {
        switch node.value {
        case .scalar(.int(let value), _): return Double(value)
        case .scalar(.float(let value), _) where value.isFinite: return value
        case .scalar(.float(let value), _):
            report(path, at: node, "expected a finite number, found \(value)", fix: fix)
        default:
            report(path, at: node, "expected a number, found \(node.kindName)", fix: fix)
        }
        return nil
    }

    func bool(_ node: SpecNode, at path: String) -> Bool? {
        if case .scalar(.bool(let value), _) = node.value { return value }
        report(path, at: node, "expected true or false, found \(node.kindName)", fix: "write true or false")
        return nil
    }

    /// The items of a list with their paths; a single scalar is not promoted to a list.
    func list(_ node: SpecNode, at path: String, fix: String = "write a list (`[a, b]` or `- item` lines)") -> [(SpecNode, String)]? {
        guard case .sequence(let items) = node.value else {
            report(path, at: node, "expected a list, found \(node.kindName)", fix: fix)
            return nil
        }
        return items.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
    }

    /// The entries of a mapping whose keys are chosen by the user (domain names, variables).
    func entries(_ node: SpecNode, at path: String, fix: String) -> [(key: String, keyNode: SpecNode, value: SpecNode, path: String)]? {
        guard case .mapping(let entries) = node.value else {
            report(path, at: node, "expected a mapping, found \(node.kindName)", fix: fix)
            return nil
        }
        return entries.map { ($0.key, $0.keyNode, $0.value, Fields.join(path, $0.key)) }
    }
}

/// The known fields of one mapping in the spec, read through the owning ``SpecReader``.
struct Fields {
    let reader: SpecReader
    let path: String
    let node: SpecNode
    let values: [String: SpecNode]
    /// Entries under keys not in the allowed list, when the mapping accepts open keys.
    let extras: [SpecNode.Entry]

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func path(_ key: String) -> String { Self.join(path, key) }

    /// The value under `key`, or nil (absent or null).
    subscript(key: String) -> SpecNode? {
        guard let value = values[key], !value.isNull else { return nil }
        return value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    /// Reports a required field that is missing or null.
    func require(_ key: String, fix: String) -> SpecNode? {
        guard let value = self[key] else {
            reader.report(path(key), at: values[key] ?? node, "is missing", fix: fix)
            return nil
        }
        return value
    }

    func string(_ key: String, fix: String = "write a string") -> String? {
        self[key].flatMap { reader.string($0, at: path(key), fix: fix) }
    }

    func int(_ key: String, fix: String = "write a whole number") -> Int? {
        self[key].flatMap { reader.int($0, at: path(key), fix: fix) }
    }

    func double(_ key: String, fix: String = "write a number") -> Double? {
        self[key].flatMap { reader.double($0, at: path(key), fix: fix) }
    }

    func bool(_ key: String) -> Bool? { self[key].flatMap { reader.bool($0, at: path(key)) } }

    /// Reports `problem` at `key` (or at this mapping when the key is absent).
    func report(_ key: String, _ problem: String, fix: String) {
        reader.report(path(key), at: values[key] ?? node, problem, fix: fix)
    }
}
