public import MixLabCorpus
import MixLabAnalysis
import MixLabCore

/// Everything `mixlab demo` can be told: where to write, which database, corpus and domains, how
/// big the sweep and each proxy model are, and whether to verify the recommendation by training it.
public struct DemoConfiguration: Sendable {
    /// Where the demo's text comes from.
    public enum CorpusSource: Sendable, Equatable {
        /// Real text from Debian packages; falls back to the synthetic corpus, saying why, when fewer
        /// than the requested domains can be gathered.
        case gather
        /// The deterministic synthetic corpus (no network, identical on every machine).
        case synthetic
        /// A corpus folder made earlier by `mixlab corpus gather|synth`.
        case directory(String)
    }

    /// The output folder: corpus, certificates, database, logs, CSVs, plots and `mixture.yaml`.
    public var outputDirectory: String
    /// The store: nil for an SQLite file in the output folder, else a `postgres://` (or `sqlite:`) URL.
    public var databaseURL: String?
    /// The `mixlab` executable that runs the coordinator, the workers and `proxy train`.
    public var executable: String
    public var domains: [CorpusDomain] = [.code, .docs, .math, .prose]
    public var corpus: CorpusSource = .gather
    /// Per-domain cap of gathered text, and the size of each synthetic domain.
    public var corpusBytesPerDomain = 2 << 20
    /// Proxy runs in the Dirichlet sweep.
    public var runs = 24
    public var workers = 2
    public var slotsPerWorker = 1
    /// Training tokens (bytes) of every proxy run.
    public var tokensPerRun = 1_000_000
    /// ProxyLM size: a named size (tiny … xl) or a parameter count.
    public var modelSize = "medium"
    /// Seed of the design's mixtures and of every proxy run (shared: common random numbers).
    public var seed = 1
    public var laws = ["dml", "linear"]
    /// Train the recommended and the stratified mixture with fresh seeds after the fit.
    public var verify = false
    public var verifySeeds = 3

    public init(outputDirectory: String = "mixlab-demo", executable: String) {
        self.outputDirectory = outputDirectory
        self.executable = executable
    }

    /// Refuses settings that cannot produce a fit, naming the flag and the fix.
    public func validate() throws(MixLabInputError) {
        guard domains.count >= 2 else {
            throw MixLabInputError(field: "--domains", problem: "names \(domains.count) domain", fix: "give at least two, e.g. code,docs,math,prose")
        }
        guard (1...64).contains(workers) else {
            throw MixLabInputError(field: "--workers \(workers)", problem: "is outside 1...64", fix: "use e.g. --workers 2")
        }
        guard (1...64).contains(slotsPerWorker) else {
            throw MixLabInputError(field: "--slots \(slotsPerWorker)", problem: "is outside 1...64", fix: "use e.g. --slots 1 (one run per core)")
        }
        guard tokensPerRun >= 1_000, tokensPerRun <= 10_000_000_000 else {
            throw MixLabInputError(field: "--tokens \(tokensPerRun)", problem: "is outside 1000...1e10", fix: "use e.g. --tokens 1000000")
        }
        guard corpusBytesPerDomain >= 16_384, corpusBytesPerDomain <= 1 << 30 else {
            throw MixLabInputError(
                field: "--corpus-mib", problem: "gives \(corpusBytesPerDomain) bytes per domain", fix: "use between 0.016 and 1024 MiB, e.g. 2")
        }
        guard verifySeeds >= 1, verifySeeds <= 100 else {
            throw MixLabInputError(field: "--verify-seeds \(verifySeeds)", problem: "is outside 1...100", fix: "use e.g. --verify-seeds 3")
        }
        guard seed >= 0, seed <= 1_000_000_000 else {
            throw MixLabInputError(field: "--seed \(seed)", problem: "is outside 0...1000000000", fix: "use a small whole number")
        }
        guard !laws.isEmpty else {
            throw MixLabInputError(field: "--laws", problem: "is empty", fix: "name at least one mixture law, e.g. dml,linear")
        }
        for law in laws {
            guard let fitter = LawCatalog.mixtureLaw(named: law) else {
                throw MixLabInputError(
                    field: "--laws \(law)", problem: "is not a mixture law",
                    fix: "use some of \(LawCatalog.mixtureLaws.map(\.name).joined(separator: ", "))")
            }
            // Five-fold cross-validation trains each fold on 4/5 of the runs.
            let needed = fitter.minimumRuns(domains: domains.count, targets: domains.count)
            let neededForCV = Int((Double(needed) * 1.25).rounded(.up)) + 1
            guard runs >= neededForCV, runs <= 10_000 else {
                throw MixLabInputError(
                    field: "--runs \(runs)", problem: "is too few for law \(law) over \(domains.count) domains with cross-validation (or above 10000)",
                    fix: "use --runs \(neededForCV) or more, or fewer domains")
            }
        }
    }

    /// The store URL the coordinator gets.
    public var resolvedDatabaseURL: String { databaseURL ?? "sqlite:\(outputDirectory)/mixlab.db" }
}
