import Foundation
import MixingLaws
import Testing

@testable import MixLabSweeps

@Suite("Sweep spec parsing and plans")
struct SweepSpecTests {
    @Test("the minimal smoke spec is accepted: 8 runs whose shares sum to 1")
    func smoke() throws {
        let spec = try SweepSpec.parse(yaml: SpecFixtures.smoke)
        #expect(spec.name == "smoke")
        #expect(spec.domainNames == ["a", "b"])
        #expect(spec.evalDomains == ["a", "b"])
        #expect(spec.trainer.maxAttempts == 3)
        #expect(spec.trainer.resources == ResourceSpec(cpus: 1, gpus: 0))
        #expect(spec.laws == ["dml", "linear"])
        #expect(spec.objective.targets == ["a": 0.5, "b": 0.5])
        let plan = try spec.resolve()
        #expect(plan.runs.count == 8)
        #expect(plan.runs.map(\.index) == Array(0..<8))
        for run in plan.runs {
            #expect(run.shares.count == 2)
            #expect(abs(run.shares.reduce(0, +) - 1) < 1e-9)
            #expect(run.shares.allSatisfy { $0 >= 0 })
        }
        #expect(Set(plan.runs.map(\.shares)).count == 8)
        #expect(plan.runs.map(\.seed) == Array(0..<8))
        #expect(plan.runs[3].budgetJSON == #"{"seed":3}"#)
        #expect(plan.specHash.count == 64)
    }

    @Test("list design keeps the given mixtures in order, absent domains at 0")
    func listDesign() throws {
        let yaml = SpecFixtures.smoke(
            replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: list, mixtures: [{a: 0.3, b: 0.7}, {a: 1}, {b: 0.25, a: 0.75}]}")
        let plan = try SweepSpec.parse(yaml: yaml).resolve()
        #expect(plan.runs.map(\.shares) == [[0.3, 0.7], [1, 0], [0.75, 0.25]])
        guard case .list(let list) = plan.spec.design else {
            Issue.record("expected a list design")
            return
        }
        #expect(list.mixtures[1] == ["a": 1, "b": 0])
    }

    @Test("grid design from a step, with bounds")
    func gridDesign() throws {
        let yaml = SpecFixtures.smoke(
            replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: grid, step: 0.1, bounds: {a: {min: 0.1, max: 0.9}}}")
        let plan = try SweepSpec.parse(yaml: yaml).resolve()
        #expect(plan.runs.count == 9)
        #expect(plan.runs.first?.shares == [0.1, 0.9])
        guard case .grid(let grid) = plan.spec.design else {
            Issue.record("expected a grid design")
            return
        }
        #expect(grid.k == 10)
        let threeDomains = SpecFixtures.smoke(replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: grid, k: 4}")
            .replacingOccurrences(of: "  - {name: b, path: /data/b}", with: "  - {name: b, path: /data/b}\n  - {name: c, path: /data/c}")
        #expect(try SweepSpec.parse(yaml: threeDomains).resolve().runs.count == 15)
    }

    @Test("dcpt design: N × r × D runs with model size and tokens in each budget")
    func dcptDesign() throws {
        let yaml = SpecFixtures.smoke(
            replacing: "{kind: dirichlet, runs: 8, seed: 1}",
            with: "{kind: dcpt, general: b, domain: a, model_sizes: [1000, 2000, 4000], tokens: [1e5, 2e5], ratios: [0, 0.25, 1]}"
        )
        .replacingOccurrences(of: "\"{run_id}\"", with: "\"{model_size}\", \"{tokens}\"")
        let spec = try SweepSpec.parse(yaml: yaml)
        #expect(spec.laws == ["dcpt"])
        let plan = try spec.resolve()
        #expect(plan.runs.count == 3 * 3 * 2)
        let second = plan.runs[3]
        #expect(second.budget.modelSize == 1000)
        #expect(second.budget.tokens == 200_000)
        // domain order is [a, b]; `a` is the domain corpus with ratio 0.25, `b` the general one.
        #expect(second.shares == [0.25, 0.75])
        #expect(plan.runs.last?.budget.modelSize == 4000)
    }

    @Test("dcpt with checkpoints: one run per size and ratio, evaluated at every token count")
    func dcptCheckpoints() throws {
        let plan = try SweepPlan.load(path: SpecFixtures.example("dcpt.yaml"))
        #expect(plan.runs.count == 3 * 7)
        #expect(plan.runs.allSatisfy { $0.budget.tokens == 1_000_000 && $0.budget.evalTokens == [250_000, 500_000, 1_000_000] })
        #expect(plan.runs.allSatisfy { $0.seed == 1 })
        #expect(plan.warnings.isEmpty)
    }

