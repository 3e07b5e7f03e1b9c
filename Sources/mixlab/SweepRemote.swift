import ArgumentParser
import Foundation
import GRPCCore
import MixLabAnalysis
import MixLabCore
import MixLabRPC
import MixingLaws

/// Prints a JSON value with sorted keys.
func printJSON(_ value: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data("null".utf8)
    print(String(decoding: data, as: UTF8.self))
}

extension Mixlab_V1_SweepStatus {
    func count(_ state: String) -> Int { Int(counts.first { $0.state == state }?.count ?? 0) }

    /// `running` counts runs leased to a worker (assigned or running), as users read it.
    var jsonObject: [String: Any] {
        [
            "id": sweepID, "name": name, "state": state, "priority": Int(priority), "total": Int(totalRuns),
            "counts": [
                "queued": count("queued"), "assigned": count("assigned"), "running": count("assigned") + count("running"),
                "succeeded": count("succeeded"), "failed": count("failed"), "cancelled": count("cancelled"),
            ],
            "domains": domains,
            "workers": workers.map { ["id": $0.workerID, "seconds_since_heartbeat": $0.secondsSinceHeartbeat, "running": Int($0.running)] },
        ]
    }

    var finished: Int { count("succeeded") + count("failed") + count("cancelled") }

    var line: String {
        "\(sweepID)  \(name)  \(state)  \(finished)/\(totalRuns) done (queued \(count("queued")), running \(count("assigned") + count("running")), succeeded \(count("succeeded")), failed \(count("failed")), cancelled \(count("cancelled")))"
    }
}

