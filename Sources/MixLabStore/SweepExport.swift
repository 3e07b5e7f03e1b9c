public import MixLabCore

/// The tables `mixlab export` writes for a sweep, in the olmix/RegMix convention that `mixlab fit`
/// reads back: `ratios.csv` (run id, one share per domain) and `metrics.csv` (run id, the final
/// loss per eval domain as `eval_<domain>`) for the succeeded runs, joined on the run id, plus the
/// long `evals.csv` of every stored eval, and `spec.json`, the resolved spec the sweep ran (which
/// `mixlab sweep submit` takes back).
public struct SweepExport: Sendable {
    public var ratios: CSVTable
    public var metrics: CSVTable
    public var evals: CSVTable
    /// Runs left out of ratios/metrics because they did not succeed or reported no evals.
    public var skippedRuns: [RunID]
    /// The resolved spec as stored at submission (JSON).
    public var specJSON: String
    /// The file name the spec is written to.
    public static let specFileName = "spec.json"

    /// Reads the sweep from `store`.
    public static func make(sweep id: SweepID, from store: any MixLabStore) async throws -> SweepExport {
        guard let sweep = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id) in this database; check the sweep id and --database") }
        let runs = try await store.runs(in: id)
        let evals = try await store.evals(in: id)
        let final = finalLosses(runs: runs, evals: evals)
        var ratioRows: [[String]] = []
        var metricRows: [[String]] = []
        var skipped: [RunID] = []
        for run in runs {
            guard run.state == .succeeded, let losses = final[run.id], sweep.evalDomains.allSatisfy({ losses[$0] != nil }) else {
                skipped.append(run.id)
                continue
            }
            ratioRows.append([run.id.rawValue] + run.shares.map { "\($0)" })
            metricRows.append([run.id.rawValue] + sweep.evalDomains.map { "\(losses[$0]!)" })
        }
        return SweepExport(
            ratios: CSVTable(source: "ratios.csv", header: ["run"] + sweep.domains, rows: ratioRows),
            metrics: CSVTable(source: "metrics.csv", header: ["run"] + sweep.evalDomains.map { "eval_\($0)" }, rows: metricRows),
            evals: CSVTable(
                source: "evals.csv", header: ["run", "attempt", "step", "tokens", "domain", "loss"],
                rows: evals.map { [$0.run.rawValue, "\($0.attempt)", "\($0.step)", "\($0.tokens)", $0.domain, "\($0.loss)"] }),
            skippedRuns: skipped, specJSON: sweep.specJSON)
    }

    /// Each run's final loss per eval domain: the eval at the highest step of the run's current
    /// attempt (an earlier attempt's evals describe a model that no longer exists).
    public static func finalLosses(runs: [RunRecord], evals: [EvalRecord]) -> [RunID: [String: Double]] {
        let attemptOf = Dictionary(uniqueKeysWithValues: runs.map { ($0.id, $0.attempt) })
        var latest: [RunID: [String: (step: Int64, loss: Double)]] = [:]
        for eval in evals where attemptOf[eval.run] == eval.attempt {
            if let seen = latest[eval.run]?[eval.domain], seen.step >= eval.step { continue }
            latest[eval.run, default: [:]][eval.domain] = (eval.step, eval.loss)
        }
        return latest.mapValues { $0.mapValues(\.loss) }
    }
}
