import Foundation
import MixLabAnalysis
import MixingLaws
import Testing

@testable import MixLabSweeps

@Suite("Online sweeps with comparison baselines")
struct OnlineCompareTests {
    static func spec(runSeeds: String = "shared", design: String = "{kind: list, mixtures: [{a: 0.2, b: 0.3, c: 0.5}]}", scales: String) -> String {
        """
        name: compare
        domains: [{name: a, path: /a}, {name: b, path: /b}, {name: c, path: /c}]
        design: \(design)
        trainer: {command: [train, --steps, "{steps}", --seed, "{seed}"]}
        scales: \(scales)
        run_seeds: \(runSeeds)
        online:
          method: aioli
          rounds: 4
          command: [train, --online, --seed, "{seed}"]
          compare: {stratified: true, grid: 3, grid_seed: 7}
        laws: []
        """
    }

    @Test("command and compare are read; the canonical JSON reads back to the same spec")
    func parsed() throws {
        let spec = try SweepSpec.parse(yaml: Self.spec(scales: "[{steps: 400, seed: 1}]"))
        #expect(spec.online?.command == ["train", "--online", "--seed", "{seed}"])
        #expect(spec.online?.compare == CompareSpec(stratified: true, grid: 3, gridSeed: 7))
        #expect(try JSONDecoder().decode(SweepSpec.self, from: Data(spec.canonicalJSON.utf8)) == spec)
        let defaults = try SweepSpec.parse(yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {grid: 2}}"))
        #expect(defaults.online?.compare == CompareSpec(stratified: false, grid: 2, gridSeed: 0))
    }

    @Test("per scale (seed): the Aioli run, then one stratified and N grid runs with the same budget and seed")
    func expansion() throws {
        let plan = try SweepSpec.parse(yaml: Self.spec(scales: "[{steps: 400, seed: 1}, {steps: 400, seed: 2}]")).resolve()
        let methods: [ComparedMethod?] = plan.runs.map(\.budget.mixingMethod)
        let expected: [ComparedMethod?] = [.aioli, .aioli, .stratified, .grid, .grid, .grid, .stratified, .grid, .grid, .grid]
        #expect(methods == expected)
        #expect(plan.runs.map(\.index) == Array(0..<10))
        #expect(plan.runs.map(\.seed) == [1, 2, 1, 1, 1, 1, 2, 2, 2, 2])
        #expect(plan.runs.allSatisfy { $0.budget.steps == 400 && $0.budget.seed == $0.seed })
        let third: Double = 1.0 / 3
        #expect(plan.runs[2].shares == [third, third, third])
        let cover = try SweepDesign.dirichletCover(DirichletCover(count: 3, concentration: [1, 1, 1])).generate(domains: ["a", "b", "c"], seed: 7)
        let gridShares: [[Double]] = cover.points.map(\.shares)
        let firstSeed: [[Double]] = plan.runs[3...5].map(\.shares)
        let secondSeed: [[Double]] = plan.runs[7...9].map(\.shares)
        #expect(firstSeed == gridShares)
        #expect(secondSeed == gridShares, "every seed trains the same grid")
        #expect(plan.runs[3...5].map(\.point) == [0, 1, 2])
        #expect(plan.runs[4].budgetJSON == #"{"mixing_method":"grid","seed":1,"steps":400}"#)
        #expect(plan.runs[0].budget.comparisonPair == plan.runs[4].budget.comparisonPair)
        #expect(plan.runs[0].budget.comparisonPair != plan.runs[1].budget.comparisonPair)
        #expect(plan.spec.command(for: plan.runs[0].budget.mixingMethod) == ["train", "--online", "--seed", "{seed}"])
        #expect(plan.spec.command(for: plan.runs[2].budget.mixingMethod) == ["train", "--steps", "{steps}", "--seed", "{seed}"])
        #expect(plan.spec.command(for: plan.runs[3].budget.mixingMethod) == plan.spec.trainer.command)
    }

    @Test("with distinct run seeds, every design point's seed gets its own baselines")
    func distinctSeeds() throws {
        let plan = try SweepSpec.parse(
            yaml: Self.spec(
                runSeeds: "distinct", design: "{kind: list, mixtures: [{a: 0.2, b: 0.3, c: 0.5}, {a: 0.6, b: 0.2, c: 0.2}]}",
                scales: "[{steps: 400, seed: 10}]")
        ).resolve()
        #expect(plan.runs.count == 2 + 2 * 4)
        #expect(plan.runs.filter { $0.budget.mixingMethod == .stratified }.map(\.seed) == [10, 11])
        #expect(plan.runs.filter { $0.budget.mixingMethod == .grid }.map(\.seed) == [10, 10, 10, 11, 11, 11])
    }

    @Test("an online sweep without compare marks its runs aioli; a static sweep's budgets are unchanged")
    func roles() throws {
        let online = try SweepSpec.parse(yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli}")).resolve()
        #expect(online.runs.count == 8 && online.runs.allSatisfy { $0.budget.mixingMethod == .aioli })
        #expect(online.spec.command(for: .aioli) == online.spec.trainer.command, "without online.command every run uses trainer.command")
        let plain = try SweepSpec.parse(yaml: SpecFixtures.smoke).resolve()
        #expect(plain.runs.allSatisfy { $0.budget.mixingMethod == nil && !$0.budgetJSON.contains("mixing_method") })
    }

    @Test("an online sweep fits no law by default unless grid baselines give it static mixtures")
    func defaultLaws() throws {
        let online = try SweepSpec.parse(yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli}"))
        #expect(online.laws.isEmpty)
        let withGrid = try SweepSpec.parse(yaml: SpecFixtures.smoke(adding: "budget: {steps: 400}\nonline: {method: aioli, compare: {grid: 4}}"))
        #expect(withGrid.laws == ["dml", "linear"])
    }

    @Test("{mixing_method} names each run's method in an online sweep's commands")
    func methodPlaceholder() throws {
        let yaml = Self.spec(scales: "[{steps: 400, seed: 1}]")
            .replacingOccurrences(of: "command: [train, --online,", with: "command: [train, --online, --save, \"ck-{mixing_method}.bin\",")
            .replacingOccurrences(of: "trainer: {command: [train,", with: "trainer: {command: [train, --tag, \"{mixing_method}\",")
        let plan = try SweepSpec.parse(yaml: yaml).resolve()
        let filled = plan.runs.map { run in
            plan.spec.command(for: run.budget.mixingMethod).map {
                Placeholders.substitute($0, ["mixing_method": run.budget.placeholderValue(BudgetSpec.mixingMethodKey) ?? "?"])
            }
        }
        #expect(filled[0].contains("ck-aioli.bin"))
        #expect(filled[1].contains("stratified") && filled[2].contains("grid"), "\(filled)")
    }
}
