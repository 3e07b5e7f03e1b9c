/// The six domain grammars of the synthetic corpus. Each writes one document into `out`.
extension Composer {
    // MARK: prose — paragraphs of narrative sentences; one in four is dialogue

    mutating func prose() {
        let paragraphs = rng.int(in: 4...10)
        for paragraph in 0..<paragraphs {
            if paragraph > 0 { put("\n") }
            wrapped(indent: 0, width: 72) { composer in
                if composer.rng.chance(1, in: 4) {
                    composer.dialogue()
                } else {
                    let sentences = composer.rng.int(in: 2...6)
                    for sentence in 0..<sentences {
                        if sentence > 0 { composer.put(" ") }
                        composer.narrativeSentence()
                    }
                }
            }
        }
    }

    private mutating func narrativeSentence() {
        switch rng.below(5) {
        case 0:
            put(name()); put(" "); put(Self.past(verb())); put(" the "); put(adjective()); put(" "); put(noun()); put(".")
        case 1:
            put(name()); put(" "); put(Self.past(verb())); put(" the "); put(noun()); put(" of "); put(name())
            put(", and the "); put(noun()); put(" was "); put(adjective()); put(".")
        case 2:
            put("It was a "); put(adjective()); put(" "); put(noun()); put(", and "); put(name()); put(" had never ")
            put(Self.past(verb())); put(" so "); put(adjective()); put(" a "); put(noun()); put(".")
        case 3:
            put("When the "); put(noun()); put(" "); put(Self.past(verb())); put(", "); put(name()); put(" ")
            put(Self.past(verb())); put(" "); put(rng.element(of: Self.prepositions)); put(" the "); put(adjective())
            put(" "); put(noun()); put(".")
        default:
            put(rng.chance(1, in: 2) ? "She" : "He"); put(" "); put(Self.past(verb())); put(" that the "); put(noun())
            put(" of the "); put(noun()); put(" would "); put(verb()); put(" the "); put(noun()); put(".")
        }
    }

    private mutating func spokenSentence() {
        switch rng.below(4) {
        case 0: put("I "); put(verb()); put(" the "); put(adjective()); put(" "); put(noun())
        case 1: put("You must not "); put(verb()); put(" the "); put(noun())
        case 2: put("The "); put(noun()); put(" is very "); put(adjective())
        default: put("Did you "); put(verb()); put(" the "); put(noun()); put(" of "); put(name())
        }
    }

    private mutating func dialogue() {
        put("\""); spokenSentence(); put(",\" said "); put(name()); put(". \"")
        let more = rng.int(in: 1...3)
        for sentence in 0..<more {
            if sentence > 0 { put(" ") }
            spokenSentence(); put(rng.chance(1, in: 4) ? "!" : ".")
        }
        put("\"")
    }

    // MARK: legal — numbered clauses from a fixed set of boilerplate templates

    mutating func legal() {
        put("Agreement between "); put(name()); put(" and "); put(name()); put("\n")
        let sections = rng.int(in: 3...7)
        for section in 1...sections {
            put("\nSection "); put(section); put(". The "); put(noun(top: 60)); put(" of the "); put(noun(top: 60)); put("\n\n")
            let clauses = rng.int(in: 2...6)
            for clause in 1...clauses {
                wrapped(indent: 0, width: 72) { composer in
                    composer.put(section); composer.put("."); composer.put(clause); composer.put(" ")
                    composer.legalClause(sections: sections)
                }
            }
        }
    }

    private mutating func legalNoun() -> [UInt8] { noun(top: 40) }

