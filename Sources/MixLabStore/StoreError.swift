
/// A store operation that was refused or could not reach the database. Refusals (stale lease,
/// invalid eval) leave the database unchanged.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong; extensible.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case staleLease, unknownRun, unknownSweep, invalidEval, invalidSweep, sweepState, schemaTooNew, connection, invalidURL, unknownWorker
        }
        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The caller's fencing token is not the run's current one.
        public static let staleLease = Code(.staleLease)
        public static let unknownRun = Code(.unknownRun)
        public static let unknownSweep = Code(.unknownSweep)
        public static let unknownWorker = Code(.unknownWorker)
        /// A loss, step or domain in an eval report is not acceptable.
        public static let invalidEval = Code(.invalidEval)
        /// A new sweep's fields are inconsistent (shares per run, duplicate index, ...).
        public static let invalidSweep = Code(.invalidSweep)
        /// The sweep's state rules the operation out (cancelling a completed sweep).
        public static let sweepState = Code(.sweepState)
        /// The database was migrated by a newer MixLab than this binary.
        public static let schemaTooNew = Code(.schemaTooNew)
        /// The database could not be reached (after retries).
        public static let connection = Code(.connection)
        /// The database URL is malformed.
        public static let invalidURL = Code(.invalidURL)

        public var description: String { base.rawValue }
    }

    public var code: Code
    /// A sentence for the operator; never contains a password.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
