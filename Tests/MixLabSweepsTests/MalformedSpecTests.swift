import Testing

@testable import MixLabSweeps

/// A malformed spec and fragments its error message must contain (the path, the problem, the fix).
struct BadSpec: Sendable, CustomTestStringConvertible {
    var label: String
    var yaml: String
    var expected: [String]
    var testDescription: String { label }
}

@Suite("Malformed sweep specs")
struct MalformedSpecTests {
    static let cases: [BadSpec] = [
        BadSpec(
            label: "YAML syntax error", yaml: "name: x\ndomains: [{name: a, path: /a}\ntrainer: {}\n",
            expected: ["line 3", "(document): YAML syntax error", "fix the YAML"]),
        BadSpec(
            label: "duplicated key", yaml: SpecFixtures.smoke(adding: "name: again"),
            expected: ["key `name` appears twice", "keep one"]),
        BadSpec(
            label: "typo in a top-level key", yaml: SpecFixtures.smoke(adding: "lawz: [dml]"),
            expected: ["lawz: unknown key `lawz`", "did you mean `laws`?"]),
        BadSpec(
            label: "typo in a trainer key", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "max_attemps: 3"),
            expected: ["trainer.max_attemps: unknown key", "did you mean `max_attempts`?"]),
        BadSpec(
            label: "camelCase key", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "maxAttempts: 3"),
            expected: ["trainer.maxAttempts: unknown key", "did you mean `max_attempts`?"]),
        BadSpec(
            label: "missing name", yaml: SpecFixtures.smoke(replacing: "name: smoke\n", with: ""),
            expected: ["name: is missing", "give the sweep a name"]),
        BadSpec(
            label: "missing command",
            yaml: SpecFixtures.smoke(replacing: "  command: [\"python3\", \"trainer.py\", \"--run\", \"{run_id}\"]\n", with: ""),
            expected: ["trainer.command: is missing", "give the program and its arguments"]),
        BadSpec(
            label: "empty command", yaml: SpecFixtures.smoke(replacing: "[\"python3\", \"trainer.py\", \"--run\", \"{run_id}\"]", with: "[]"),
            expected: ["trainer.command: is an empty list"]),
        BadSpec(
            label: "negative gpus", yaml: SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{cpus: 1, gpus: -1}"),
            expected: ["trainer.resources.gpus: is -1", "use 0 or more GPUs"]),
        BadSpec(
            label: "zero cpus", yaml: SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{cpus: 0}"),
            expected: ["trainer.resources.cpus: is 0", "use 1 or more CPU slots"]),
        BadSpec(
            label: "gpus of the wrong type", yaml: SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{gpus: two}"),
            expected: ["trainer.resources.gpus: expected a whole number, found the string \"two\""]),
        BadSpec(
            label: "duplicate domain names", yaml: SpecFixtures.smoke(replacing: "{name: b, path: /data/b}", with: "{name: a, path: /data/b}"),
            expected: ["domains[1].name: `a` is also the name of domains[0]", "give every domain a different name"]),
        BadSpec(
            label: "invalid domain name", yaml: SpecFixtures.smoke(replacing: "{name: a, path: /data/a}", with: "{name: \"a b\", path: /data/a}"),
            expected: ["domains[0].name: `a b` is not a valid domain name", "for example `a_b`"]),
        BadSpec(
            label: "domains not a list",
            yaml: SpecFixtures.smoke(replacing: "  - {name: a, path: /data/a}\n  - {name: b, path: /data/b}", with: "  a: /data/a"),
            expected: ["domains: expected a list, found a mapping"]),
        BadSpec(
            label: "missing domain path", yaml: SpecFixtures.smoke(replacing: "{name: b, path: /data/b}", with: "{name: b}"),
            expected: ["domains[1].path: is missing"]),
        BadSpec(
            label: "shares not summing to 1",
            yaml: SpecFixtures.smoke(
                replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: list, mixtures: [{a: 0.5, b: 0.5}, {a: 0.3, b: 0.6}]}"),
            expected: ["design.mixtures[1]: shares sum to 0.9, not 1 (tolerance 1e-6)", "make the shares of this mixture sum to 1"]),
        BadSpec(
            label: "negative share",
            yaml: SpecFixtures.smoke(replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: list, mixtures: [{a: -0.5, b: 1.5}]}"),
            expected: ["design.mixtures[0].a: share is negative (-0.5)"]),
        BadSpec(
            label: "mixture key not a domain",
            yaml: SpecFixtures.smoke(replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: list, mixtures: [{a: 0.5, bb: 0.5}]}"),
            expected: ["design.mixtures[0]: `bb` is not a domain of this sweep", "did you mean `b`?"]),
        BadSpec(
            label: "repeated mixture",
            yaml: SpecFixtures.smoke(
                replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: list, mixtures: [{a: 0.5, b: 0.5}, {b: 0.5, a: 0.5}]}"),
            expected: ["design.mixtures[1]: is the same mixture as design.mixtures[0]"]),
        BadSpec(
            label: "min above max", yaml: SpecFixtures.smoke(adding: "constraints: {min: {a: 0.6}, max: {a: 0.4}}"),
            expected: ["constraints.min: the minimum share of `a` (0.6) is above its maximum (0.4)", "make constraints.min.a ≤ constraints.max.a"]),
        BadSpec(
            label: "minimum shares above 1", yaml: SpecFixtures.smoke(adding: "constraints: {min: {a: 0.7, b: 0.5}}"),
            expected: ["constraints.min: the minimum shares sum to 1.2, more than 1"]),
        BadSpec(
            label: "maximum shares below 1", yaml: SpecFixtures.smoke(adding: "constraints: {max: {a: 0.3, b: 0.3}}"),
            expected: ["constraints.max: the maximum shares sum to 0.6, less than 1"]),
        BadSpec(
            label: "unknown law", yaml: SpecFixtures.smoke(adding: "laws: [dml, linaer]"),
            expected: ["laws[1]: unknown law `linaer`", "did you mean `linear`?"]),
        BadSpec(
            label: "scaling law without scales", yaml: SpecFixtures.smoke(adding: "laws: [dcpt]"),
            expected: ["laws[0]: `dcpt` is a scaling law", "use `design: {kind: dcpt, …}` or several `scales`"]),
        BadSpec(
            label: "unknown design kind", yaml: SpecFixtures.smoke(replacing: "kind: dirichlet", with: "kind: dirichlett"),
            expected: ["design.kind: unknown design kind `dirichlett`", "did you mean `dirichlet`?"]),
        BadSpec(
            label: "missing design kind", yaml: SpecFixtures.smoke(replacing: "kind: dirichlet, ", with: ""),
            expected: ["design.kind: is missing", "`dirichlet`, `dirichlet_cover`, `grid`, `list`, `dcpt`"]),
        BadSpec(
            label: "zero runs", yaml: SpecFixtures.smoke(replacing: "runs: 8", with: "runs: 0"),
            expected: ["design.runs: is 0", "use between 1 and 100000 runs"]),
        BadSpec(
            label: "absurdly many runs", yaml: SpecFixtures.smoke(replacing: "runs: 8", with: "runs: 1e7"),
            expected: ["design.runs: is 10000000", "use between 1 and 100000 runs"]),
        BadSpec(
            label: "grid too large",
            yaml: SpecFixtures.smoke(replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: grid, step: 0.001}")
                .replacingOccurrences(of: "  - {name: b, path: /data/b}", with: "  - {name: b, path: /data/b}\n  - {name: c, path: /data/c}"),
            expected: ["design: expands to 501501 runs (501501 design points × 1 scale(s)), more than 100000", "use a coarser grid"]),
        BadSpec(
            label: "grid step that does not divide 1",
            yaml: SpecFixtures.smoke(replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: grid, step: 0.3}"),
            expected: ["design.step: is 0.3, which does not divide 1 into whole steps"]),
        BadSpec(
            label: "zero max_attempts", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "max_attempts: 0"),
            expected: ["trainer.max_attempts: is 0", "use 1 (no retries) or more"]),
        BadSpec(
            label: "negative max_preemptions", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "max_preemptions: -1"),
            expected: ["trainer.max_preemptions: is -1", "use 0 (a preemption uses up an attempt) to 1000"]),
        BadSpec(
            label: "bad duration", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "time_limit: 2 hours"),
            expected: ["trainer.time_limit: the string \"2 hours\" is not a duration", "`90s`, `30m`, `2h`"]),
        BadSpec(
            label: "invalid regex", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "no_retry_on_log_regex: [\"CUDA (out of memory\"]"),
            expected: ["trainer.no_retry_on_log_regex[0]: `CUDA (out of memory` is not a valid regular expression"]),
        BadSpec(
            label: "unknown placeholder", yaml: SpecFixtures.smoke(replacing: "\"{run_id}\"", with: "\"{run}\""),
            expected: ["trainer.command[3]: unknown placeholder `{run}`", "did you mean `{run_id}`?"]),
        BadSpec(
            label: "budget placeholder without the budget key", yaml: SpecFixtures.smoke(replacing: "\"{run_id}\"", with: "\"{steps}\""),
            expected: ["trainer.command[3]: unknown placeholder `{steps}`", "budget keys are valid only when every run's budget sets them"]),
        BadSpec(
            label: "reserved environment variable", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "env: {MIXLAB_RUN_ID: x}"),
            expected: ["trainer.env.MIXLAB_RUN_ID: `MIXLAB_RUN_ID` is reserved"]),
        BadSpec(
            label: "exit code zero retried", yaml: SpecFixtures.smoke(replacing: "max_attempts: 3", with: "retry_on_exit_codes: [0, 137]"),
            expected: ["trainer.retry_on_exit_codes[0]: exit code 0 is out of range", "0 is success"]),
        BadSpec(
            label: "budget and scales together", yaml: SpecFixtures.smoke(adding: "budget: {steps: 10}\nscales: [{steps: 20}]"),
            expected: ["scales: is given together with `budget`"]),
        BadSpec(
            label: "misspelt budget key", yaml: SpecFixtures.smoke(adding: "budget: {step: 10}"),
            expected: ["budget.step: `step` looks like a misspelling of `steps`", "did you mean `steps`?"]),
        BadSpec(
            label: "seed too large", yaml: SpecFixtures.smoke(adding: "budget: {seed: 9_000_000_000}"),
            expected: ["budget.seed: is 9000000000", "use a whole number from 0 to 2000000000"]),
        BadSpec(
            label: "non-scalar extra budget key", yaml: SpecFixtures.smoke(adding: "budget: {schedule: [1, 2]}"),
            expected: ["budget.schedule: is a list; extra budget keys hold one scalar"]),
        BadSpec(
            label: "dcpt with three domains",
            yaml: SpecFixtures.smoke(
                replacing: "{kind: dirichlet, runs: 8, seed: 1}", with: "{kind: dcpt, model_sizes: [10, 20, 30], tokens: [100, 200, 300]}"
            )
            .replacingOccurrences(of: "  - {name: b, path: /data/b}", with: "  - {name: b, path: /data/b}\n  - {name: c, path: /data/c}"),
            expected: ["domains: has 3 domains, but the dcpt design mixes exactly 2"]),
        BadSpec(
            label: "objective target not an eval domain", yaml: SpecFixtures.smoke(adding: "objective: {targets: {a: 1, z: 1}}"),
            expected: ["objective.targets.z: `z` is not an evaluation domain of this sweep", "use one of: a, b"]),
        BadSpec(
            label: "max_concurrent_runs zero", yaml: SpecFixtures.smoke(adding: "max_concurrent_runs: 0"),
            expected: ["max_concurrent_runs: is 0", "use 1 or more"]),
        BadSpec(
            label: "unknown online method", yaml: SpecFixtures.smoke(adding: "online: {method: doremi}"),
            expected: ["online.method: unknown online method `doremi`", "use one of: aioli"]),
        BadSpec(
            label: "unknown Aioli parameter", yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, params: {delta: 0.1}}"),
            expected: ["online.params: `delta` is not an Aioli parameter", "eta"]),
        BadSpec(
            label: "Aioli without steps", yaml: SpecFixtures.smoke(adding: "budget: {tokens: 400}\nonline: {method: aioli}"),
            expected: ["online: Aioli needs every run's length in steps", "budget: {steps: N}"]),
        BadSpec(
            label: "Aioli rounds that do not divide the steps", yaml: SpecFixtures.smoke(adding: "budget: {steps: 405}\nonline: {method: aioli, rounds: 10}"),
            expected: ["online: with 405 steps: online.rounds 10 rounds do not divide the 405 steps", "choose rounds that divide"]),
        BadSpec(
            label: "Aioli rounds too short for the learn segments",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 100}\nonline: {method: aioli, rounds: 10}"),
            expected: ["online: with 100 steps:"]),
        BadSpec(
            label: "a grid baseline of one mixture",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {stratified: true, grid: 1}}"),
            expected: ["online.compare.grid: is 1", "use 2 or more mixtures"]),
        BadSpec(
            label: "a compare block without baselines",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {stratified: false}}"),
            expected: ["online.compare: adds no baseline", "`stratified: true` and/or `grid: N`"]),
        BadSpec(
            label: "typo in a compare key",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {stratified: true, grids: 4}}"),
            expected: ["online.compare.grids: unknown key `grids`", "did you mean `grid`?"]),
        BadSpec(
            label: "compare outside online", yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\ncompare: {stratified: true}"),
            expected: ["compare: compares baselines with an online method, so it belongs inside `online`", "move it under `online:`"]),
        BadSpec(
            label: "grid_seed without grid",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {stratified: true, grid_seed: 3}}"),
            expected: ["online.compare.grid_seed: is given without `grid`"]),
        BadSpec(
            label: "static baselines that would run the online trainer",
            yaml: SpecFixtures.smoke(replacing: #""--run", "{run_id}""#, with: #""--online""#)
                + "budget: {steps: 400}\nonline: {method: aioli, compare: {grid: 4}}\n",
            expected: ["online.compare: runs its static baselines with trainer.command, which asks for `--online`", "online.command"]),
        BadSpec(
            label: "an unknown placeholder in the online command",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, command: [train, --online, \"{stepz}\"]}"),
            expected: ["online.command[2]: unknown placeholder `{stepz}`", "did you mean `{steps}`?"]),
        BadSpec(
            label: "a budget that sets the run's method itself",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400, mixing_method: grid}"),
            expected: ["budget.mixing_method: is set by MixLab on each run of an online sweep", "remove it"]),
        BadSpec(
            label: "baselines that take the sweep past the run limit",
            yaml: SpecFixtures.smoke(replacing: "runs: 8", with: "runs: 11")
                + "budget: {steps: 400}\nonline: {method: aioli, compare: {grid: 10000}}\n",
            expected: ["design: expands to 110011 runs (11 design points × 1 scale(s) + 110000 online.compare runs)"]),
        BadSpec(
            label: "laws in an online sweep without static runs to fit them to",
            yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {stratified: true}}\nlaws: [dml]"),
            expected: ["laws: are fitted to static runs with different mixtures, and this online sweep has none", "compare: {grid: N}"]),
        BadSpec(
            label: "the run's method as a placeholder of a static sweep",
            yaml: SpecFixtures.smoke(replacing: #""{run_id}""#, with: #""{mixing_method}""#),
            expected: ["unknown placeholder `{mixing_method}`"]),
        BadSpec(label: "empty document", yaml: "# nothing\n", expected: ["(document): is empty"]),
    ]

    @Test("each malformed spec is rejected with its path and fix", arguments: cases)
    func rejected(_ bad: BadSpec) {
        #expect(throws: SweepSpecError.self) { try SweepSpec.parse(yaml: bad.yaml) }
        do {
            _ = try SweepSpec.parse(yaml: bad.yaml)
        } catch {
            let text = error.description
            for fragment in bad.expected {
                #expect(text.contains(fragment), "\(bad.label): expected «\(fragment)» in:\n\(text)")
            }
        }
    }

    @Test("the table covers at least 20 cases")
    func tableSize() {
        #expect(Self.cases.count >= 20)
    }

    @Test("every problem is reported, not only the first")
    func collectsAll() throws {
        let yaml = SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{cpus: 0, gpus: -2}")
            .replacingOccurrences(of: "runs: 8", with: "runs: -1")
            .replacingOccurrences(of: "max_attempts: 3", with: "max_attempts: 0\n  bogus: 1")
        let error = try #require(throws: SweepSpecError.self) { try SweepSpec.parse(yaml: yaml) }
        #expect(
            Set(error.issues.map(\.path)) == [
                "design.runs", "trainer.resources.cpus", "trainer.resources.gpus", "trainer.max_attempts", "trainer.bogus",
            ])
        let lines = error.issues.compactMap(\.line)
        #expect(lines.count == 5)
        #expect(lines == lines.sorted(), "issues are listed in file order")
    }

    @Test("issues carry the line and column of the offending value")
    func locations() throws {
        let yaml = SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{cpus: 1, gpus: -1}")
        let error = try #require(throws: SweepSpecError.self) { try SweepSpec.parse(yaml: yaml, file: "s.yaml") }
        let issue = try #require(error.issues.first)
        #expect(issue.line == 8)
        #expect(issue.column == 30)
        #expect(error.lines == ["s.yaml: line 8, column 30: trainer.resources.gpus: is -1; use 0 or more GPUs (at most 64)"])
    }
}