extension MixLab {
    struct SweepSubmit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "submit", abstract: "Submit a sweep spec (YAML) to the coordinator; prints the sweep id.")

        @Argument(help: "The sweep spec file.") var file: String
        @Option(help: "Submitting again with the same key returns the first sweep (default: the spec's hash).")
        var idempotencyKey: String?
        @Flag(help: "Print every run's exact command and environment instead of submitting.") var dryRun = false
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let text = try readSpecText(file)
            let plan = try planSweep(text: text, source: file)
            if dryRun {
                try printDryRun(plan, json: json)
                return
            }
            let clientKey = idempotencyKey ?? plan.specHash
            let response = try await client.withAdmin { admin in
                try await admin.submitSweep(.with { $0.specYaml = text; $0.clientKey = clientKey })
            }
            if json {
                printJSON(["id": response.sweepID, "created": response.created, "runs": Int(response.runs)])
            } else {
                print(response.sweepID)
                if !response.created { MixLab.warn("this spec was already submitted (key \(clientKey)); returned the existing sweep") }
            }
        }
    }

    struct SweepList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List sweeps.")
        @OptionGroup var format: ListingFormat
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let sweeps = try await client.withAdmin { try await $0.listSweeps(.init()).sweeps }
            if format.json {
                printJSON(sweeps.map(\.jsonObject))
            } else if format.csv {
                print("id,name,state,total,queued,running,succeeded,failed,cancelled")
                for s in sweeps {
                    print([s.sweepID, s.name, s.state, "\(s.totalRuns)", "\(s.count("queued"))", "\(s.count("assigned") + s.count("running"))",
                           "\(s.count("succeeded"))", "\(s.count("failed"))", "\(s.count("cancelled"))"].map(csvField).joined(separator: ","))
                }
            } else {
                if sweeps.isEmpty { print("no sweeps") }
                for sweep in sweeps { print(sweep.line) }
            }
        }
    }

    struct SweepShow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a sweep's state and run counts.")
        @Argument(help: "The sweep id.") var sweep: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let status = try await client.withAdmin { try await $0.getSweep(.with { $0.sweepID = sweep }) }
            if json {
                printJSON(status.jsonObject)
            } else {
                print(status.line)
                for worker in status.workers {
                    print("  worker \(worker.workerID): \(worker.running) running, heartbeat \(String(format: "%.1f", worker.secondsSinceHeartbeat)) s ago")
                }
            }
        }
    }

    struct SweepWatch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "watch", abstract: "Follow a sweep live: progress bar, counts by state, ETA and worker heartbeats; ends when the sweep has ended and its laws are fitted.")
        @Argument(help: "The sweep id.") var sweep: String
        @Flag(help: "Print one JSON object per update.") var json = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let started = Date()
            let interactive = isatty(STDOUT_FILENO) == 1 && !json
            let final = try await client.withAdmin { admin in
                try await admin.watchSweep(.with { $0.sweepID = sweep }) { response in
                    var last: Mixlab_V1_SweepStatus?
                    var firstFinished: Int?
                    for try await status in response.messages {
                        last = status
                        var line: String
                        if json {
                            let data = try JSONSerialization.data(withJSONObject: status.jsonObject, options: [.sortedKeys])
                            line = String(decoding: data, as: UTF8.self) + "\n"
                        } else {
                            if firstFinished == nil { firstFinished = status.finished }
                            let text = progressText(status, since: started, firstFinished: firstFinished ?? 0)
                            line = interactive ? "\u{1B}[2K\r" + text : text + "\n"
                        }
                        FileHandle.standardOutput.write(Data(line.utf8))
                    }
                    return last
                }
            }
            if interactive { print("") }
            if let final, !json { print("sweep \(final.sweepID) is \(final.state)") }
        }

        func progressText(_ status: Mixlab_V1_SweepStatus, since start: Date, firstFinished: Int) -> String {
            let total = max(Int(status.totalRuns), 1)
            let done = status.finished
            let width = 30
            let filled = done * width / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            let elapsed = Date().timeIntervalSince(start)
            var eta = "ETA --"
            if done > firstFinished, elapsed > 0 {
                let rate = Double(done - firstFinished) / elapsed
                eta = "ETA \(Int((Double(total - done) / rate).rounded())) s"
            }
            let beats = status.workers.map { "\($0.workerID) \(String(format: "%.0f", $0.secondsSinceHeartbeat))s" }.joined(separator: ", ")
            return "[\(bar)] \(done)/\(status.totalRuns)  queued \(status.count("queued")) running \(status.count("assigned") + status.count("running")) ok \(status.count("succeeded")) failed \(status.count("failed")) cancelled \(status.count("cancelled"))  \(eta)  heartbeats: \(beats.isEmpty ? "no workers" : beats)"
        }
    }

    struct SweepPause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Start no new runs of a sweep (running runs finish).")
        @Argument(help: "The sweep id.") var sweep: String
        @OptionGroup var client: ClientOptions
        func run() async throws { print(try await client.withAdmin { try await $0.pauseSweep(.with { $0.sweepID = sweep }) }.line) }
    }

    struct SweepResume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused sweep.")
        @Argument(help: "The sweep id.") var sweep: String
        @OptionGroup var client: ClientOptions
        func run() async throws { print(try await client.withAdmin { try await $0.resumeSweep(.with { $0.sweepID = sweep }) }.line) }
    }

    struct SweepCancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel", abstract: "Cancel a sweep: queued runs are dropped, running ones are stopped (whole process group).")
        @Argument(help: "The sweep id.") var sweep: String
        @OptionGroup var client: ClientOptions
        func run() async throws { print(try await client.withAdmin { try await $0.cancelSweep(.with { $0.sweepID = sweep }) }.line) }
    }

    struct SweepRetry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "retry", abstract: "Re-queue a sweep's failed runs with a fresh allowance of attempts.")
        @Argument(help: "The sweep id.") var sweep: String
        @Flag(help: "Only failed runs (the default); without it pass --all to include cancelled runs.") var failed = false
        @Flag(help: "Failed and cancelled runs.") var all = false
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let response = try await client.withAdmin { admin in
                try await admin.retryRuns(.with { $0.sweepID = sweep; $0.failedOnly = !all })
            }
            print("re-queued \(response.requeued) runs")
        }
    }

    struct SweepAddRuns: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-runs",
            abstract: "Append the runs of another design to a sweep (same domains, budget and trainer).",
            discussion: "DESIGN is a YAML file or inline YAML, e.g. '{kind: list, mixtures: [{web: 0.5, code: 0.5}]}' or '{kind: dirichlet, runs: 16, seed: 9}'.")
        @Argument(help: "The sweep id.") var sweep: String
        @Argument(help: "A design: a YAML file or inline YAML.") var design: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let text = FileManager.default.fileExists(atPath: design) ? try readSpecText(design) : design
            let status = try await client.withAdmin { admin in
                try await admin.addRuns(.with { $0.sweepID = sweep; $0.designYaml = text })
            }
            print(status.line)
        }
    }

    struct SweepFits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "fits", abstract: "Print the law fits stored for a completed sweep (JSON).")
        @Argument(help: "The sweep id.") var sweep: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let reports = try await client.withAdmin { try await $0.getFits(.with { $0.sweepID = sweep }).fitReportsJson }
            print("[" + reports.joined(separator: ",\n") + "]")
        }
    }

    struct SweepMixture: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mixture", abstract: "Print the recommended mixture of a completed sweep.",
            discussion: """
                A D-CPT sweep answers one of the three usages of its fitted laws instead: --usage tradeoff \
                --tolerance 0.03 (smallest domain loss with the general loss at most 3% worse), --usage \
                limited-data --domain-tokens N (only N domain tokens exist), --usage compute --flops C (the best \
                model size, tokens and share for C FLOPs).
                """)
        @Argument(help: "The sweep id.") var sweep: String
        @Option(help: "Law whose recommendation to print (default: the sweep's first; dcpt for --usage).") var law: String?
        @Option(help: "Output: yaml, json, csv.") var format: String = "yaml"
        @Option(help: "D-CPT usage: tradeoff, limited-data or compute.") var usage: String?
        @Option(help: "tradeoff: largest relative rise of the general loss allowed.") var tolerance: Double?
        @Option(help: "tradeoff: the general loss to compare with (default: the general law with no domain data).")
        var referenceGeneralLoss: Double?
        @Option(help: "limited-data: domain tokens available.") var domainTokens: Double?
        @Option(help: "limited-data: times the domain tokens may be repeated.") var epochs: Double = 1
        @Option(help: "compute: FLOPs of the full run (≈ 6·N·D).") var flops: Double?
        @Option(name: .customLong("n"), help: "Model size N of the full run (default: the largest in the sweep).") var modelSize: Double?
        @Option(name: .customLong("d"), help: "Tokens D of the full run (default: the largest in the sweep).") var tokens: Double?
        @Flag(help: "Search shares outside the range the sweep trained (the law extrapolates).") var allowExtrapolation = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            guard ["yaml", "json", "csv"].contains(format) else {
                throw MixLabInputError(field: "--format \(format)", problem: "is not an output format", fix: "use yaml, json or csv")
            }
            if let usage {
                let request = try dcptUsage(usage)
                let reports = try await client.withAdmin { try await $0.getFits(.with { $0.sweepID = sweep }).fitReportsJson }
                let parsed = reports.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                let answer: ReportValue
                do {
                    answer = try DCPTSweepAnalysis.answer(
                        fitReports: parsed, law: law ?? "dcpt", usage: request, N: modelSize, D: tokens, allowExtrapolation: allowExtrapolation)
                } catch let error as LawFitError {
                    throw MixLabInputError(field: "--usage \(usage)", problem: error.message, fix: "check the sweep id and that it is a completed D-CPT sweep")
                }
                print(format == "json" ? answer.json() : answer.yaml())
                return
            }
            let response = try await client.withAdmin { admin in
                try await admin.getMixture(.with { $0.sweepID = sweep; $0.law = law ?? "" })
            }
            let shares = response.mixture.sorted { $0.key < $1.key }
            switch format {
            case "json": print(response.reportJson)
            case "csv":
                print("domain,share")
                for (domain, share) in shares { print("\(domain),\(share)") }
            default:
                print("law: \(response.law)")
                print("predicted_loss: \(response.predictedLoss)")
                print("mixture:")
                for (domain, share) in shares { print("  \(domain): \(share)") }
            }
        }

        func dcptUsage(_ name: String) throws -> DCPTSweepAnalysis.Usage {
            switch name {
            case "tradeoff":
                guard let tolerance, tolerance.isFinite, tolerance >= 0 else {
                    throw MixLabInputError(field: "--tolerance", problem: "is missing or negative", fix: "give the allowed relative rise, e.g. --tolerance 0.03")
                }
                if let referenceGeneralLoss, !(referenceGeneralLoss > 0) {
                    throw MixLabInputError(field: "--reference-general-loss", problem: "is not positive", fix: "give a loss such as 2.1")
                }
                return .tradeOff(tolerance: tolerance, referenceGeneralLoss: referenceGeneralLoss)
            case "limited-data":
                guard let domainTokens, domainTokens > 0, domainTokens.isFinite else {
                    throw MixLabInputError(field: "--domain-tokens", problem: "is missing or not positive", fix: "give the domain tokens available, e.g. --domain-tokens 5e9")
                }
                guard epochs > 0, epochs.isFinite else {
                    throw MixLabInputError(field: "--epochs \(epochs)", problem: "is not positive", fix: "use e.g. --epochs 1")
                }
                return .limitedData(domainTokens: domainTokens, epochs: epochs)
            case "compute":
                guard let flops, flops > 0, flops.isFinite else {
                    throw MixLabInputError(field: "--flops", problem: "is missing or not positive", fix: "give the compute budget, e.g. --flops 1e21")
                }
                return .compute(flops: flops)
            default:
                throw MixLabInputError(field: "--usage \(name)", problem: "is not a D-CPT usage", fix: "use tradeoff, limited-data or compute")
            }
        }
    }
}

func csvField(_ text: String) -> String {
    text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
}
