import ArgumentParser
import MixLabAnalysis
import MixLabCore
import MixingLaws

extension MixLab {
    struct Fit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit a mixing or scaling law to proxy-run results and report its quality.",
            discussion: """
                Mixture laws read a ratios CSV (run id, one share column per domain) and a metrics CSV \
                (run id, one loss column per validation set) joined on the run id. Scaling laws read \
                --data with columns N,D,loss (chinchilla) or N,D,r,loss (dcpt).
                """)

        @Option(help: "The law to fit (see --list-laws).") var law: String?
        @Flag(help: "Print every law name, comma-separated, and exit.") var listLaws = false
        @Option(help: "Mixture ratios CSV of the training runs.") var ratios: String?
        @Option(help: "Metrics CSV of the training runs.") var metrics: String?
        @Option(help: "Metrics column to fit; repeat as COLUMN=WEIGHT to fit a weighted sum.") var target: [String] = []
        @Option(help: "Ratios CSV of held-out runs.") var testRatios: String?
        @Option(help: "Metrics CSV of held-out runs.") var testMetrics: String?
        @Option(help: "Also report k-fold cross-validated error over runs.") var folds: Int?
        @Option(help: "Scaling-law data CSV (N,D,loss or N,D,r,loss).") var data: String?
        @Option(help: "Seed for cross-validation folds.") var seed: UInt64 = 0
        @Option(help: "Output format: json.") var format: String = "json"

        func run() async throws {
            if listLaws {
                print(LawCatalog.names.joined(separator: ","))
                return
            }
            guard format == "json" else {
                throw MixLabInputError(field: "--format \(format)", problem: "is not supported by fit", fix: "use --format json")
            }
            guard let law else {
                throw MixLabInputError(field: "--law", problem: "is missing", fix: "choose one of: \(LawCatalog.names.joined(separator: ", "))")
            }
            if let scaling = LawCatalog.scalingLaws.first(where: { $0.name == law }) {
                guard let data else {
                    throw MixLabInputError(field: "--data", problem: "is missing", fix: "scaling law \(law) reads a CSV with columns \((scaling.columns + ["loss"]).joined(separator: ","))")
                }
                let dataset = try RunTableReader.scalingData(try readTable(data, flag: "--data"), featureColumns: scaling.columns)
                print(try ScalingLawDispatch.fit(law, data: dataset, folds: folds, seed: seed).json())
                return
            }
            guard let fitter = LawCatalog.mixtureLaw(named: law) else { throw LawCatalog.unknownLaw(law) }
            let train = try loadRuns(ratios: ratios, metrics: metrics, ratiosFlag: "--ratios", metricsFlag: "--metrics", targets: target)
            var test: LoadedMixtureRuns?
            if testRatios != nil || testMetrics != nil {
                test = try loadRuns(
                    ratios: testRatios, metrics: testMetrics, ratiosFlag: "--test-ratios", metricsFlag: "--test-metrics", targets: target)
            }
            for warning in train.warnings + (test?.warnings ?? []) { MixLab.warn(warning) }
            print(try FitAnalysis.fitMixtureLaw(fitter, train: train, test: test, folds: folds, seed: seed).report.json())
        }
    }
}

/// Reads and joins a ratios/metrics pair named by flags.
func loadRuns(ratios: String?, metrics: String?, ratiosFlag: String, metricsFlag: String, targets: [String]) throws -> LoadedMixtureRuns {
    guard let ratios else {
        throw MixLabInputError(field: ratiosFlag, problem: "is missing", fix: "give the CSV of run mixtures (run id, one column per domain)")
    }
    guard let metrics else {
        throw MixLabInputError(field: metricsFlag, problem: "is missing", fix: "give the CSV of run losses (run id, one column per validation set)")
    }
    let selections = try targets.map { try TargetSelection(parsing: $0) }
    if let repeated = selections.first(where: { s in selections.filter { $0.column == s.column }.count > 1 }) {
        throw MixLabInputError(field: "--target \(repeated.column)", problem: "is given more than once", fix: "name each metrics column once")
    }
    return try RunTableReader.mixtureRuns(
        ratios: try readTable(ratios, flag: ratiosFlag), metrics: try readTable(metrics, flag: metricsFlag), targets: selections)
}
