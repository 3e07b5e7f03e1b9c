import ArgumentParser
import Foundation
import MixLabCore
import MixLabSweeps

extension MixLab {
    /// `mixlab sweep …`: working with sweep specs and submitted sweeps.
    struct SweepCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sweep", abstract: "Check, expand and run sweeps of proxy runs.",
            subcommands: [
                SweepSubmit.self, ValidateSpec.self, PlanSpec.self, SweepList.self, SweepShow.self, SweepWatch.self, SweepPause.self,
                SweepResume.self, SweepCancel.self, SweepRetry.self, SweepAddRuns.self, SweepFits.self, SweepMixture.self, SweepCompare.self,
            ])
    }

    /// `mixlab sweep validate FILE`: every problem of a spec, or a one-line summary.
    struct ValidateSpec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "validate",
            abstract: "Check a sweep spec; print every problem (exit 2) or a summary of what it expands to.")

        @Argument(help: "The sweep spec (YAML or JSON).") var file: String
        @Flag(help: "Print the result as JSON (problems as a list of {path, line, column, problem, fix}).") var json = false

        func run() async throws {
            let plan: SweepPlan
            do {
                plan = try SweepPlan.load(path: file)
            } catch {
                if json {
                    print(jsonText(ValidationReport(ok: false, errors: error.issues)))
                } else {
                    FileHandle.standardError.write(Data((error.description + "\n").utf8))
                }
                throw ExitCode(2)
            }
            for warning in plan.warnings { MixLab.warn(warning) }
            if json {
                print(
                    jsonText(
                        ValidationReport(
                            ok: true, name: plan.spec.name, runs: plan.runs.count, domains: plan.domains, hash: plan.specHash,
                            warnings: plan.warnings, spec: plan.spec)))
            } else {
                print("ok: \(plan.runs.count) runs, domains \(plan.domains.joined(separator: ", ")), hash \(plan.specHash)")
            }
        }
    }

    /// `mixlab sweep plan FILE`: the expanded runs.
    struct PlanSpec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "plan", abstract: "Print the runs a sweep spec expands to: index, seed, shares per domain, budget.")

        @Argument(help: "The sweep spec (YAML or JSON).") var file: String
        @Flag(help: "Print the plan as JSON.") var json = false
        @Flag(help: "Print the runs as CSV (index, point, scale, seed, one column per domain, budget JSON).") var csv = false

        func run() async throws {
            guard !(json && csv) else {
                throw MixLabInputError(field: "--json --csv", problem: "asks for two formats", fix: "pass one of --json and --csv")
            }
            let plan: SweepPlan
            do {
                plan = try SweepPlan.load(path: file)
            } catch {
                FileHandle.standardError.write(Data((error.description + "\n").utf8))
                throw ExitCode(2)
            }
            for warning in plan.warnings { MixLab.warn(warning) }
            if json {
                print(jsonText(PlanReport(name: plan.spec.name, hash: plan.specHash, domains: plan.domains, runs: plan.runs)))
            } else {
                let header = ["index", "point", "scale", "seed"] + plan.domains + ["budget"]
                let rows = plan.runs.map { run in
                    [String(run.index), String(run.point), String(run.scale), String(run.seed)] + run.shares.map { shareText($0) }
                        + [run.budgetJSON]
                }
                if csv {
                    let text = CSVTable(source: "plan", header: header, rows: rows).rendered()
                    print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
                } else {
                    print(alignedTable(header: header, rows: rows))
                }
            }
        }
    }
}

private struct ValidationReport: Encodable {
    var ok: Bool
    var name: String?
    var runs: Int?
    var domains: [String]?
    var hash: String?
    var warnings: [String]?
    var spec: SweepSpec?
    var errors: [SweepSpecIssue]?
}

private struct PlanReport: Encodable {
    var name: String
    var hash: String
    var domains: [String]
    var runs: [PlannedRun]
}

private func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "{}"
}

private func shareText(_ value: Double) -> String { String(format: "%.6g", value) }

/// Columns padded to their widest cell, two spaces apart.
private func alignedTable(header: [String], rows: [[String]]) -> String {
    let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
    return ([header] + rows).map { row in
        row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
