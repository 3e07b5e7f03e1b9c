/// What a demo produced, written as `summary.json` in the output folder: the sweep, every law's
/// fit quality, the recommended mixture against stratified, the verification runs, and timings.
public struct DemoSummary: Codable, Sendable {
    /// One fitted law as the coordinator stored it.
    public struct LawResult: Codable, Sendable {
        public var law: String
        public var trainR2: Double?
        /// Cross-validated (held-out) error over runs: the figure to judge the law by.
        public var cvR2: Double?
        public var cvMAE: Double?
        public var mixture: [String: Double]?
        public var predictedLoss: Double?
        public var predictedLossInterval: [Double]?
        public var predictedStratifiedLoss: Double?
        /// Why the law has no fit, when it has none.
        public var error: String?
    }

    /// Measured average held-out losses of the recommended and stratified mixtures, per seed.
    public struct Verification: Codable, Sendable {
        public var sweepID: String
        public var seeds: [Int]
        public var recommended: [Double]
        public var stratified: [Double]
        public var recommendedMean: Double
        public var stratifiedMean: Double
        /// Seeds on which the recommended mixture had the lower loss.
        public var recommendedWins: Int
    }

    /// Wall-clock seconds of each phase.
    public struct Timings: Codable, Sendable {
        public var corpus: Double = 0
        public var startup: Double = 0
        public var sweep: Double = 0
        public var fit: Double = 0
        public var verify: Double?
        /// From the start of the demo to the recommended mixture on screen.
        public var firstResult: Double = 0
        public var total: Double = 0
    }

    public var sweepID = ""
    public var corpus = ""
    public var domains: [String] = []
    public var runs = 0
    public var succeeded = 0
    public var failed = 0
    public var tokensPerRun = 0
    public var modelSize = ""
    public var laws: [LawResult] = []
    /// The law with the lowest cross-validated error, whose mixture is the recommendation.
    public var chosenLaw: String?
    public var recommended: [String: Double]?
    public var verification: Verification?
    public var seconds = Timings()
    public var files: [String] = []
}