    private mutating func legalClause(sections: Int) {
        switch rng.below(24) {
        case 0:
            put("The Licensee shall not "); put(verb(top: 30)); put(" the "); put(legalNoun())
            put(" except as provided in Section "); put(rng.int(in: 1...sections)); put("."); put(rng.int(in: 1...4)); put(".")
        case 1:
            put("Subject to the terms of this Agreement, the Licensor grants to "); put(name())
            put(" a non-exclusive licence to "); put(verb(top: 30)); put(" the "); put(legalNoun()); put(".")
        case 2:
            put("Each party shall "); put(verb(top: 30)); put(" the "); put(legalNoun())
            put(" of the other party in accordance with this Section.")
        case 3: put("Nothing in this Agreement shall be construed as a waiver of the "); put(legalNoun()); put(".")
        case 4: put("The "); put(legalNoun()); put(" shall remain the property of "); put(name()); put(".")
        case 5: put("Any notice under this Agreement shall be given in writing to "); put(name()); put(".")
        case 6: put("This Agreement shall be governed by the laws of "); put(name()); put(".")
        case 7:
            put("If any provision of this Agreement is held to be invalid, the remaining provisions shall remain")
            put(" in full force and effect.")
        case 8:
            put("The Licensee may "); put(verb(top: 30)); put(" the "); put(legalNoun()); put(" provided that the ")
            put(legalNoun()); put(" is not "); put(Self.past(verb(top: 30))); put(".")
        case 9:
            put("Neither party shall be liable for any failure to "); put(verb(top: 30)); put(" the "); put(legalNoun())
            put(" caused by the "); put(adjective(top: 30)); put(" "); put(legalNoun()); put(".")
        case 10:
            put("In no event shall "); put(name()); put(" be liable for any indirect, incidental or consequential")
            put(" damages arising out of the "); put(legalNoun()); put(".")
        case 11:
            put("The term of this Agreement shall commence on the date of the "); put(legalNoun())
            put(" and continue for "); put(rng.int(in: 1...5)); put(" years.")
        case 12:
            put("Either party may terminate this Agreement upon "); put(rng.element(of: [30, 60, 90]))
            put(" days written notice to the other party.")
        case 13: put("Upon termination, the Licensee shall return the "); put(legalNoun()); put(" to "); put(name()); put(".")
        case 14:
            put("The "); put(legalNoun()); put(" is provided as is, without warranty of any kind, express or implied.")
        case 15: put("All rights not expressly granted in this Section are reserved by "); put(name()); put(".")
        case 16:
            put("The Licensee shall keep the "); put(legalNoun())
            put(" confidential and shall not disclose it to any third party.")
        case 17:
            put("For the purposes of this Agreement, the "); put(adjective(top: 30)); put(" "); put(legalNoun())
            put(" means the "); put(legalNoun()); put(" of "); put(name()); put(".")
        case 18: put("The Licensor may "); put(verb(top: 30)); put(" the "); put(legalNoun()); put(" at any time without notice.")
        case 19:
            put("Fees under this Section shall be paid within "); put(rng.element(of: [14, 30, 60]))
            put(" days of the date of the invoice.")
        case 20:
            put("This Agreement constitutes the entire agreement between the parties with respect to the ")
            put(legalNoun()); put(".")
        case 21:
            put("No amendment to this Agreement shall be effective unless made in writing and signed by both parties.")
        case 22:
            put("The obligations under Section "); put(rng.int(in: 1...sections)); put("."); put(rng.int(in: 1...4))
            put(" shall survive the termination of this Agreement.")
        default:
            put("The Licensee shall indemnify "); put(name()); put(" against any claim arising from the ")
            put(adjective(top: 30)); put(" "); put(legalNoun()); put(".")
        }
    }

    // MARK: code — Python-like modules over shared identifiers

    mutating func code() {
        put("\"\"\""); capitalisedSentence(); put("\"\"\"\n\n")
        let imports = rng.int(in: 1...3)
        for _ in 0..<imports {
            if rng.chance(1, in: 2) {
                put("import "); put(identifier()); put("\n")
            } else {
                put("from "); put(identifier()); put(" import "); put(identifier()); put("\n")
            }
        }
        let functions = rng.int(in: 2...5)
        for _ in 0..<functions {
            put("\n\ndef "); put(identifier()); put("(")
            let parameters = rng.int(in: 0...3)
            for parameter in 0..<parameters {
                if parameter > 0 { put(", ") }
                put(identifier())
                if parameter == parameters - 1, rng.chance(1, in: 3) { put("="); put(number(maxDigits: 2)) }
            }
            put("):\n    \"\"\""); capitalisedSentence(); put("\"\"\"\n")
            block(depth: 1)
            indent(1); put("return "); expression(depth: 0); put("\n")
        }
    }

    private mutating func indent(_ depth: Int) {
        for _ in 0..<depth { put("    ") }
    }

    private mutating func block(depth: Int) {
        let statements = rng.int(in: 1...(depth == 1 ? 5 : 3))
        for _ in 0..<statements {
            indent(depth)
            switch rng.below(depth < 3 ? 7 : 4) {
            case 0:
                put("# "); descriptiveSentence(); put("\n")
                indent(depth); put(identifier()); put(" = "); expression(depth: 0); put("\n")
            case 1:
                put(identifier()); put(".append("); expression(depth: 0); put(")\n")
            case 2, 3:
                put(identifier()); put(" = "); expression(depth: 0); put("\n")
            case 4:
                put("for "); put(identifier()); put(" in ")
                if rng.chance(1, in: 2) { put("range("); put(number(maxDigits: 3)); put(")") } else { put(identifier()) }
                put(":\n")
                block(depth: depth + 1)
            default:
                put("if "); condition(); put(":\n")
                block(depth: depth + 1)
                if rng.chance(1, in: 3) {
                    indent(depth); put("else:\n")
                    block(depth: depth + 1)
                }
            }
        }
    }

    private static let operators = [" + ", " - ", " * ", " // "].map { Array($0.utf8) }

    private mutating func condition() {
        switch rng.below(4) {
        case 0: put(identifier()); put(" > "); put(number(maxDigits: 2))
        case 1: put(identifier()); put(" is None")
        case 2: put("not "); put(identifier()); put("("); put(identifier()); put(")")
        default: put(identifier()); put(" == "); put(identifier())
        }
    }

