/// A parsed comma-separated table with a header row, as exchanged with olmix/RegMix-style tools
/// (`ratios.csv`, `metrics.csv`) and written by `mixlab export`.
///
/// Parsing follows RFC 4180: fields may be quoted with `"`, quotes inside are doubled, CRLF and LF
/// line ends are both accepted, and a trailing newline is optional. Every row must have as many
/// fields as the header; errors name the file (``source``) and the line.
public struct CSVTable: Sendable, Equatable {
    /// Where the table came from, used in error messages (a path or a description).
    public let source: String
    public let header: [String]
    public let rows: [[String]]

    public init(source: String, header: [String], rows: [[String]]) {
        self.source = source
        self.header = header
        self.rows = rows
    }

    /// Parses `text`; `source` names the file in errors.
    public init(parsing text: String, source: String) throws(MixLabInputError) {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1
        var recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil

        func endRecord() {
            fields.append(field)
            let isBlank = fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted
            if !isBlank { records.append((recordLine, fields)) }
            fields = []
            field = ""
            fieldWasQuoted = false
        }

        while let scalar = pending ?? iterator.next() {
            pending = nil
            if inQuotes {
                if scalar == "\"" {
                    let next = iterator.next()
                    if next == "\"" {
                        field.unicodeScalars.append("\"")
                    } else {
                        inQuotes = false
                        pending = next
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                fieldWasQuoted = true
            case ",":
                fields.append(field)
                field = ""
                fieldWasQuoted = false
            case "\r":
                let next = iterator.next()
                if next != "\n" { pending = next }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            throw MixLabInputError(
                field: "\(source) line \(recordLine)", problem: "has a quoted field that is never closed",
                fix: "close the quote or remove it")
        }
        if !field.isEmpty || !fields.isEmpty || fieldWasQuoted { endRecord() }

        guard let headerRecord = records.first else {
            throw MixLabInputError(field: source, problem: "is empty", fix: "provide a header row and at least one data row")
        }
        let header = headerRecord.fields.map { $0.trimmingSpaces() }
        var seen = Set<String>()
        for name in header {
            guard !name.isEmpty else {
                throw MixLabInputError(field: "\(source) header", problem: "has an empty column name", fix: "name every column")
            }
            guard seen.insert(name).inserted else {
                throw MixLabInputError(field: "\(source) header", problem: "has column \"\(name)\" twice", fix: "rename or remove one of them")
            }
        }
        var rows: [[String]] = []
        rows.reserveCapacity(records.count - 1)
        for record in records.dropFirst() {
            guard record.fields.count == header.count else {
                throw MixLabInputError(
                    field: "\(source) line \(record.line)",
                    problem: "has \(record.fields.count) fields but the header has \(header.count)",
                    fix: "make every row have one value per column")
            }
            rows.append(record.fields.map { $0.trimmingSpaces() })
        }
        self.init(source: source, header: header, rows: rows)
    }

    /// The index of a column, or an error naming the file and listing the columns it does have.
    public func columnIndex(_ name: String) throws(MixLabInputError) -> Int {
        guard let index = header.firstIndex(of: name) else {
            let available = header.prefix(12).joined(separator: ", ") + (header.count > 12 ? ", ..." : "")
            throw MixLabInputError(
                field: "\(source)", problem: "has no column \"\(name)\"", fix: "use one of: \(available)")
        }
        return index
    }

    /// Renders the table as CSV text, quoting fields that need it.
    public func rendered() -> String {
        func quote(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + s.replacingAll("\"", with: "\"\"") + "\"" : s
        }
        return ([header] + rows).map { $0.map(quote).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }
}

extension String {
    func trimmingSpaces() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }

    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}
