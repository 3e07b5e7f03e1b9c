import Testing
@testable import MixLabCore

@Suite struct CSVTableTests {
    @Test func parsesQuotesCRLFAndMissingTrailingNewline() throws {
        let table = try CSVTable(parsing: "id,name\r\n1,\"a, \"\"b\"\"\"\r\n2,plain", source: "t.csv")
        #expect(table.header == ["id", "name"])
        #expect(table.rows == [["1", "a, \"b\""], ["2", "plain"]])
        #expect(try CSVTable(parsing: table.rendered(), source: "again") .rows == table.rows)
    }

    @Test func raggedRowNamesFileAndLine() {
        #expect {
            try CSVTable(parsing: "a,b\n1,2\n3\n", source: "x.csv")
        } throws: { error in
            (error as? MixLabInputError)?.field == "x.csv line 3"
        }
    }

    @Test func duplicateHeaderAndEmptyFileAreErrors() {
        #expect(throws: MixLabInputError.self) { try CSVTable(parsing: "a,a\n1,2\n", source: "d.csv") }
        #expect(throws: MixLabInputError.self) { try CSVTable(parsing: "\n\n", source: "e.csv") }
        #expect(throws: MixLabInputError.self) { try CSVTable(parsing: "a,b\n\"open,2\n", source: "q.csv") }
    }

    @Test func missingColumnListsTheAvailableOnes() {
        let table = CSVTable(source: "m.csv", header: ["id", "loss"], rows: [])
        #expect { try table.columnIndex("los") } throws: { error in
            (error as? MixLabInputError)?.fix.contains("id, loss") == true
        }
    }
}
