import ArgumentParser
import Foundation
import MixLabAnalysis
import MixLabCore

extension MixLab {
    /// `mixlab sweep compare SWEEP`: an online sweep's methods side by side.
    struct SweepCompare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compare",
            abstract: "Compare an online sweep's methods (Aioli and its online.compare baselines) on the same budgets and seeds.",
            discussion: """
                Per method: the mean final loss over budget/seed pairs, its sd, the mean difference to stratified on \
                the same pairs and the pairs won, and the training steps spent. Grid's result per pair is its run \
                with the lowest objective. --domains measures on other eval domains (for example held-out test \
                domains) with the objective's weights, while grid still picks by the objective.
                """)
        @Argument(help: "The sweep id.") var sweep: String
        @Option(help: "Eval domains to measure the loss on, A[,B…] (default: the objective's targets).") var domains: [String] = []
        @Flag(help: "Print the comparison as JSON.") var json = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let chosen = domains.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
            let response = try await client.withAdmin { admin in
                try await admin.compareMethods(.with { $0.sweepID = sweep; $0.domains = chosen })
            }
            if json {
                print(response.comparisonJson)
                return
            }
            let comparison = try JSONDecoder().decode(MethodComparison.self, from: Data(response.comparisonJson.utf8))
            let total = comparison.measuredOn.values.reduce(0, +)
            let weights = comparison.measuredOn.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.3g", $0.value / total))" }
            print("loss: weighted mean of final losses on \(weights.joined(separator: ", ")); \(comparison.pairs.count) budget/seed pair(s)")
            print(comparison.table)
        }
    }
}
