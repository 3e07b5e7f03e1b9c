import Foundation
import GRPCCore
import MixLabCore
import MixLabRPC
import MixLabStore
import MixLabSweeps
import Yams

extension Coordinator {
    /// Validates a spec again (the CLI validated it too, but the coordinator trusts no client),
    /// expands its design and writes the sweep with every run in one transaction. Idempotent on
    /// `clientKey`: a repeat returns the first sweep and writes nothing.
    func submit(specYAML: String, clientKey: String) async throws -> Mixlab_V1_SubmitSweepResponse {
        let plan: SweepPlan
        do {
            plan = try SweepSpec.parse(yaml: specYAML).resolve()
        } catch {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
        let id = SweepID(Self.newSweepID(name: plan.spec.name))
        let sweep = NewSweep(
            id: id, name: plan.spec.name, clientKey: clientKey.isEmpty ? nil : clientKey, specJSON: plan.specJSON,
            specHash: plan.specHash, domains: plan.domains, evalDomains: plan.evalDomains, priority: plan.spec.priority,
            maxAttempts: plan.spec.trainer.maxAttempts, maxConcurrentRuns: plan.spec.maxConcurrentRuns,
            runs: plan.runs.map { NewRun(index: $0.index, shares: $0.shares, budgetJSON: $0.budgetJSON, gpus: $0.gpus, cpus: $0.cpus) })
        let stored = try await store.createSweep(sweep)
        let created = stored.id == id
        if created {
            try await store.recordEvent(sweep: id, run: nil, kind: "sweep_submitted", detail: "\(plan.runs.count) runs, spec \(plan.specHash)")
            logger.info("sweep submitted", metadata: ["mixlab.sweep": "\(id)", "mixlab.runs": "\(plan.runs.count)"])
            wakeScheduler()
        }
        return .with {
            $0.sweepID = stored.id.rawValue
            $0.created = created
            $0.runs = Int32(stored.runCounts.values.reduce(0, +))
        }
    }

    /// Appends the runs of another design to a sweep: the stored spec with its `design` replaced
    /// is validated and expanded like a new submission (same domains, budget and trainer); an
    /// online sweep's `online.compare` baselines are not added again.
    func addRuns(to id: SweepID, designYAML: String) async throws -> SweepRecord {
        guard let record = try await store.sweep(id) else { throw StoreError(.unknownSweep, "no sweep \(id); `mixlab sweep ls` lists them") }
        let design: Any
        do {
            guard let loaded = try Yams.load(yaml: designYAML) else { throw YamlError.dataCouldNotBeDecoded(encoding: .utf8) }
            design = loaded
        } catch {
            throw RPCError(code: .invalidArgument, message: "design: not valid YAML (\(error)); give e.g. {kind: list, mixtures: [{web: 0.5, code: 0.5}]}")
        }
        guard var spec = try JSONSerialization.jsonObject(with: Data(record.specJSON.utf8)) as? [String: Any] else {
            throw RPCError(code: .internalError, message: "sweep \(id) has an unreadable stored spec")
        }
        spec["design"] = design
        let merged = String(decoding: try JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys]), as: UTF8.self)
        let plan: SweepPlan
        do {
            plan = try SweepSpec.parse(yaml: merged).resolve()
        } catch {
            throw RPCError(code: .invalidArgument, message: error.description)
        }
        // Only the design's runs are added: the `online.compare` baselines already ran with the sweep.
        let added = plan.runs.filter { $0.budget.mixingMethod == nil || $0.budget.mixingMethod == .aioli }
        let updated = try await store.addRuns(
            to: id, runs: added.map { NewRun(index: $0.index, shares: $0.shares, budgetJSON: $0.budgetJSON, gpus: $0.gpus, cpus: $0.cpus) })
        try await store.recordEvent(sweep: id, run: nil, kind: "runs_added", detail: "\(added.count) runs")
        wakeScheduler()
        return updated
    }

    /// `NAME-YYYYMMDD-HHMMSS-XXXX`: readable, sortable by time, unique.
    static func newSweepID(name: String) -> String {
        let safe = String(name.lowercased().map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "-" }.prefix(32))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let tag = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "\(safe.isEmpty ? "sweep" : safe)-\(formatter.string(from: Date()))-\(String(repeating: "0", count: 4 - tag.count))\(tag)"
    }
}

extension SweepRuntime {
    /// Reads the runtime settings from the resolved spec JSON the sweep was stored with.
    init(specJSON: String, record: SweepRecord) throws {
        let spec = try JSONDecoder().decode(SweepSpec.self, from: Data(specJSON.utf8))
        let targets = spec.objective.targets
        self.init(
            domains: record.domains,
            domainPaths: Dictionary(uniqueKeysWithValues: spec.domains.map { ($0.name, $0.path) }),
            evalDomains: record.evalDomains,
            command: spec.trainer.command,
            environment: spec.trainer.env,
            timeLimitSeconds: Double(spec.trainer.timeLimit ?? 0),
            noReportTimeoutSeconds: Double(spec.trainer.noReportTimeout ?? 0),
            killGraceSeconds: 10,
            retryOnExitCodes: spec.trainer.retryOnExitCodes.map { Set($0.map { Int32(truncatingIfNeeded: $0) }) },
            noRetryLogPatterns: spec.trainer.noRetryOnLogRegex,
            seed: 0,
            laws: spec.laws,
            objective: targets.isEmpty ? Dictionary(uniqueKeysWithValues: record.evalDomains.map { ($0, 1.0) }) : targets)
        if case .dcpt(let design) = spec.design { dcpt = (design.general, design.domain) }
        online = spec.online
        maxPreemptions = spec.trainer.maxPreemptions ?? TrainerSpec.defaultMaxPreemptions
    }
}
