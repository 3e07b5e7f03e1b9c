import ArgumentParser
import MixLabAnalysis
import MixLabCore
import MixingLaws

extension MixLab {
    struct MixtureCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mixture",
            abstract: "Fit a mixing law and recommend the mixture for the full run, with a bootstrap interval.")

        @Option(help: "The mixture law to fit: linear, dml, dml-implicit, loglinear, dml-power (see docs/laws.md).") var law: String
        @Option(help: "Mixture ratios CSV of the proxy runs.") var ratios: String?
        @Option(help: "Metrics CSV of the proxy runs.") var metrics: String?
        @Option(help: "Metrics column to minimise; repeat as COLUMN=WEIGHT for a weighted sum.") var target: [String] = []
        @Option(help: "Minimum share, DOMAIN=x (repeatable).") var minShare: [String] = []
        @Option(help: "Maximum share, DOMAIN=x (repeatable).") var maxShare: [String] = []
        @Option(help: "Fixed share, DOMAIN=x (repeatable).") var fix: [String] = []
        @Option(help: "Tokens available in a domain, DOMAIN=n (repeatable; needs --run-tokens unless every domain is given).") var tokens: [String] = []
        @Option(help: "How many times a domain's tokens may be repeated.") var maxEpochs: Double = 1
        @Option(help: "Tokens of the full run the mixture is for (default with --tokens for every domain: their sum).")
        var runTokens: Double?
        @Option(help: "Shares below this become 0 (the rest is renormalised).") var minNonzero: Double = 0
        @Flag(help: "Let shares exceed the largest share each domain had in the fitting runs (the law is extrapolated).")
        var allowExtrapolation = false
        @Option(help: "Solver: automatic, projected-gradient, exponentiated-gradient, frank-wolfe, sampling, lattice.")
        var solver: String = "automatic"
        @Option(help: "Bootstrap resamples for the interval (0 to skip).") var bootstrap: Int = 100
        @Option(help: "Confidence of the bootstrap interval.") var confidence: Double = 0.9
        @Option(help: "Decimals of the printed shares (they sum to exactly 1).") var decimals: Int = 4
        @Option(help: "Seed for sampling solvers and the bootstrap.") var seed: UInt64 = 0
        @Option(help: "Output format: json, yaml or csv.") var format: String = "json"

        func run() async throws {
            guard ["json", "yaml", "csv"].contains(format) else {
                throw MixLabInputError(field: "--format \(format)", problem: "is not a known format", fix: "use json, yaml or csv")
            }
            guard let fitter = LawCatalog.mixtureLaw(named: law) else {
                if LawCatalog.names.contains(law) {
                    throw MixLabInputError(field: "--law \(law)", problem: "is a scaling law, not a mixture law", fix: "use a mixture law: \(LawCatalog.mixtureLaws.map(\.name).joined(separator: ", "))")
                }
                throw LawCatalog.unknownLaw(law)
            }
            guard (0...9).contains(decimals) else {
                throw MixLabInputError(field: "--decimals \(decimals)", problem: "is out of range", fix: "use 0 to 9")
            }
            guard minNonzero >= 0, minNonzero < 1 else {
                throw MixLabInputError(field: "--min-nonzero \(minNonzero)", problem: "is out of range", fix: "use a share in [0, 1)")
            }
            guard bootstrap >= 0, (0.5..<1).contains(confidence) else {
                throw MixLabInputError(field: "--bootstrap/--confidence", problem: "out of range", fix: "use --bootstrap ≥ 0 and a confidence in [0.5, 1)")
            }
            let runs = try loadRuns(ratios: ratios, metrics: metrics, ratiosFlag: "--ratios", metricsFlag: "--metrics", targets: target)
            for warning in runs.warnings { MixLab.warn(warning) }
            var request = MixtureRequest()
            request.minimumShares = try keyValues(minShare, flag: "--min-share")
            request.maximumShares = try keyValues(maxShare, flag: "--max-share")
            request.pinnedShares = try keyValues(fix, flag: "--fix")
            request.availableTokens = try keyValues(tokens, flag: "--tokens")
            request.maximumEpochs = maxEpochs
            request.runTokens = runTokens
            request.minimumNonZeroShare = minNonzero
            request.stayWithinFittedRange = !allowExtrapolation
            request.solver = try solverNamed(solver, seed: seed)
            request.bootstrapResamples = bootstrap
            request.confidence = confidence
            request.decimals = decimals
            request.seed = seed
            let report = try MixtureRecommendation.recommend(law: fitter, runs: runs, request: request)
            switch format {
            case "yaml": print(report.yaml())
            case "csv": print(MixtureRecommendation.csv(report).rendered(), terminator: "")
            default: print(report.json())
            }
        }

        func solverNamed(_ name: String, seed: UInt64) throws -> MixtureSolver {
            switch name {
            case "automatic":
                var options = MixtureSolver.Options()
                options.seed = seed
                return MixtureSolver.automatic.with(options)
            case "projected-gradient": return .projectedGradient
            case "exponentiated-gradient": return .exponentiatedGradient
            case "frank-wolfe": return .frankWolfe
            case "sampling": return .dirichletSampling(seed: seed)
            case "lattice": return .lattice()
            default:
                throw MixLabInputError(
                    field: "--solver \(name)", problem: "is not a known solver",
                    fix: "use automatic, projected-gradient, exponentiated-gradient, frank-wolfe, sampling or lattice")
            }
        }
    }
}
