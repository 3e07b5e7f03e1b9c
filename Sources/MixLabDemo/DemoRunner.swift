import Foundation
import GRPCCore
import MixLabAnalysis
import MixLabCore
import MixLabRPC
import MixLabSweeps
import MixingLaws

/// Runs the whole demo: corpus, a loopback deployment of the real daemons, a Dirichlet sweep of
/// ProxyLM runs, the coordinator's fits and recommendation, files for the user, an optional
/// verification sweep, and a clean shutdown (also when the demo fails or is cancelled).
public struct DemoRunner: Sendable {
    public let configuration: DemoConfiguration
    /// Lines for the user.
    let say: @Sendable (String) -> Void
    /// A transient progress line (the CLI redraws it in place on a terminal).
    let status: @Sendable (String) -> Void

    public init(
        configuration: DemoConfiguration, say: @escaping @Sendable (String) -> Void, status: @escaping @Sendable (String) -> Void
    ) {
        var configuration = configuration
        configuration.outputDirectory = URL(fileURLWithPath: configuration.outputDirectory).standardizedFileURL.path
        self.configuration = configuration
        self.say = say
        self.status = status
    }

    public func run() async throws -> DemoSummary {
        try configuration.validate()
        let clock = ContinuousClock()
        let started = clock.now
        func since(_ instant: ContinuousClock.Instant) -> Double { (clock.now - instant).inSeconds }
        let out = configuration.outputDirectory
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        var summary = DemoSummary()
        summary.domains = configuration.domains.map(\.rawValue)
        summary.tokensPerRun = configuration.tokensPerRun
        summary.modelSize = configuration.modelSize

        let corpus = try await DemoCorpus.prepare(configuration, log: say)
        summary.corpus = corpus.description
        summary.seconds.corpus = since(started)

        let phase = clock.now
        say("starting a coordinator (store \(redacted(configuration.resolvedDatabaseURL))) and \(configuration.workers) workers on loopback, mutual TLS…")
        let cluster = try await DemoCluster.start(configuration, directory: out)
        summary.seconds.startup = since(phase)
        say("coordinator on 127.0.0.1:\(cluster.port); logs in \(cluster.logDirectory)")
        let outcome: Result<DemoSummary, any Error>
        do {
            outcome = .success(try await drive(cluster, corpus: corpus, summary: summary, started: started))
        } catch {
            outcome = .failure(error)
        }
        // Shut down even when cancelled: the daemons must not outlive the demo.
        let forced = await Task { await cluster.shutdown() }.value
        if !forced.isEmpty { say("warning: \(forced.joined(separator: ", ")) did not stop within 30 s of SIGTERM and were killed") }
        var finished = try outcome.get()
        finished.seconds.total = since(started)
        try write(finished, to: out + "/summary.json")
        say(String(format: "daemons stopped; the demo took %.0f s (first result after %.0f s)", finished.seconds.total, finished.seconds.firstResult))
        return finished
    }

    private func drive(_ cluster: DemoCluster, corpus: DemoCorpus, summary: DemoSummary, started: ContinuousClock.Instant) async throws -> DemoSummary {
        var summary = summary
        let clock = ContinuousClock()
        let out = configuration.outputDirectory
        let domains = configuration.domains.map(\.rawValue)

        var phase = clock.now
        let searchSpec = DemoSweepSpecs.search(configuration, corpus: corpus)
        try write(text: searchSpec, to: out + "/search.yaml", summary: &summary)
        let sweep = try await submit(searchSpec, source: out + "/search.yaml", cluster: cluster)
        summary.sweepID = sweep
        say("submitted sweep \(sweep): \(configuration.runs) ProxyLM runs (\(configuration.modelSize), \(configuration.tokensPerRun) tokens each) over \(domains.joined(separator: ", "))")
        let final = try await follow(sweep, cluster: cluster)
        summary.runs = Int(final.totalRuns)
        summary.succeeded = final.count("succeeded")
        summary.failed = final.count("failed") + final.count("cancelled")
        summary.seconds.sweep = (clock.now - phase).inSeconds
        say(String(format: "sweep finished in %.0f s: %d succeeded, %d failed", summary.seconds.sweep, summary.succeeded, summary.failed))
        if summary.failed > 0 { try await reportFailures(sweep, cluster: cluster) }

        phase = clock.now
        let export = try await cluster.admin { try await $0.export(.with { $0.sweepID = sweep }) }
        for (name, text) in [("ratios.csv", export.ratiosCsv), ("metrics.csv", export.metricsCsv), ("evals.csv", export.evalsCsv)] {
            try write(text: text, to: "\(out)/\(name)", summary: &summary)
        }
        summary.laws = try await fits(sweep, cluster: cluster)
        summary.seconds.fit = (clock.now - phase).inSeconds
        let chosen = summary.laws.filter { $0.mixture != nil }.min { ($0.cvMAE ?? .infinity) < ($1.cvMAE ?? .infinity) }
        guard let chosen, let mixture = chosen.mixture else {
            throw DemoError(
                "no law could be fitted: " + summary.laws.map { "\($0.law): \($0.error ?? "no result")" }.joined(separator: "; ")
                    + "; see \(cluster.logDirectory)/coordinator.log")
        }
        summary.chosenLaw = chosen.law
        summary.recommended = mixture
        let runs = try RunTableReader.mixtureRuns(
            ratios: try CSVTable(parsing: export.ratiosCsv, source: "ratios.csv"),
            metrics: try CSVTable(parsing: export.metricsCsv, source: "metrics.csv"),
            targets: domains.map { TargetSelection(column: "eval_\($0)", weight: 1 / Double(domains.count)) })
        say(DemoReport.fitTable(summary.laws, runs: runs.runs.count))
        say(DemoReport.mixtureTable(chosen, domains: domains, bestRun: bestRun(runs)))
        summary.seconds.firstResult = (clock.now - started).inSeconds
        try write(text: try DemoReport.chart(runs, laws: summary.laws, chosen: chosen), to: out + "/fit.svg", summary: &summary)

        if configuration.verify {
            phase = clock.now
            summary.verification = try await verify(mixture, corpus: corpus, cluster: cluster, summary: &summary)
            summary.seconds.verify = (clock.now - phase).inSeconds
        }
        try write(text: DemoReport.mixtureYAML(summary, chosen: chosen), to: out + "/mixture.yaml", summary: &summary)
        summary.files.append(out + "/summary.json")
        say("wrote " + summary.files.map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + " into \(out)")
        return summary
    }