    private mutating func expression(depth: Int) {
        let choice = depth >= 2 ? rng.below(2) : rng.below(8)
        switch choice {
        case 0: put(identifier())
        case 1: put(number(maxDigits: 3))
        case 2:
            put(identifier()); put("(")
            let arguments = rng.int(in: 0...2)
            for argument in 0..<arguments {
                if argument > 0 { put(", ") }
                expression(depth: depth + 1)
            }
            put(")")
        case 3:
            expression(depth: depth + 1); put(rng.element(of: Self.operators))
            expression(depth: depth + 1)
        case 4: put("("); expression(depth: depth + 1); put(" + 1)")
        case 5: put("["); expression(depth: depth + 1); put(", "); expression(depth: depth + 1); put("]")
        case 6: put(identifier()); put("["); put(number(maxDigits: 1)); put("]")
        default: put("\""); put(noun()); put("\"")
        }
    }

    // MARK: math — exact arithmetic and linear equations, with a lemma header

    mutating func math() {
        let lemmas = rng.int(in: 1...3)
        for lemma in 0..<lemmas {
            if lemma > 0 { put("\n") }
            put("Lemma "); put(number(maxDigits: 3)); put(". Let the "); put(noun()); put(" be given.\nProof.\n")
            let lines = rng.int(in: 6...16)
            for _ in 0..<lines { equation() }
            put("Hence the "); put(noun()); put(" is "); put(adjective()); put(".\n")
        }
    }

    private mutating func equation() {
        let a = number(maxDigits: 4)
        let b = number(maxDigits: 4)
        switch rng.below(4) {
        case 0:
            put(a); put(" + "); put(b); put(" = "); put(a + b); put("\n")
        case 1:
            let small = number(maxDigits: 2)
            put(a); put(" * "); put(small); put(" = "); put(a * small); put("\n")
        case 2:
            let (high, low) = a >= b ? (a, b) : (b, a)
            put(high); put(" - "); put(low); put(" = "); put(high - low); put("\n")
        default:
            let factor = 2 + rng.below(18)
            let x = number(maxDigits: 3)
            let product = factor * x
            put("Solve "); put(factor); put("x + "); put(b); put(" = "); put(product + b); put(". Then ")
            put(factor); put("x = "); put(product); put(", so x = "); put(x); put(".\n")
        }
    }

    // MARK: config — INI sections of key = value lines with prose comments

    mutating func config() {
        put("# "); capitalisedSentence(); put("\n")
        let sections = rng.int(in: 2...6)
        for section in 0..<sections {
            if section > 0 { put("\n") }
            if rng.chance(1, in: 4) { put("# "); descriptiveSentence(); put("\n") }
            put("["); put(identifier()); put("]\n")
            let keys = rng.int(in: 3...9)
            for _ in 0..<keys {
                put(identifier()); put(" = ")
                switch rng.below(6) {
                case 0, 1: put(number(maxDigits: 4))
                case 2: put(rng.chance(1, in: 2) ? "true" : "false")
                case 3: put("\""); put(name()); put("\"")
                case 4: put("/var/lib/"); put(noun()); put("/"); put(noun()); put(".conf")
                default: put(identifier())
                }
                put("\n")
            }
        }
    }

    // MARK: docs — manual pages about the shared identifiers

    mutating func docs() {
        let command = identifier()
        put("NAME\n       "); put(command); put(" - "); put(verb()); put(" the "); put(adjective()); put(" "); put(noun())
        put("\n\nSYNOPSIS\n       "); put(command)
        var options: [[UInt8]] = []
        for _ in 0..<rng.int(in: 1...4) {
            options.append(identifier().map { $0 == UInt8(ascii: "_") ? UInt8(ascii: "-") : $0 })
        }
        for option in options {
            put(" [--"); put(option); put("="); put(noun()); put("]")
        }
        put(" "); put(noun())
        put("\n\nDESCRIPTION\n")
        let paragraphs = rng.int(in: 1...3)
        for paragraph in 0..<paragraphs {
            if paragraph > 0 { put("\n") }
            wrapped(indent: 7, width: 78) { composer in
                composer.put("The "); composer.put(command); composer.put("() function ")
                composer.put(Self.thirdPerson(composer.verb())); composer.put(" the "); composer.put(composer.noun())
                composer.put(".")
                for _ in 0..<composer.rng.int(in: 1...4) {
                    composer.put(" ")
                    composer.capitalisedSentence()
                }
            }
        }
        put("\nOPTIONS\n")
        for option in options {
            put("       --"); put(option); put("="); put(noun()); put("\n")
            wrapped(indent: 14, width: 78) { composer in composer.capitalisedSentence() }
        }
        put("\nSEE ALSO\n       "); put(identifier()); put("(), "); put(identifier()); put("()\n")
    }
}
