import MixLabCore
import MixLabRunner
import Testing

@Suite("Trainer command rendering")
struct TrainerCommandTests {
    let spec = AttemptSpec(
        runID: RunID("r-1"), sweepID: SweepID("s-1"), attempt: 2, seed: 11,
        domains: [DomainData(name: "a", path: "/data/a"), DomainData(name: "b", path: "/data/b")],
        mixture: ["a": 0.3, "b": 0.7], budget: ["steps": .integer(1000), "lr": .number(0.5), "size": .string("20M")],
        command: ["python3", "train.py", "--run", "{run_id}", "--steps", "{steps}", "--lr={lr}", "{size}"],
        environment: ["OUT": "{work_dir}/out"], gpus: [1], workDirectory: "/w/r-1/2")

    @Test func rendersArgumentsAndEnvironment() throws {
        let invocation = try TrainerCommand.render(spec, controlPath: "/w/r-1/2/control.sock")
        #expect(invocation.arguments == ["python3", "train.py", "--run", "r-1", "--steps", "1000", "--lr=0.5", "20M"])
        #expect(invocation.environment == [
            "OUT": "/w/r-1/2/out", "MIXLAB_RUN_ID": "r-1", "MIXLAB_SWEEP_ID": "s-1", "MIXLAB_ATTEMPT": "2",
            "MIXLAB_MIXTURE": #"{"a":0.3,"b":0.7}"#, "MIXLAB_BUDGET": #"{"lr":0.5,"size":"20M","steps":1000}"#,
            "MIXLAB_DOMAINS": #"{"a":"/data/a","b":"/data/b"}"#, "MIXLAB_CONTROL": "/w/r-1/2/control.sock",
            "MIXLAB_PROTOCOL": "1", "CUDA_VISIBLE_DEVICES": "1",
        ])
        #expect(invocation.shellText().hasSuffix("\npython3 train.py --run r-1 --steps 1000 --lr=0.5 20M"))
        #expect(invocation.shellText().contains(#"MIXLAB_MIXTURE='{"a":0.3,"b":0.7}'"#))
    }

    @Test func listPlaceholderBecomesCommaSeparated() throws {
        var spec = spec
        spec.budget["eval_tokens"] = .array([.integer(250_000), .integer(500_000), .integer(1_000_000)])
        spec.command = ["mixlab", "proxy", "train", "--eval-tokens", "{eval_tokens}"]
        let invocation = try TrainerCommand.render(spec, controlPath: "/c.sock")
        #expect(invocation.arguments.last == "250000,500000,1000000")
    }

    @Test func fullEnvironmentInheritsButDropsTheWorkersOwnMixLabVariables() throws {
        let invocation = try TrainerCommand.render(spec, controlPath: "/c.sock")
        let full = invocation.fullEnvironment(inheriting: [
            "PATH": "/usr/bin", "HOME": "/home/u", "MIXLAB_KEY": "/etc/mixlab/worker.key",
            "CUDA_VISIBLE_DEVICES": "0,1",
        ])
        #expect(full["PATH"] == "/usr/bin")
        #expect(full["HOME"] == "/home/u")
        #expect(full["MIXLAB_KEY"] == nil)
        #expect(full["CUDA_VISIBLE_DEVICES"] == "1")
    }

    @Test func unknownPlaceholderNamesItAndTheKnownOnes() {
        var spec = spec
        spec.command.append("{learning_rate}")
        do {
            _ = try TrainerCommand.render(spec, controlPath: "/c.sock")
            Issue.record("an unknown placeholder was accepted")
        } catch {
            #expect(error.field == "trainer.command[8]")
            #expect(error.problem == "unknown placeholder {learning_rate}")
            #expect(error.fix.contains("{run_id}"))
            #expect(error.fix.contains("{steps}"))
        }
    }

    @Test func reservedVariableInTheSweepEnvironmentIsRefused() {
        var spec = spec
        spec.environment["CUDA_VISIBLE_DEVICES"] = "3"
        #expect(throws: MixLabInputError.self) { try TrainerCommand.render(spec, controlPath: "/c.sock") }
    }

    @Test func bracesThatAreNotPlaceholdersStay() throws {
        let values = ["a": "1"]
        #expect(try TrainerCommand.substitute(#"{"x": {a}}"#, values: values, field: "f") == #"{"x": 1}"#)
        #expect(try TrainerCommand.substitute("{} { a } {a}{a} {", values: values, field: "f") == "{} { a } 11 {")
    }

    @Test func emptyCommandIsRefused() {
        var spec = spec
        spec.command = []
        #expect(throws: MixLabInputError.self) { try TrainerCommand.render(spec, controlPath: "/c.sock") }
    }
}