    /// Submits a spec after checking it locally; the idempotency key is the spec's hash, so
    /// running the demo again with the same settings (or after a crash) resumes the same sweep.
    private func submit(_ spec: String, source: String, cluster: DemoCluster) async throws -> String {
        let plan: SweepPlan
        do {
            plan = try SweepSpec.parse(yaml: spec, file: source).resolve()
        } catch {
            throw DemoError("the demo wrote an invalid sweep spec (a bug): \(error.lines.joined(separator: "; "))")
        }
        let response = try await cluster.admin { admin in
            try await admin.submitSweep(.with { $0.specYaml = spec; $0.clientKey = "demo-" + plan.specHash })
        }
        if !response.created { say("this exact sweep was submitted to this store before: continuing sweep \(response.sweepID)") }
        return response.sweepID
    }

    /// Polls the sweep until every run has finished, showing progress and an ETA.
    private func follow(_ sweep: String, cluster: DemoCluster) async throws -> Mixlab_V1_SweepStatus {
        let clock = ContinuousClock()
        let started = clock.now
        var lastCounts: [Int] = []
        var doneAtStart: Int?
        while true {
            let current = try await cluster.admin { try await $0.getSweep(.with { $0.sweepID = sweep }) }
            let done = current.count("succeeded") + current.count("failed") + current.count("cancelled")
            let elapsed = (clock.now - started).inSeconds
            var line = "runs \(done)/\(current.totalRuns) finished, \(current.count("assigned") + current.count("running")) running"
            if current.count("failed") > 0 { line += ", \(current.count("failed")) failed" }
            // The rate counts only runs finished while watching (a continued sweep has some already).
            let initial = doneAtStart ?? done
            doneAtStart = initial
            if done > initial, done < current.totalRuns {
                line += String(format: ", ~%.0f s left", elapsed / Double(done - initial) * Double(Int(current.totalRuns) - done))
            }
            // One line per change of the counts (a terminal redraws it in place).
            let counts = [done, current.count("assigned") + current.count("running"), current.count("failed")]
            if counts != lastCounts {
                status(line)
                lastCounts = counts
            }
            if current.state == "completed" || current.state == "cancelled" { return current }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    private func reportFailures(_ sweep: String, cluster: DemoCluster) async throws {
        let failed = try await cluster.admin { try await $0.listRuns(.with { $0.sweepID = sweep; $0.state = "failed" }).runs }
        for run in failed.prefix(5) {
            say("  run \(run.runID) failed: \(run.lastFailure) (`mixlab runs logs \(run.runID)` or \(configuration.outputDirectory)/work/)")
        }
    }

    /// Waits for the coordinator's fit of every law and reads its stored reports.
    private func fits(_ sweep: String, cluster: DemoCluster) async throws -> [DemoSummary.LawResult] {
        var results: [DemoSummary.LawResult] = []
        let deadline = ContinuousClock.now + .seconds(600)
        for law in configuration.laws {
            var result = DemoSummary.LawResult(law: law)
            while true {
                do {
                    let answer = try await cluster.admin { try await $0.getMixture(.with { $0.sweepID = sweep; $0.law = law }) }
                    result.mixture = answer.mixture
                    result.predictedLoss = answer.predictedLoss
                    let report = JSONReport(answer.reportJson)
                    result.predictedLossInterval = report["interval"]?["predicted_loss"]?.numbers
                    result.predictedStratifiedLoss = report["references"]?["uniform"]?.number
                    break
                } catch let error as DemoError where error.code == .unavailable && ContinuousClock.now < deadline {
                    try await Task.sleep(for: .seconds(1))
                } catch let error as DemoError {
                    result.error = error.description
                    break
                }
            }
            results.append(result)
        }
        let reports = try await cluster.admin { try await $0.getFits(.with { $0.sweepID = sweep }).fitReportsJson }.map(JSONReport.init)
        for index in results.indices {
            // Fits are kept as a history; the newest of each law answers.
            guard let report = reports.last(where: { $0["law"]?.string == results[index].law }) else { continue }
            results[index].trainR2 = report["train"]?["r2"]?.number
            results[index].cvR2 = report["cv"]?["r2"]?.number
            results[index].cvMAE = report["cv"]?["mae"]?.number
        }
        return results
    }

    /// Trains the recommended and the stratified mixture with the same fresh seeds.
    private func verify(
        _ mixture: [String: Double], corpus: DemoCorpus, cluster: DemoCluster, summary: inout DemoSummary
    ) async throws -> DemoSummary.Verification {
        let out = configuration.outputDirectory
        let spec = DemoSweepSpecs.verification(configuration, corpus: corpus, recommended: mixture)
        try write(text: spec, to: out + "/verify.yaml", summary: &summary)
        let sweep = try await submit(spec, source: out + "/verify.yaml", cluster: cluster)
        let seeds = DemoSweepSpecs.verificationSeeds(configuration)
        say("verifying: sweep \(sweep) trains the recommended and the stratified mixture with seeds \(seeds.map(String.init).joined(separator: ", "))")
        _ = try await follow(sweep, cluster: cluster)
        let runs = try await cluster.admin { try await $0.listRuns(.with { $0.sweepID = sweep }).runs }
        // Runs are ordered by scale (seed), then design point: 0 recommended, 1 stratified.
        var recommended = [Double](repeating: .nan, count: seeds.count)
        var stratified = [Double](repeating: .nan, count: seeds.count)
        for run in runs where run.state == "succeeded" {
            let losses = configuration.domains.compactMap { run.finalLosses[$0.rawValue] }
            guard losses.count == configuration.domains.count else { continue }
            let mean = losses.reduce(0, +) / Double(losses.count)
            let seed = Int(run.index) / 2
            guard seed < seeds.count else { continue }
            if run.index % 2 == 0 { recommended[seed] = mean } else { stratified[seed] = mean }
        }
        let paired = seeds.indices.filter { recommended[$0].isFinite && stratified[$0].isFinite }
        guard !paired.isEmpty else { throw DemoError("no verification seed finished for both mixtures; see `mixlab runs ls \(sweep)`") }
        let verification = DemoSummary.Verification(
            sweepID: sweep, seeds: paired.map { seeds[$0] }, recommended: paired.map { recommended[$0] },
            stratified: paired.map { stratified[$0] },
            recommendedMean: paired.map { recommended[$0] }.reduce(0, +) / Double(paired.count),
            stratifiedMean: paired.map { stratified[$0] }.reduce(0, +) / Double(paired.count),
            recommendedWins: paired.filter { recommended[$0] < stratified[$0] }.count)
        say(DemoReport.verificationTable(verification))
        return verification
    }

    private func bestRun(_ loaded: LoadedMixtureRuns) -> (id: String, loss: Double)? {
        let losses = loaded.runs.aggregatedLosses
        guard let best = losses.indices.min(by: { losses[$0] < losses[$1] }) else { return nil }
        return (loaded.runIDs[best], losses[best])
    }

    private func write(text: String, to path: String, summary: inout DemoSummary) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        summary.files.append(path)
    }

    private func write(_ summary: DemoSummary, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try encoder.encode(summary).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    private func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}

extension Mixlab_V1_SweepStatus {
    func count(_ state: String) -> Int { Int(counts.first { $0.state == state }?.count ?? 0) }
}

/// A parsed JSON report from the coordinator, read by key path with optional results.
struct JSONReport: @unchecked Sendable {
    let value: Any?

    init(_ text: String) { value = try? JSONSerialization.jsonObject(with: Data(text.utf8)) }
    init(value: Any?) { self.value = value }

    subscript(key: String) -> JSONReport? {
        guard let object = value as? [String: Any], let child = object[key], !(child is NSNull) else { return nil }
        return JSONReport(value: child)
    }

    var number: Double? { (value as? NSNumber)?.doubleValue }
    var string: String? { value as? String }
    var numbers: [Double]? { (value as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } }
}
