import ArgumentParser
import Foundation
import MixLabCore
import MixLabStore

extension MixLab {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a sweep's ratios.csv, metrics.csv (joined on run id, readable by `mixlab fit`), evals.csv and spec.json (the resolved spec, which `sweep submit` takes back).")

        @Argument(help: "The sweep id.") var sweep: String
        @Option(help: "Read the store directly: sqlite:PATH or postgres://user[:password]@host[:port]/db (default: ask the coordinator).")
        var database: String?
        @Option(help: "Output format: csv.") var format: String = "csv"
        @Option(help: "Folder to write into (created if missing).") var out: String = "."
        @OptionGroup var client: ClientOptions

        func run() async throws {
            guard format == "csv" else {
                throw MixLabInputError(field: "--format \(format)", problem: "is not supported by export", fix: "use --format csv")
            }
            guard let database else {
                let response = try await client.withAdmin { try await $0.export(.with { $0.sweepID = sweep }) }
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                let files = [
                    ("ratios.csv", response.ratiosCsv), ("metrics.csv", response.metricsCsv), ("evals.csv", response.evalsCsv),
                    (SweepExport.specFileName, response.specJson),
                ]
                for (name, text) in files {
                    let path = (out as NSString).appendingPathComponent(name)
                    try text.write(toFile: path, atomically: true, encoding: .utf8)
                    print(path)
                }
                return
            }
            let url = try storeURL(database)
            let id = SweepID(sweep)
            let export = try await SQLStore.with(url) { store in try await SweepExport.make(sweep: id, from: store) }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let files = [export.ratios, export.metrics, export.evals].map { ($0.source, $0.rendered()) } + [(SweepExport.specFileName, export.specJSON)]
            for (name, text) in files {
                let path = (out as NSString).appendingPathComponent(name)
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                print(path)
            }
            if !export.skippedRuns.isEmpty {
                MixLab.warn("\(export.skippedRuns.count) run(s) left out of ratios/metrics (not succeeded or missing evals): "
                    + export.skippedRuns.prefix(5).map(\.rawValue).joined(separator: ", "))
            }
        }
    }
}
