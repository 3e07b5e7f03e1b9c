import Testing
import MixLabCore
@testable import MixLabAnalysis

@Suite struct RunTableReaderTests {
    func table(_ text: String, _ name: String) throws -> CSVTable { try CSVTable(parsing: text, source: name) }

    @Test func joinsOnRunIDWhateverTheRowOrderAndRenormalisesWithAWarning() throws {
        let ratios = try table("id,a,b\nx,0.2,0.8\ny,0.6,0.6\n", "r.csv")
        let metrics = try table("id,loss\ny,3.0\nx,2.0\n", "m.csv")
        let loaded = try RunTableReader.mixtureRuns(ratios: ratios, metrics: metrics, targets: [TargetSelection(column: "loss")])
        #expect(loaded.runIDs == ["x", "y"])
        #expect(loaded.runs.targetLosses == [[2.0], [3.0]])
        #expect(loaded.runs.mixtures[1] == [0.5, 0.5])
        #expect(loaded.warnings.count == 1 && loaded.warnings[0].contains("\"y\""))
    }

    @Test func weightedTargetsAggregate() throws {
        let ratios = try table("id,a,b\nx,0.5,0.5\n", "r.csv")
        let metrics = try table("id,l1,l2\nx,2.0,4.0\n", "m.csv")
        let targets = try ["l1=0.25", "l2=0.75"].map { try TargetSelection(parsing: $0) }
        let loaded = try RunTableReader.mixtureRuns(ratios: ratios, metrics: metrics, targets: targets)
        #expect(loaded.runs.aggregatedLosses == [3.5])
    }

    @Test func duplicateRunIDIsAnError() throws {
        let ratios = try table("id,a,b\nx,0.5,0.5\nx,0.4,0.6\n", "r.csv")
        let metrics = try table("id,loss\nx,2.0\n", "m.csv")
        #expect { try RunTableReader.mixtureRuns(ratios: ratios, metrics: metrics, targets: [TargetSelection(column: "loss")]) }
            throws: { error in (error as? MixLabInputError)?.problem == "appears twice" }
    }

    @Test func scalingDataRejectsRatiosOutsideTheUnitInterval() throws {
        let data = try table("N,D,r,loss\n1e8,1e9,1.5,2.0\n", "d.csv")
        #expect { try RunTableReader.scalingData(data, featureColumns: ["N", "D", "r"]) }
            throws: { error in (error as? MixLabInputError)?.field == "d.csv line 2 column \"r\"" }
    }
}
