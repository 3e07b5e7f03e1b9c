import Foundation
import MixLabProxyLM

/// Three synthetic byte domains with different statistics, generated from a fixed SplitMix64
/// stream: `code` (assignments and calls over short identifiers), `prose` (words of a made-up
/// syllable vocabulary with Zipf-like frequencies) and `math` (correct sums of small numbers).
enum SyntheticCorpus {
    static let names = ["code", "math", "prose"]

    static func text(_ domain: String, bytes: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed &+ UInt64(names.firstIndex(of: domain)!) &* 1_000_003)
        var text = ""
        while text.utf8.count < bytes {
            switch domain {
            case "code": text += codeLine(&generator)
            case "math": text += mathLine(&generator)
            default: text += proseSentence(&generator)
            }
        }
        return Array(text.utf8.prefix(bytes))
    }

    static func domain(_ name: String, trainBytes: Int = 60_000, validBytes: Int = 4_000) -> ByteDomain {
        ByteDomain(name: name, train: text(name, bytes: trainBytes, seed: 1), valid: text(name, bytes: validBytes, seed: 2))
    }

    /// Writes `DIR/<domain>/{train,valid}.txt` for every domain and returns `DIR`.
    static func write(in directory: URL, trainBytes: Int = 60_000, validBytes: Int = 4_000) throws -> URL {
        for name in names {
            let folder = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let domain = domain(name, trainBytes: trainBytes, validBytes: validBytes)
            try Data(domain.train).write(to: folder.appendingPathComponent("train.txt"))
            try Data(domain.valid).write(to: folder.appendingPathComponent("valid.txt"))
        }
        return directory
    }

    private static func pick<T>(_ items: [T], _ generator: inout SplitMix64) -> T {
        items[generator.nextIndex(below: items.count)]
    }

    private static func identifier(_ generator: inout SplitMix64) -> String {
        pick(["x", "y", "idx", "count", "buf", "node", "acc"], &generator) + String(generator.nextIndex(below: 4))
    }

    private static func codeLine(_ generator: inout SplitMix64) -> String {
        let target = identifier(&generator), argument = identifier(&generator)
        switch generator.nextIndex(below: 3) {
        case 0: return "let \(target) = \(pick(["load", "sum", "map"], &generator))(\(argument));\n"
        case 1: return "if (\(target) > \(argument)) { \(target) += 1; }\n"
        default: return "\(target)[\(generator.nextIndex(below: 10))] = \(argument);\n"
        }
    }

    private static func mathLine(_ generator: inout SplitMix64) -> String {
        let a = generator.nextIndex(below: 50), b = generator.nextIndex(below: 50)
        return generator.nextIndex(below: 2) == 0 ? "\(a)+\(b)=\(a + b)\n" : "\(a + b)-\(b)=\(a)\n"
    }

    private static let vocabulary: [String] = {
        var generator = SplitMix64(seed: 99)
        let consonants = Array("bdfgklmnprstvz"), vowels = Array("aeiou")
        return (0..<60).map { _ in
            String((0..<(1 + generator.nextIndex(below: 3))).flatMap { _ in [pick(consonants, &generator), pick(vowels, &generator)] })
        }
    }()

    private static func proseSentence(_ generator: inout SplitMix64) -> String {
        let words = (0..<(4 + generator.nextIndex(below: 8))).map { _ in
            // Zipf-like: small indices are much more frequent.
            let u = generator.nextUnit()
            return vocabulary[Int(Double(vocabulary.count) * u * u * u)]
        }
        let sentence = words.joined(separator: " ")
        return sentence.prefix(1).uppercased() + sentence.dropFirst() + ". "
    }
}