    @Test("scales: every design point at every scale, seeds shared across scales")
    func scales() throws {
        let yaml =
            SpecFixtures.smoke(replacing: "runs: 8", with: "runs: 4")
            .replacingOccurrences(of: "\"{run_id}\"", with: "\"{steps}\"")
            + "scales: [{steps: 100, seed: 10, lr: 0.001}, {steps: 400, seed: 10, lr: 0.0005}]\nlaws: [chinchilla, dml]\n"
        let plan = try SweepSpec.parse(yaml: yaml).resolve()
        #expect(plan.runs.count == 8)
        #expect(plan.runs.map(\.scale) == [0, 0, 0, 0, 1, 1, 1, 1])
        #expect(plan.runs.map(\.point) == [0, 1, 2, 3, 0, 1, 2, 3])
        #expect(plan.runs.map(\.seed) == [10, 11, 12, 13, 10, 11, 12, 13])
        #expect(plan.runs[0].shares == plan.runs[4].shares)
        #expect(plan.runs[5].budgetJSON == #"{"lr":0.0005,"seed":11,"steps":400}"#)
        #expect(plan.runs[5].budgetPlaceholders["steps"] == "400")
    }

    @Test("dirichlet_cover design gives the requested number of distinct mixtures")
    func dirichletCover() throws {
        let yaml = SpecFixtures.smoke(
            replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: dirichlet_cover, runs: 5, seed: 3, concentration: {a: 2}}")
        let plan = try SweepSpec.parse(yaml: yaml).resolve()
        #expect(plan.runs.count == 5)
        #expect(Set(plan.runs.map(\.shares)).count == 5)
        guard case .dirichletCover(let cover) = plan.spec.design else {
            Issue.record("expected a dirichlet_cover design")
            return
        }
        #expect(cover.concentration == ["a": 2, "b": 1])
        #expect(cover.oversampling == 16)
    }

    @Test("every optional section is read: trainer policy, env, objective, constraints, online")
    func fullSpec() throws {
        let yaml = SpecFixtures.smoke(replacing: "max_attempts: 3", with: """
            max_attempts: 5
              env: {OMP_NUM_THREADS: 1, HF_HOME: /tmp/hf}
              retry_on_exit_codes: [1, 137]
              no_retry_on_log_regex: ["CUDA out of memory", "^Killed$"]
            """)
            + """
            description: every section
            eval_domains: [a, b, held_out]
            objective: {targets: {held_out: 1}}
            constraints: {min: {a: 0.1}, max: {b: 0.8}}
            priority: 5
            max_concurrent_runs: 2
            budget: {steps: 1500}
            online: {method: aioli, rounds: 10, init_steps: 500, params: {eta: 0.1, sweeps_per_round: 2}}

            """
        let spec = try SweepSpec.parse(yaml: yaml)
        #expect(spec.trainer.maxAttempts == 5)
        #expect(spec.trainer.env == ["OMP_NUM_THREADS": "1", "HF_HOME": "/tmp/hf"])
        #expect(spec.trainer.retryOnExitCodes == [1, 137])
        #expect(spec.trainer.noRetryOnLogRegex == ["CUDA out of memory", "^Killed$"])
        #expect(spec.evalDomains == ["a", "b", "held_out"])
        #expect(spec.objective.targets == ["held_out": 1])
        #expect(spec.constraints == ConstraintsSpec(min: ["a": 0.1], max: ["b": 0.8]))
        #expect(spec.priority == 5)
        #expect(spec.maxConcurrentRuns == 2)
        #expect(spec.online == OnlineSpec(method: "aioli", rounds: 10, initSteps: 500, params: ["eta": 0.1, "sweeps_per_round": 2]))
        let configuration = try spec.online!.aioliConfiguration(domainCount: 2, totalSteps: 1500, initialMixture: [0.3, 0.7])
        #expect(configuration.roundSteps == 100 && configuration.sweepsPerRound == 2 && configuration.eta == 0.1)
        #expect(configuration.initialPhase?.steps == 500)
    }

    @Test("a spec written as JSON is read the same as its YAML")
    func jsonInput() throws {
        let json = """
            {"name": "smoke", "domains": [{"name": "a", "path": "/data/a"}, {"name": "b", "path": "/data/b"}],
             "design": {"kind": "dirichlet", "runs": 8, "seed": 1},
             "trainer": {"command": ["python3", "trainer.py", "--run", "{run_id}"], "resources": {"cpus": 1}, "max_attempts": 3}}
            """
        #expect(try SweepSpec.parse(yaml: json) == SweepSpec.parse(yaml: SpecFixtures.smoke))
    }

    @Test("a missing file is reported with its path")
    func missingFile() throws {
        let error = try #require(throws: SweepSpecError.self) { try SweepPlan.load(path: "/nonexistent/sweep.yaml") }
        #expect(error.description.hasPrefix("/nonexistent/sweep.yaml: (document): cannot be read"))
    }

    @Test("run_seeds: shared gives every run the budget's seed")
    func sharedSeeds() throws {
        let yaml = SpecFixtures.smoke(adding: "budget: {seed: 5}\nrun_seeds: shared")
        #expect(try SweepSpec.parse(yaml: yaml).resolve().runs.allSatisfy { $0.seed == 5 })
    }

