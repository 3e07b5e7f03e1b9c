import MixLabCore

/// The deterministic synthetic corpus: six domains with distinct statistics that share a vocabulary,
/// for machines where the real corpus cannot be gathered (macOS, no Debian tools) and for tests.
///
/// The same seed, `shared` and ``generatorVersion`` give the same bytes on every platform: the
/// generator uses SplitMix64 and integer arithmetic only, and never iterates a hashed collection.
/// Every document has its own generator, so any document can be produced alone or in parallel.
public struct SyntheticCorpus: Sendable {
    /// Bumped whenever the output for a seed changes; recorded in the corpus manifest.
    public static let generatorVersion = 1

    public let seed: UInt64
    /// The probability that a content word, name or identifier comes from the shared world rather
    /// than the domain's private vocabulary: 0 gives disjoint vocabularies, 1 maximal transfer.
    public let shared: Double
    let sharedPermille: Int
    let world: SyntheticWorld

    public init(seed: UInt64, shared: Double = 0.7) throws(MixLabInputError) {
        guard shared.isFinite, shared >= 0, shared <= 1 else {
            throw MixLabInputError(field: "shared \(shared)", problem: "is outside 0...1", fix: "give a share between 0 and 1, e.g. 0.7")
        }
        self.seed = seed
        self.shared = shared
        sharedPermille = Int((shared * 1000).rounded())
        world = SyntheticWorld(seed: seed)
    }

    /// The document at position `index` of `domain`'s stream, without its separator.
    public func document(_ domain: CorpusDomain, index: Int) -> [UInt8] {
        let documentSeed = seed ^ fnv1a64(domain.rawValue) ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        var composer = Composer(
            world: world, domainIndex: CorpusDomain.allCases.firstIndex(of: domain)!,
            sharedPermille: sharedPermille, rng: SplitMix64(seed: documentSeed))
        switch domain {
        case .prose: composer.prose()
        case .legal: composer.legal()
        case .code: composer.code()
        case .math: composer.math()
        case .config: composer.config()
        case .docs: composer.docs()
        }
        return composer.out
    }

    /// Documents 0, 1, 2, … of `domain` until at least `bytes` bytes (separators included) are written,
    /// split into training and held-out text (every tenth document is held out).
    public func generate(_ domain: CorpusDomain, bytes: Int) -> DomainText {
        var text = DomainText()
        text.train.reserveCapacity(bytes + 4096)
        text.valid.reserveCapacity(bytes / 8 + 4096)
        var index = 0
        while text.totalBytes < bytes {
            text.append(document: document(domain, index: index), index: index)
            index += 1
        }
        return text
    }
}

/// Writes one document: picks words (shared or private), numbers and sentences into `out`.
struct Composer {
    let world: SyntheticWorld
    let domainIndex: Int
    let sharedPermille: Int
    var rng: SplitMix64
    var out: [UInt8] = []

    init(world: SyntheticWorld, domainIndex: Int, sharedPermille: Int, rng: SplitMix64) {
        self.world = world
        self.domainIndex = domainIndex
        self.sharedPermille = sharedPermille
        self.rng = rng
        out.reserveCapacity(4096)
    }

    // MARK: Words

    private mutating func useShared() -> Bool { rng.below(1000) < sharedPermille }

    /// A noun; `top` limits the draw to the most frequent ranks (legal text reuses few words).
    mutating func noun(top: Int? = nil) -> [UInt8] {
        if useShared() {
            return pick(world.shared.nouns, world.nounZipf, top: top)
        }
        return pick(world.privates[domainIndex].nouns, world.privateNounZipf, top: top)
    }

    mutating func verb(top: Int? = nil) -> [UInt8] {
        useShared()
            ? pick(world.shared.verbs, world.verbZipf, top: top)
            : pick(world.privates[domainIndex].verbs, world.privateVerbZipf, top: top)
    }

    mutating func adjective(top: Int? = nil) -> [UInt8] {
        useShared()
            ? pick(world.shared.adjectives, world.adjectiveZipf, top: top)
            : pick(world.privates[domainIndex].adjectives, world.privateAdjectiveZipf, top: top)
    }

    mutating func name() -> [UInt8] {
        useShared()
            ? pick(world.shared.names, world.nameZipf, top: nil)
            : pick(world.privates[domainIndex].names, world.privateNameZipf, top: nil)
    }

