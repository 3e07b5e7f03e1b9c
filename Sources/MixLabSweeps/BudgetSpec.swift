public import MixLabAnalysis

/// The budget of a run: how long it trains, how big its model is, its seed, and any other scalar
/// the trainer wants (`lr: 3e-4`, `context: 256`). Passed to trainers as JSON in `MIXLAB_BUDGET`
/// and usable as `{key}` placeholders in the command.
public struct BudgetSpec: Sendable, Equatable, Codable {
    public var steps: Int?
    public var tokens: Int?
    /// Model size `N` in parameters.
    public var modelSize: Int?
    /// Base seed; see ``RunSeedPolicy`` for each run's seed.
    public var seed: Int?
    /// Token counts at which a D-CPT checkpoint run is evaluated.
    public var evalTokens: [Int]?
    /// Which method of an online sweep the run stands for (set by the plan, never by a spec).
    public var mixingMethod: ComparedMethod?
    /// Other scalar settings by key (letters, digits and `_`, starting with a letter).
    public var extra: [String: BudgetValue]

    /// Largest base seed: with up to ``SweepSpec/maximumRunCount`` design points added, run seeds stay below 2^31.
    public static let maximumSeed = 2_000_000_000

    /// Keys with a meaning of their own; every other key lands in ``extra``.
    public static let knownKeys = ["steps", "tokens", "model_size", "seed", "eval_tokens", mixingMethodKey]

    /// The key of ``mixingMethod`` in a run's budget JSON.
    public static let mixingMethodKey = "mixing_method"

    public init(
        steps: Int? = nil, tokens: Int? = nil, modelSize: Int? = nil, seed: Int? = nil, evalTokens: [Int]? = nil,
        mixingMethod: ComparedMethod? = nil, extra: [String: BudgetValue] = [:]
    ) {
        self.steps = steps
        self.tokens = tokens
        self.modelSize = modelSize
        self.seed = seed
        self.evalTokens = evalTokens
        self.mixingMethod = mixingMethod
        self.extra = extra
    }

    /// Every key that is set, known ones included.
    public var keys: Set<String> {
        var keys = Set(extra.keys)
        if steps != nil { keys.insert("steps") }
        if tokens != nil { keys.insert("tokens") }
        if modelSize != nil { keys.insert("model_size") }
        if seed != nil { keys.insert("seed") }
        if evalTokens != nil { keys.insert("eval_tokens") }
        if mixingMethod != nil { keys.insert(Self.mixingMethodKey) }
        return keys
    }

    /// The value of a placeholder `{key}` as it is substituted into a command (nil: not set).
    public func placeholderValue(_ key: String) -> String? {
        switch key {
        case "steps": steps.map(String.init)
        case "tokens": tokens.map(String.init)
        case "model_size": modelSize.map(String.init)
        case "seed": seed.map(String.init)
        case "eval_tokens": evalTokens.map { $0.map(String.init).joined(separator: ",") }
        case Self.mixingMethodKey: mixingMethod?.rawValue
        default: extra[key]?.text
        }
    }

    /// Every key but ``mixingMethod`` as `key=value`, sorted: runs of an online sweep with the
    /// same pair trained the same budget and seed, so their methods can be compared on it.
    public var comparisonPair: String {
        keys.subtracting([Self.mixingMethodKey]).sorted().compactMap { key in placeholderValue(key).map { "\(key)=\($0)" } }
            .joined(separator: " ")
    }

    /// `self` with the keys that `other` sets replaced by `other`'s values.
    public func merging(_ other: BudgetSpec) -> BudgetSpec {
        BudgetSpec(
            steps: other.steps ?? steps, tokens: other.tokens ?? tokens, modelSize: other.modelSize ?? modelSize,
            seed: other.seed ?? seed, evalTokens: other.evalTokens ?? evalTokens, mixingMethod: other.mixingMethod ?? mixingMethod,
            extra: extra.merging(other.extra) { $1 })
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        func key(_ name: String) -> Key { Key(stringValue: name) }
        steps = try container.decodeIfPresent(Int.self, forKey: key("steps"))
        tokens = try container.decodeIfPresent(Int.self, forKey: key("tokens"))
        modelSize = try container.decodeIfPresent(Int.self, forKey: key("model_size"))
        seed = try container.decodeIfPresent(Int.self, forKey: key("seed"))
        evalTokens = try container.decodeIfPresent([Int].self, forKey: key("eval_tokens"))
        mixingMethod = try container.decodeIfPresent(ComparedMethod.self, forKey: key(Self.mixingMethodKey))
        extra = [:]
        for codingKey in container.allKeys where !Self.knownKeys.contains(codingKey.stringValue) {
            extra[codingKey.stringValue] = try container.decode(BudgetValue.self, forKey: codingKey)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encodeIfPresent(steps, forKey: Key(stringValue: "steps"))
        try container.encodeIfPresent(tokens, forKey: Key(stringValue: "tokens"))
        try container.encodeIfPresent(modelSize, forKey: Key(stringValue: "model_size"))
        try container.encodeIfPresent(seed, forKey: Key(stringValue: "seed"))
        try container.encodeIfPresent(evalTokens, forKey: Key(stringValue: "eval_tokens"))
        try container.encodeIfPresent(mixingMethod, forKey: Key(stringValue: Self.mixingMethodKey))
        for (name, value) in extra { try container.encode(value, forKey: Key(stringValue: name)) }
    }
}

/// A scalar budget setting other than the known keys.
public enum BudgetValue: Sendable, Equatable, Codable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)

    /// The value as substituted into a command.
    public var text: String {
        switch self {
        case .int(let value): String(value)
        case .double(let value): String(value)
        case .string(let value): value
        case .bool(let value): String(value)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        }
    }
}
