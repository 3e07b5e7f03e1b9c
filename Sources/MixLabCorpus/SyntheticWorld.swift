/// The material the synthetic domains share or keep private: word lists, character names and code
/// identifiers. Built once from the global seed; every table is an array, so nothing depends on
/// hashed-collection order.
struct SyntheticWorld: Sendable {
    /// One vocabulary: parts of speech, names and identifiers, each drawn by Zipf rank.
    struct Vocabulary: Sendable {
        var nouns: [[UInt8]] = []
        var verbs: [[UInt8]] = []
        var adjectives: [[UInt8]] = []
        var names: [[UInt8]] = []
        var identifiers: [[UInt8]] = []
    }

    let shared: Vocabulary
    /// Indexed like `CorpusDomain.allCases`.
    let privates: [Vocabulary]
    let nounZipf: ZipfTable
    let verbZipf: ZipfTable
    let adjectiveZipf: ZipfTable
    let nameZipf: ZipfTable
    let identifierZipf: ZipfTable
    let privateNounZipf: ZipfTable
    let privateVerbZipf: ZipfTable
    let privateAdjectiveZipf: ZipfTable
    let privateNameZipf: ZipfTable
    let privateIdentifierZipf: ZipfTable

    static let sharedCounts = (nouns: 1500, verbs: 750, adjectives: 750, names: 200, identifiers: 400)
    static let privateCounts = (nouns: 600, verbs: 300, adjectives: 300, names: 60, identifiers: 120)

    init(seed: UInt64) {
        var taken = Set<[UInt8]>()
        var rng = SplitMix64(seed: seed ^ fnv1a64("world"))
        shared = Self.vocabulary(counts: Self.sharedCounts, rng: &rng, taken: &taken)
        privates = CorpusDomain.allCases.map { domain in
            var own = taken
            var privateRng = SplitMix64(seed: seed ^ fnv1a64("private:" + domain.rawValue))
            return Self.vocabulary(counts: Self.privateCounts, rng: &privateRng, taken: &own)
        }
        nounZipf = ZipfTable(count: Self.sharedCounts.nouns)
        verbZipf = ZipfTable(count: Self.sharedCounts.verbs)
        adjectiveZipf = ZipfTable(count: Self.sharedCounts.adjectives)
        nameZipf = ZipfTable(count: Self.sharedCounts.names)
        identifierZipf = ZipfTable(count: Self.sharedCounts.identifiers)
        privateNounZipf = ZipfTable(count: Self.privateCounts.nouns)
        privateVerbZipf = ZipfTable(count: Self.privateCounts.verbs)
        privateAdjectiveZipf = ZipfTable(count: Self.privateCounts.adjectives)
        privateNameZipf = ZipfTable(count: Self.privateCounts.names)
        privateIdentifierZipf = ZipfTable(count: Self.privateCounts.identifiers)
    }

    private static let onsets = [
        "", "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z",
        "br", "cl", "dr", "fl", "gr", "pl", "st", "tr", "sh", "ch", "th", "sp", "qu",
    ].map { Array($0.utf8) }
    private static let vowels = ["a", "e", "i", "o", "u", "a", "e", "o", "ai", "ea", "ou", "io", "y"].map { Array($0.utf8) }
    private static let codas = ["", "", "", "n", "r", "s", "l", "m", "t", "nd", "st", "rk", "ng", "x"].map { Array($0.utf8) }

    /// A pseudo-word of 1–3 syllables (onset, vowel, coda), at least three letters long, not yet taken.
    private static func word(rng: inout SplitMix64, taken: inout Set<[UInt8]>) -> [UInt8] {
        while true {
            var word: [UInt8] = []
            let syllables = rng.element(of: [1, 1, 2, 2, 2, 3])
            for _ in 0..<syllables {
                word += rng.element(of: onsets)
                word += rng.element(of: vowels)
                word += rng.element(of: codas)
            }
            if word.count >= 3, word.count <= 11, taken.insert(word).inserted { return word }
        }
    }

    private static func vocabulary(
        counts: (nouns: Int, verbs: Int, adjectives: Int, names: Int, identifiers: Int),
        rng: inout SplitMix64, taken: inout Set<[UInt8]>
    ) -> Vocabulary {
        var vocabulary = Vocabulary()
        vocabulary.nouns = (0..<counts.nouns).map { _ in word(rng: &rng, taken: &taken) }
        vocabulary.verbs = (0..<counts.verbs).map { _ in word(rng: &rng, taken: &taken) }
        vocabulary.adjectives = (0..<counts.adjectives).map { _ in word(rng: &rng, taken: &taken) }
        vocabulary.names = (0..<counts.names).map { _ in
            var name = word(rng: &rng, taken: &taken)
            name[0] = name[0] &- 32
            return name
        }
        // Identifiers pair a common verb or noun with a common noun: `load_table`, `frame_count`.
        let common = min(100, counts.nouns / 4)
        var identifiers: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        while identifiers.count < counts.identifiers {
            let first = rng.chance(1, in: 2) ? vocabulary.verbs[rng.below(common)] : vocabulary.nouns[rng.below(common)]
            let identifier = first + [UInt8(ascii: "_")] + vocabulary.nouns[rng.below(common * 2)]
            if seen.insert(identifier).inserted { identifiers.append(identifier) }
        }
        vocabulary.identifiers = identifiers
        return vocabulary
    }
}
