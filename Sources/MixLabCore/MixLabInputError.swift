/// A problem with something a user supplied (a file, a column, a flag, a spec field), phrased as
/// the field, what is wrong with it, and how to fix it.
///
/// Every user-facing validation in MixLab throws this, so the CLI can print one line and exit
/// with status 2 instead of crashing.
public struct MixLabInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the problem is in: a file and column, a flag, a spec path such as `design.runs`.
    public var field: String
    public var problem: String
    public var fix: String

    public init(field: String, problem: String, fix: String) {
        self.field = field
        self.problem = problem
        self.fix = fix
    }

    public var description: String { "\(field): \(problem); \(fix)" }
}
