public import MixingLaws

/// An ordered JSON-like value for command output, rendered as JSON or YAML with keys in the order
/// they were added (so `law` comes before `params`, and domains keep their table order).
public indirect enum ReportValue: Sendable, Equatable {
    case number(Double)
    case integer(Int)
    case string(String)
    case bool(Bool)
    case array([ReportValue])
    case object([(String, ReportValue)])
    case null

    public static func == (lhs: ReportValue, rhs: ReportValue) -> Bool {
        lhs.json() == rhs.json()
    }

    /// Looks up a key of an object.
    public subscript(key: String) -> ReportValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// Pretty-printed JSON; non-finite numbers become `null`.
    public func json(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .number(let x): return x.isFinite ? Self.format(x) : "null"
        case .integer(let i): return String(i)
        case .string(let s): return Self.quoted(s)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items):
            if items.isEmpty { return "[]" }
            if items.allSatisfy(\.isScalar) { return "[" + items.map { $0.json() }.joined(separator: ", ") + "]" }
            return "[\n" + items.map { inner + $0.json(indent: inner) }.joined(separator: ",\n") + "\n" + indent + "]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { inner + Self.quoted($0.0) + ": " + $0.1.json(indent: inner) }.joined(separator: ",\n")
                + "\n" + indent + "}"
        }
    }

    /// Block-style YAML.
    public func yaml(indent: String = "") -> String {
        switch self {
        case .object(let pairs):
            return pairs.map { key, value in
                let k = indent + Self.yamlKey(key) + ":"
                switch value {
                case .object(let p) where !p.isEmpty: return k + "\n" + value.yaml(indent: indent + "  ")
                case .array(let a) where !a.isEmpty && !a.allSatisfy(\.isScalar): return k + "\n" + value.yaml(indent: indent + "  ")
                default: return k + " " + value.yamlScalar
                }
            }.joined(separator: "\n")
        case .array(let items) where !items.allSatisfy(\.isScalar):
            return items.map { item in
                let body = item.yaml(indent: indent + "  ")
                return indent + "- " + body.drop(while: { $0 == " " })
            }.joined(separator: "\n")
        default:
            return indent + yamlScalar
        }
    }

    private var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    private var yamlScalar: String {
        switch self {
        case .string(let s): return Self.quoted(s)
        case .array(let items): return "[" + items.map(\.yamlScalar).joined(separator: ", ") + "]"
        case .object: return "{}"
        default: return json()
        }
    }

    private static func yamlKey(_ key: String) -> String {
        let plain = key.allSatisfy { $0.isLetter || $0.isNumber || "_-./".contains($0) }
        return plain && !key.isEmpty ? key : quoted(key)
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }

    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension ReportValue {
    /// Fit-quality metrics as the `{"r2","mae","spearman",...}` object of the fit report.
    public init(_ metrics: FitMetrics) {
        self = .object([
            ("r2", .number(metrics.r2)), ("mae", .number(metrics.mae)), ("spearman", .number(metrics.spearman)),
            ("huber", .number(metrics.huber)), ("n", .integer(metrics.count)),
        ])
    }
}
