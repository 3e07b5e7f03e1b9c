import Foundation
import MixLabCore
import MixLabRunner
import MixLabSweeps

/// Reads a spec file, naming the flag and the fix when it cannot be read.
func readSpecText(_ path: String) throws -> String {
    do {
        return try String(contentsOfFile: path, encoding: .utf8)
    } catch {
        throw MixLabInputError(field: path, problem: "cannot be read (\(error.localizedDescription))", fix: "check the path of the sweep spec")
    }
}

/// Parses and expands a spec locally, so bad input is reported before anything reaches the coordinator.
func planSweep(text: String, source: String) throws -> SweepPlan {
    do {
        return try SweepSpec.parse(yaml: text, file: source).resolve()
    } catch {
        throw SpecErrors(error)
    }
}

/// Every spec problem, one line each; the CLI prints them all and exits 2.
struct SpecErrors: Error, CustomStringConvertible {
    let error: SweepSpecError
    init(_ error: SweepSpecError) { self.error = error }
    var description: String { error.lines.map { "error: \($0)" }.joined(separator: "\n") }
}

/// Prints the exact command line and MixLab environment every run's first attempt would get, as
/// a worker would render them (`SWEEP` stands for the id the coordinator will assign, `WORK_DIR`
/// for the worker's `--work-dir`).
func printDryRun(_ plan: SweepPlan, json: Bool) throws {
    var rendered: [[String: Any]] = []
    for run in plan.runs {
        var budget: [String: JSONValue] = [:]
        if case .object(let object)? = try? JSONValue.parse(run.budgetJSON) { budget = object }
        let spec = AttemptSpec(
            runID: RunID("SWEEP/\(run.index)"), sweepID: SweepID("SWEEP"), attempt: 1, seed: Int64(run.seed),
            domains: plan.spec.domains.map { DomainData(name: $0.name, path: $0.path) }, mixture: run.mixture(domains: plan.domains),
            budget: budget, command: plan.spec.command(for: run.budget.mixingMethod), environment: plan.spec.trainer.env,
            gpus: Array(0..<run.gpus), workDirectory: "WORK_DIR/runs/SWEEP/\(run.index)/attempt-1")
        let invocation = try TrainerCommand.render(spec, controlPath: "WORK_DIR/runs/SWEEP/\(run.index)/attempt-1/control.sock")
        if json {
            rendered.append(["index": run.index, "command": invocation.arguments, "environment": invocation.environment, "cpus": run.cpus, "gpus": run.gpus])
        } else {
            let method = run.budget.mixingMethod.map { ", \($0.rawValue)" } ?? ""
            print("# run \(run.index) (cpus \(run.cpus), gpus \(run.gpus)\(method))")
            print(invocation.shellText())
        }
    }
    if json { printJSON(["runs": rendered, "spec_hash": plan.specHash]) }
}
