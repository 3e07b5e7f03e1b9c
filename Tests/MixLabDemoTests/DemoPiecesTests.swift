import Foundation
import MixLabCorpus
import MixLabSweeps
import MixLabAnalysis
import MixingLaws
import Testing

@testable import MixLabDemo

@Suite("demo pieces")
struct DemoPiecesTests {
    func corpus() -> DemoCorpus {
        DemoCorpus(
            directory: "/tmp/corpus with space", manifest: CorpusManifest(kind: .synthetic, generatorVersion: 1, domains: []),
            description: "synthetic \"quoted\" text")
    }

    @Test("the search spec is a valid sweep: dirichlet runs, shared seed, equal-weight objective, absolute paths")
    func searchSpecParses() throws {
        var configuration = DemoConfiguration(outputDirectory: "/tmp/out", executable: "/opt/mix lab/mixlab")
        configuration.runs = 10
        configuration.tokensPerRun = 50_000
        let plan = try SweepSpec.parse(yaml: DemoSweepSpecs.search(configuration, corpus: corpus())).resolve()
        #expect(plan.runs.count == 10)
        #expect(Set(plan.runs.map(\.seed)) == [configuration.seed])
        #expect(plan.domains == ["code", "docs", "math", "prose"])
        #expect(plan.spec.laws == ["dml", "linear"])
        #expect(plan.spec.objective.targets == ["code": 0.25, "docs": 0.25, "math": 0.25, "prose": 0.25])
        #expect(plan.spec.domains.first { $0.name == "code" }?.path == "/tmp/corpus with space/code")
        #expect(plan.spec.trainer.command.first == "/opt/mix lab/mixlab")
        let shares = plan.runs.map(\.shares)
        #expect(Set(shares.map { $0.map { ($0 * 1e6).rounded() } }).count == 10, "the Dirichlet design gives distinct mixtures")
    }

    @Test("the verification spec trains recommended then stratified at each fresh seed")
    func verificationSpecParses() throws {
        var configuration = DemoConfiguration(outputDirectory: "/tmp/out", executable: "/usr/bin/mixlab")
        configuration.verifySeeds = 3
        let recommended = ["code": 0.5, "docs": 0.1, "math": 0.3, "prose": 0.1]
        let plan = try SweepSpec.parse(yaml: DemoSweepSpecs.verification(configuration, corpus: corpus(), recommended: recommended)).resolve()
        #expect(plan.runs.count == 6)
        #expect(plan.spec.laws.isEmpty)
        for run in plan.runs {
            #expect(run.seed == configuration.seed + 1000 * (run.index / 2 + 1))
            let expected = run.index % 2 == 0 ? [0.5, 0.1, 0.3, 0.1] : [0.25, 0.25, 0.25, 0.25]
            #expect(zip(run.shares, expected).allSatisfy { abs($0 - $1) < 1e-9 }, "run \(run.index): \(run.shares)")
        }
        #expect(!DemoSweepSpecs.verificationSeeds(configuration).contains(configuration.seed))
    }

    @Test("too few runs for cross-validated fits is refused, naming --runs and the number needed")
    func validation() {
        var configuration = DemoConfiguration(executable: "/usr/bin/mixlab")
        configuration.runs = 5
        #expect {
            try configuration.validate()
        } throws: { error in
            "\(error)".contains("--runs 5") && "\(error)".contains("--runs 8")
        }
        configuration.runs = 8
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test("axes are padded to 1-2-5 ticks that cover the data")
    func axisTicks() {
        let axis = SVGChart.Axis(values: [2.03, 2.41, 2.17])
        #expect(axis.step == 0.1)
        #expect(abs(axis.low - 2.0) < 1e-12 && abs(axis.high - 2.5) < 1e-12)
        #expect(axis.ticks.count == 6)
        #expect(axis.label(2.2) == "2.2")
        let flat = SVGChart.Axis(values: [1, 1])
        #expect(flat.low < 1 && flat.high > 1)
    }

    @Test("the chart has one circle per point plus legends, and escapes text")
    func chart() {
        let panel = ScatterPanel(
            title: "a < b & c", xLabel: "x", yLabel: "y",
            series: [.init(name: "s", colour: "#000", points: [(x: 0, y: 1), (x: 1, y: 2), (x: .nan, y: 3)])], diagonal: true)
        let svg = SVGChart.render(title: "t", panels: [panel, panel], columns: 2)
        #expect(svg.contains("a &lt; b &amp; c"))
        // Two finite points and one legend marker per panel; the NaN point is dropped.
        #expect(svg.components(separatedBy: "<circle").count - 1 == 2 * 3)
    }

    @Test("leave-one-out predictions of the linear law are exact for data it can represent")
    func leaveOneOut() throws {
        let mixtures = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7], [0.4, 0.4, 0.2], [0.3, 0.3, 0.4], [0.5, 0.1, 0.4]]
        let losses = mixtures.map { [3 - 1.0 * $0[0] - 0.5 * $0[1] - 0.2 * $0[2]] }
        let runs = MixtureRuns(domains: ["a", "b", "c"], mixtures: mixtures, targetNames: ["a"], targetLosses: losses)
        let linear = try #require(LawCatalog.mixtureLaw(named: "linear"))
        let predicted = DemoReport.leaveOneOutPredictions(linear, runs: runs)
        for (p, l) in zip(predicted, losses) { #expect(abs(p - l[0]) < 1e-6) }
    }
}
