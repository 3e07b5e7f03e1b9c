import ArgumentParser
import Foundation
import MixLabAnalysis
import MixLabCoordinator
import MixLabCore
import MixLabStore

extension MixLab {
    /// `mixlab sweep compare SWEEP`: an online sweep's methods side by side.
    struct SweepCompare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract: "Compare an online sweep's methods (Aioli and its online.compare baselines) on the same budgets and seeds.",
            discussion: """
                Per method: the mean final loss over budget/seed pairs, its sd, the mean difference to stratified on \
                the same pairs and the pairs won, and the training steps spent. Grid's result per pair is its run \
                with the lowest objective. --domains measures on other eval domains (for example the test slices \
                NAME.test) with the objective's weights, while grid still picks by the objective.
                """)
        @Argument(help: "The sweep id.") var sweep: String
        @Option(help: "Eval domains to measure the loss on, A[,B…] (default: the objective's targets).") var domains: [String] = []
        @Option(help: "Read the store directly: sqlite:PATH or postgres://user[:password]@host[:port]/db (default: ask the coordinator).")
        var database: String?
        @Flag(help: "Print the comparison as JSON.") var json = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let chosen = domains.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            let comparisonJSON: String
            if let database {
                let comparison = try await SQLStore.with(try storeURL(database)) { store in
                    try await SweepComparison.compare(sweep: SweepID(sweep), in: store, domains: chosen)
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                comparisonJSON = String(decoding: try encoder.encode(comparison), as: UTF8.self)
            } else {
                comparisonJSON = try await client.withAdmin { admin in
                    try await admin.compareMethods(.with { $0.sweepID = sweep; $0.domains = chosen }).comparisonJson
                }
            }
            if json {
                print(comparisonJSON)
                return
            }
            let comparison = try JSONDecoder().decode(MethodComparison.self, from: Data(comparisonJSON.utf8))
            let total = comparison.measuredOn.values.reduce(0, +)
            let weights = comparison.measuredOn.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3g", $0.value / total))" }
            print("loss: weighted mean of final losses on \(weights.joined(separator: ", ")); \(comparison.pairs.count) budget/seed pair(s)")
            print(comparison.table)
        }
    }
}