    @Test("the plan and hash are deterministic, and change when the spec does")
    func determinism() throws {
        let first = try SweepSpec.parse(yaml: SpecFixtures.smoke).resolve()
        let second = try SweepSpec.parse(yaml: SpecFixtures.smoke).resolve()
        #expect(first == second)
        // Formatting and key order do not matter; content does.
        let reformatted = SpecFixtures.smoke.replacingOccurrences(
            of: "{kind: dirichlet, runs: 8, seed: 1}", with: "\n  seed: 1\n  kind: dirichlet\n  runs: 8")
        #expect(try SweepSpec.parse(yaml: reformatted).resolve().specHash == first.specHash)
        let reseeded = try SweepSpec.parse(yaml: SpecFixtures.smoke(replacing: "seed: 1", with: "seed: 2")).resolve()
        #expect(reseeded.specHash != first.specHash)
        #expect(reseeded.runs.map(\.shares) != first.runs.map(\.shares))
    }

    @Test("canonical JSON round-trips through JSONDecoder and through the YAML reader")
    func canonicalRoundTrip() throws {
        for name in SpecFixtures.exampleNames {
            let plan = try SweepPlan.load(path: SpecFixtures.example(name))
            let decoded = try JSONDecoder().decode(SweepSpec.self, from: Data(plan.specJSON.utf8))
            #expect(decoded == plan.spec, "\(name)")
            let reparsed = try SweepSpec.parse(yaml: plan.specJSON)
            #expect(reparsed == plan.spec, "\(name)")
            #expect(reparsed.hash == plan.specHash, "\(name)")
            #expect(plan.specHash == sha256Hex(plan.specJSON))
        }
    }

    @Test("the canonical JSON fills defaults and sorts keys")
    func canonicalDefaults() throws {
        let json = try SweepSpec.parse(yaml: SpecFixtures.smoke).canonicalJSON
        #expect(json.hasPrefix(#"{"budget":{},"constraints":{"max":{},"min":{}},"design":{"kind":"dirichlet","maximum_usage":15,"#))
        #expect(
            json.contains(
                #""trainer":{"command":["python3","trainer.py","--run","{run_id}"],"env":{},"max_attempts":3,"#
                    + #""no_retry_on_log_regex":[],"resources":{"cpus":1,"gpus":0}}"#
            ))
        #expect(json.contains(#""run_seeds":"distinct""#))
    }

    @Test("durations accept units and plain seconds")
    func durations() throws {
        #expect(DurationText.seconds("90s") == 90)
        #expect(DurationText.seconds("30m") == 1800)
        #expect(DurationText.seconds("1h30m") == 5400)
        #expect(DurationText.seconds("2h") == 7200)
        #expect(DurationText.seconds("45") == 45)
        #expect(DurationText.seconds("2 hours") == nil)
        #expect(DurationText.seconds("h") == nil)
        let spec = try SweepSpec.parse(yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "time_limit: 2h\n  no_report_timeout: 600"))
        #expect(spec.trainer.timeLimit == 7200)
        #expect(spec.trainer.noReportTimeout == 600)
    }

    @Test("placeholders are identifiers in braces; other braces are left alone")
    func placeholders() {
        #expect(Placeholders.names(in: "--out={work_dir}/{run_id}.log") == ["work_dir", "run_id"])
        #expect(Placeholders.names(in: #"{"a": 1}"#).isEmpty)
        #expect(Placeholders.substitute("{run_id}-{x}-{seed}", ["run_id": "s/3", "seed": "7"]) == "s/3-{x}-7")
    }

    @Test("plain scalars follow YAML 1.2: `no` stays a string, 1_000 is a number")
    func scalarResolution() {
        #expect(SpecNode.classify("no") == .string("no"))
        #expect(SpecNode.classify("1_000") == .int(1000))
        #expect(SpecNode.classify("2e9") == .float(2e9))
        #expect(SpecNode.classify("~") == .null)
        #expect(SpecNode.classify("1.2.3") == .string("1.2.3"))
    }

    @Test("the examples resolve", arguments: SpecFixtures.exampleNames)
    func examples(_ name: String) throws {
        let plan = try SweepPlan.load(path: SpecFixtures.example(name))
        #expect(!plan.runs.isEmpty)
        for run in plan.runs { #expect(abs(run.shares.reduce(0, +) - 1) < 1e-9) }
    }

    @Test("constraints convert to the solver's form, with epoch caps when a target size is known")
    func mixtureConstraints() throws {
        let plan = try SweepPlan.load(path: SpecFixtures.example("regmix-demo.yaml"))
        let constraints = try plan.spec.constraints.mixtureConstraints(domains: plan.spec.domains)
        let region = try constraints.feasibleRegion()
        // math: 5M tokens × 4 epochs / 50M target = 0.4, below its max of 0.5.
        #expect(abs(region.upper[3] - 0.4) < 1e-12)
        #expect(region.lower[2] == 0.05)
    }
}
