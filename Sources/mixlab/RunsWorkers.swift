import ArgumentParser
import Foundation
import GRPCCore
import MixLabCore
import MixLabRPC

extension MixLab {
    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "runs", abstract: "Inspect a sweep's runs, or cancel one.", subcommands: [RunList.self, RunShow.self, RunLogs.self, RunCancel.self])
    }

    struct RunList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List a sweep's runs with state, attempt, worker and final losses.")
        @Argument(help: "The sweep id.") var sweep: String
        @Option(help: "Only runs in this state (queued, assigned, running, succeeded, failed, cancelled).") var state: String?
        @OptionGroup var format: ListingFormat
        @OptionGroup var client: ClientOptions

        func run() async throws {
            if let state, RunState(rawValue: state) == nil {
                throw MixLabInputError(
                    field: "--state \(state)", problem: "is not a run state",
                    fix: "use one of \(RunState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let runs = try await client.withAdmin { admin in
                try await admin.listRuns(.with { $0.sweepID = sweep; $0.state = state ?? "" }).runs
            }
            let domains = Array(Set(runs.flatMap { $0.mixture.keys })).sorted()
            let evalDomains = Array(Set(runs.flatMap { $0.finalLosses.keys })).sorted()
            if format.json {
                printJSON(runs.map { run -> [String: Any] in
                    [
                        "id": run.runID, "index": Int(run.index), "state": run.state, "attempt": Int(run.attempt), "worker": run.workerID,
                        "mixture": run.mixture, "last_failure": run.lastFailure, "final_losses": run.finalLosses,
                        "seconds_since_report": run.hasSecondsSinceReport ? run.secondsSinceReport as Any : NSNull(),
                    ]
                })
            } else if format.csv {
                print(
                    (["run", "state", "attempt", "worker", "last_failure", "seconds_since_report"] + domains + evalDomains.map { "eval_\($0)" })
                        .joined(separator: ","))
                for run in runs {
                    let quiet = run.hasSecondsSinceReport ? String(format: "%.1f", run.secondsSinceReport) : ""
                    let fields = [run.runID, run.state, "\(run.attempt)", run.workerID, run.lastFailure, quiet]
                        + domains.map { "\(run.mixture[$0] ?? 0)" } + evalDomains.map { run.finalLosses[$0].map { "\($0)" } ?? "" }
                    print(fields.map(csvField).joined(separator: ","))
                }
            } else {
                for run in runs {
                    let mixture = domains.map { "\($0)=\(String(format: "%.3f", run.mixture[$0] ?? 0))" }.joined(separator: " ")
                    let losses = evalDomains.compactMap { d in run.finalLosses[d].map { "\(d)=\(String(format: "%.4f", $0))" } }.joined(separator: " ")
                    let quiet = run.hasSecondsSinceReport ? ", last report \(MixLab.age(run.secondsSinceReport)) ago" : ""
                    print("\(run.runID)  \(run.state)  attempt \(run.attempt)\(run.workerID.isEmpty ? "" : " on \(run.workerID)")\(quiet)\(run.lastFailure.isEmpty ? "" : " (last failure: \(run.lastFailure))")  \(mixture)\(losses.isEmpty ? "" : "  loss " + losses)")
                }
            }
        }
    }

    static func age(_ seconds: Double) -> String {
        switch seconds {
        case ..<120: "\(Int(seconds))s"
        case ..<7200: "\(Int(seconds / 60))m"
        default: "\(Int(seconds / 3600))h\(Int(seconds.truncatingRemainder(dividingBy: 3600) / 60))m"
        }
    }

    struct RunShow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a run: mixture, budget, every attempt and its evals.")
        @Argument(help: "The run id (SWEEP/INDEX).") var run: String
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let detail = try await client.withAdmin { try await $0.getRun(.with { $0.runID = run }) }
            let attempts: [[String: Any]] = detail.attempts.map {
                [
                    "attempt": Int($0.attempt), "worker": $0.workerID, "host": $0.host, "started_at": $0.startedAt, "ended_at": $0.endedAt,
                    "outcome": $0.outcome, "cause": $0.cause, "exit_code": $0.hasExitCode ? Int($0.exitCode) as Any : NSNull(),
                    "signal": $0.hasSignal ? Int($0.signal) as Any : NSNull(), "log_tail": $0.logTail,
                ]
            }
            if json {
                printJSON([
                    "id": detail.run.runID, "state": detail.run.state, "attempt": Int(detail.run.attempt), "mixture": detail.run.mixture,
                    "budget": detail.budgetJson, "final_losses": detail.run.finalLosses, "attempts": attempts,
                    "evals": detail.evals.map { ["step": $0.step, "tokens": $0.tokens, "domain": $0.domain, "loss": $0.loss] as [String: Any] },
                ])
                return
            }
            print("\(detail.run.runID): \(detail.run.state), attempt \(detail.run.attempt)")
            print("mixture: " + detail.run.mixture.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            print("budget: \(detail.budgetJson)")
            for attempt in detail.attempts {
                var line = "attempt \(attempt.attempt) on \(attempt.workerID) (\(attempt.host)): \(attempt.outcome)"
                if !attempt.cause.isEmpty { line += ", cause \(attempt.cause)" }
                if attempt.hasExitCode { line += ", exit code \(attempt.exitCode)" }
                if attempt.hasSignal { line += ", signal \(attempt.signal)" }
                print(line)
                if !attempt.logTail.isEmpty { print(attempt.logTail.split(separator: "\n").suffix(20).map { "    | \($0)" }.joined(separator: "\n")) }
            }
            if !detail.run.finalLosses.isEmpty {
                print("final losses: " + detail.run.finalLosses.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
            }
        }
    }

    struct RunLogs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print a run's trainer log (from the worker that ran it).")
        @Argument(help: "The run id (SWEEP/INDEX).") var run: String
        @Option(help: "Attempt number (default: the latest).") var attempt: Int = 0
        @Flag(name: [.customShort("f"), .long], help: "Keep printing as the log grows, until the attempt ends.") var follow = false
        @Option(help: "Start this many bytes before the end.") var tailBytes: Int64 = 0
        @OptionGroup var client: ClientOptions

        func run() async throws {
            try await client.withAdmin { admin in
                try await admin.runLogs(.with { $0.runID = run; $0.attempt = Int32(attempt); $0.follow = follow; $0.tailBytes = tailBytes }) { response in
                    for try await chunk in response.messages {
                        if !chunk.data.isEmpty { FileHandle.standardOutput.write(chunk.data) }
                        if !chunk.error.isEmpty { MixLab.warn(chunk.error) }
                    }
                }
            }
        }
    }

    struct RunCancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel",
            abstract: "Cancel one run: a queued run is dropped, a running one stopped (whole process group); the sweep goes on.")
        @Argument(help: "The run id (SWEEP/INDEX).") var run: String
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let summary = try await client.withAdmin { try await $0.cancelRun(.with { $0.runID = run }) }
            print("run \(summary.runID) is \(summary.state)")
        }
    }

    struct Workers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "workers", abstract: "Inspect workers.", subcommands: [WorkerList.self, WorkerUnquarantine.self])
    }

    struct WorkerList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List workers: slots, connection, heartbeat age, quarantine.")
        @OptionGroup var format: ListingFormat
        @OptionGroup var client: ClientOptions

        func run() async throws {
            let workers = try await client.withAdmin { try await $0.listWorkers(.init()).workers }
            if format.json {
                printJSON(workers.map {
                    [
                        "id": $0.workerID, "host": $0.host, "cpu_slots": Int($0.cpuSlots), "gpus": Int($0.gpus), "connected": $0.connected,
                        "quarantined": $0.quarantined, "consecutive_failures": Int($0.consecutiveFailures),
                        "seconds_since_heartbeat": $0.secondsSinceHeartbeat, "running": $0.runningRunIds, "draining": $0.draining,
                    ] as [String: Any]
                })
            } else if format.csv {
                print("id,host,cpu_slots,gpus,connected,quarantined,consecutive_failures,seconds_since_heartbeat,running")
                for w in workers {
                    print([w.workerID, w.host, "\(w.cpuSlots)", "\(w.gpus)", "\(w.connected)", "\(w.quarantined)", "\(w.consecutiveFailures)",
                           String(format: "%.1f", w.secondsSinceHeartbeat), "\(w.runningRunIds.count)"].map(csvField).joined(separator: ","))
                }
            } else {
                if workers.isEmpty { print("no workers have connected") }
                for w in workers {
                    var flags: [String] = [w.connected ? "connected" : "disconnected"]
                    if w.quarantined { flags.append("QUARANTINED after \(w.consecutiveFailures) failures (mixlab workers unquarantine \(w.workerID))") }
                    if w.draining { flags.append("draining") }
                    print("\(w.workerID)  \(w.host)  cpus \(w.cpuSlots) gpus \(w.gpus)  running \(w.runningRunIds.count)  heartbeat \(String(format: "%.1f", w.secondsSinceHeartbeat)) s ago  \(flags.joined(separator: ", "))")
                }
            }
        }
    }

    struct WorkerUnquarantine: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unquarantine", abstract: "Let a quarantined worker take runs again.")
        @Argument(help: "The worker id (its certificate name).") var worker: String
        @OptionGroup var client: ClientOptions
        func run() async throws {
            let status = try await client.withAdmin { try await $0.unquarantineWorker(.with { $0.workerID = worker }) }
            print("\(status.workerID): quarantine lifted")
        }
    }
}
