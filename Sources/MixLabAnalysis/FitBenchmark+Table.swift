import Foundation

extension FitBenchmark {
    /// The measurements in the JSON lines of `Benchmarks/scipy_fit_bench.py`; the D-CPT line's
    /// `polish_seconds` becomes a second, polish-only row. Lines that are not JSON objects with
    /// the four fields are skipped.
    public static func scipyMeasurements(jsonLines: String) -> [Measurement] {
        var measurements: [Measurement] = []
        for line in jsonLines.split(whereSeparator: \.isNewline) {
            guard
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let problem = object["problem"] as? String, let seconds = (object["seconds"] as? NSNumber)?.doubleValue,
                let objective = (object["objective"] as? NSNumber)?.doubleValue, let starts = (object["starts"] as? NSNumber)?.intValue
            else { continue }
            let measurement = Measurement(
                problem: problem, implementation: "scipy", threads: 1, starts: starts, seconds: seconds, objective: objective)
            measurements.append(measurement)
            if let polish = (object["polish_seconds"] as? NSNumber)?.doubleValue {
                var polishOnly = measurement
                polishOnly.problem = Self.polishOnly(problem)
                polishOnly.seconds = polish
                measurements.append(polishOnly)
            }
        }
        return measurements
    }

    /// A Markdown table, one row per problem: starts, scipy's seconds and objective, MixLab's
    /// seconds on one thread and on all cores, MixLab's objective (one thread) and its relative
    /// difference to scipy's, and the one-thread speed-up. Missing measurements print as `—`.
    public static func table(_ measurements: [Measurement]) -> String {
        let known = Set(problems)
        let order = problems + measurements.map(\.problem).filter { !known.contains($0) }.reduce(into: [String]()) {
            if !$0.contains($1) { $0.append($1) }
        }
        var lines = [
            "| problem | starts | scipy s | scipy objective | MixLab s (1 thread) | MixLab s (all cores) | MixLab objective | objective vs scipy | speed-up (1 thread) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for problem in order {
            let rows = measurements.filter { $0.problem == problem }
            guard !rows.isEmpty else { continue }
            let scipy = rows.first { $0.implementation == "scipy" }
            let single = rows.first { $0.implementation == "swift" && $0.threads == 1 }
            let multi = rows.first { $0.implementation == "swift" && $0.threads > 1 }
            let swift = single ?? multi
            let starts = (swift ?? scipy).map { String($0.starts) } ?? "—"
            var relative = "—", speedUp = "—"
            if let scipy, let swift {
                relative = String(format: "%+.1e", swift.objective / scipy.objective - 1)
                if let single { speedUp = String(format: "%.1f×", scipy.seconds / single.seconds) }
            }
            let cells = [
                problem, starts, scipy.map { seconds($0.seconds) } ?? "—", scipy.map { objective($0.objective) } ?? "—",
                single.map { seconds($0.seconds) } ?? "—", multi.map { seconds($0.seconds) } ?? "—",
                swift.map { objective($0.objective) } ?? "—", relative, speedUp,
            ]
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }

    private static func seconds(_ value: Double) -> String { String(format: value < 1 ? "%.3f" : "%.2f", value) }
    private static func objective(_ value: Double) -> String { String(format: "%.15e", value) }
}
