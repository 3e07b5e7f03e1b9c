import ArgumentParser
import Foundation
import MixLabAnalysis
import MixLabCore
import MixingLaws

extension MixLab {
    /// `mixlab cross-domain --data POINTS`: the leave-one-domain-out test of the Cross-Domain D-CPT Law.
    struct CrossDomain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cross-domain",
            abstract: "Leave-one-domain-out test of the Cross-Domain D-CPT Law: predict each CPT domain from its k1, k2.",
            discussion: """
                --data is one row per checkpoint of the per-domain D-CPT runs, with columns \
                domain,N,D,r,k1,k2,loss: r is the domain's share of the CPT data, D the CPT tokens, loss the \
                domain's held-out loss, k1 the base model's loss on the domain before CPT (at size N), and k2 \
                the probe run's relative loss drop (k1 − L_probe) / k1. For each domain the law is fitted on \
                the others and predicts it from k1, k2 alone; the report sets this against the plain D-CPT \
                Law fitted on the domain itself (upper bound) and on the other domains pooled (no domain term).
                """)

        @Option(help: "Points CSV (columns domain,N,D,r,k1,k2,loss).") var data: String
        @Option(help: "Output format: json or markdown.") var format: String = "json"

        func run() async throws {
            guard ["json", "markdown"].contains(format) else {
                throw MixLabInputError(field: "--format \(format)", problem: "is not supported by cross-domain", fix: "use json or markdown")
            }
            let domains = try CrossDomainDCPTAnalysis.domains(from: try readTable(data, flag: "--data"))
            let results = try CrossDomainDCPTAnalysis.leaveOneDomainOut(domains)
            if format == "json" {
                print(CrossDomainDCPTAnalysis.report(results).json())
                return
            }
            func cells(_ error: CrossDomainDCPTAnalysis.PredictionError) -> String {
                String(format: "%.3f | %.4f | %.2f%%", error.r2, error.mae, error.mape)
            }
            print("| held-out domain | rows | cross-domain R² | MAE | MAPE | per-domain fit R² | MAE | MAPE | no domain term R² | MAE | MAPE |")
            print("|---|---|---|---|---|---|---|---|---|---|---|")
            for result in results {
                print("| \(result.domain) | \(result.crossDomain.count) | \(cells(result.crossDomain)) | \(cells(result.perDomainFit)) | \(cells(result.noDomainTerm)) |")
            }
        }
    }
}