    mutating func identifier() -> [UInt8] {
        useShared()
            ? pick(world.shared.identifiers, world.identifierZipf, top: nil)
            : pick(world.privates[domainIndex].identifiers, world.privateIdentifierZipf, top: nil)
    }

    private mutating func pick(_ words: [[UInt8]], _ zipf: ZipfTable, top: Int?) -> [UInt8] {
        if let top {
            // Rejection keeps the Zipf shape within the head of the list.
            while true {
                let rank = zipf.draw(&rng)
                if rank < top { return words[rank] }
            }
        }
        return words[zipf.draw(&rng)]
    }

    static func past(_ verb: [UInt8]) -> [UInt8] {
        verb.last == UInt8(ascii: "e") ? verb + [UInt8(ascii: "d")] : verb + Array("ed".utf8)
    }

    static func thirdPerson(_ verb: [UInt8]) -> [UInt8] {
        let last = verb.last
        return last == UInt8(ascii: "s") || last == UInt8(ascii: "x") ? verb + Array("es".utf8) : verb + [UInt8(ascii: "s")]
    }

    // MARK: Output

    mutating func put(_ text: StaticString) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    mutating func put(_ bytes: [UInt8]) { out.append(contentsOf: bytes) }

    mutating func put(_ number: Int) { out.append(contentsOf: String(number).utf8) }


    /// A number with 1–`maxDigits` digits, the digit count drawn uniformly.
    mutating func number(maxDigits: Int) -> Int {
        let digits = 1 + rng.below(maxDigits)
        let low = digits == 1 ? 0 : pow10(digits - 1)
        return low + rng.below(pow10(digits) - low)
    }

    private func pow10(_ exponent: Int) -> Int {
        var value = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Runs `body`, then re-flows what it wrote into lines of at most `width` columns, each starting
    /// with `indent` spaces.
    mutating func wrapped(indent: Int, width: Int, _ body: (inout Composer) -> Void) {
        let start = out.count
        body(&self)
        let paragraph = Array(out[start...])
        out.removeSubrange(start...)
        var column = 0
        var wordStart = 0
        let spaces = [UInt8](repeating: 0x20, count: indent)
        var index = 0
        while index <= paragraph.count {
            if index == paragraph.count || paragraph[index] == 0x20 {
                let length = index - wordStart
                if length > 0 {
                    if column == 0 {
                        out.append(contentsOf: spaces)
                        column = indent
                    } else if column + 1 + length > width {
                        out.append(0x0A)
                        out.append(contentsOf: spaces)
                        column = indent
                    } else {
                        out.append(0x20)
                        column += 1
                    }
                    out.append(contentsOf: paragraph[wordStart..<index])
                    column += length
                }
                wordStart = index + 1
            }
            index += 1
        }
        out.append(0x0A)
    }

    // MARK: Sentences shared by several domains

    static let prepositions = ["of", "in", "with", "for", "from", "under", "by", "to"].map { Array($0.utf8) }

    /// A plain descriptive sentence in lowercase shared words: used by docstrings, comments and docs.
    mutating func descriptiveSentence() {
        switch rng.below(5) {
        case 0:
            put("the "); put(adjective()); put(" "); put(noun()); put(" "); put(Self.thirdPerson(verb()))
            put(" the "); put(noun()); put(".")
        case 1:
            put("it "); put(Self.thirdPerson(verb())); put(" the "); put(noun()); put(" "); put(rng.element(of: Self.prepositions))
            put(" the "); put(adjective()); put(" "); put(noun()); put(".")
        case 2:
            put("each "); put(noun()); put(" is "); put(Self.past(verb())); put(" before the "); put(noun()); put(" is ")
            put(adjective()); put(".")
        case 3:
            put("the "); put(noun()); put(" of the "); put(noun()); put(" must be "); put(adjective()); put(".")
        default:
            put("if the "); put(noun()); put(" is "); put(adjective()); put(", the "); put(noun()); put(" is ")
            put(Self.past(verb())); put(".")
        }
    }

    /// A descriptive sentence with its first letter capitalised.
    mutating func capitalisedSentence() {
        let start = out.count
        descriptiveSentence()
        if out[start] >= UInt8(ascii: "a"), out[start] <= UInt8(ascii: "z") { out[start] -= 32 }
    }
}
