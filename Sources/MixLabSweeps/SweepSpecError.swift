/// One problem found in a sweep spec: where it is (field path and, for YAML input, line and
/// column), what is wrong, and how to fix it.
public struct SweepSpecIssue: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The field, such as `trainer.resources.gpus`, `domains[2].name` or `design.mixtures[3]`
    /// (list positions are 0-based); `(document)` for the file as a whole.
    public var path: String
    /// 1-based line of the offending value in the YAML text, when known.
    public var line: Int?
    /// 1-based column of the offending value, when known.
    public var column: Int?
    public var problem: String
    public var fix: String

    public init(path: String, line: Int? = nil, column: Int? = nil, problem: String, fix: String) {
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = fix
    }

    /// `line L, column C: path: problem; fix` (the location only when known).
    public var description: String {
        let location = line.map { line in "line \(line)\(column.map { ", column \($0)" } ?? ""): " } ?? ""
        return "\(location)\(path): \(problem); \(fix)"
    }
}

/// Every problem found in a sweep spec, in file order; the spec is rejected if there is at least one.
public struct SweepSpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file the spec was read from, when it came from one (used as a prefix in messages).
    public var file: String?
    public var issues: [SweepSpecIssue]

    public init(file: String? = nil, issues: [SweepSpecIssue]) {
        self.file = file
        self.issues = issues
    }

    /// One line per issue: `FILE: line L, column C: path: problem; fix`.
    public var lines: [String] { issues.map { issue in file.map { "\($0): \(issue)" } ?? issue.description } }

    public var description: String { lines.joined(separator: "\n") }
}
