/// Why the Aioli controller refused a configuration or a loss report.
///
/// It has the same shape as `MixLabInputError` (which lives in `MixLabCore`, a module this pure
/// target does not depend on), so a caller can map it field for field: `field` names the
/// hyper-parameter or report field at fault, `problem` says what is wrong, `fix` says what to do.
public struct AioliInputError: Error, Sendable, Equatable, CustomStringConvertible {
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
