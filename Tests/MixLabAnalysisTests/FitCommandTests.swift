import Foundation
import Testing

/// `mixlab fit` and `mixlab mixture` run as real subprocesses: the JSON contract and the
/// one-line, exit-status-2 errors for bad input.
@Suite struct FitCommandTests {
    @Test func listLawsPrintsEveryNameCommaSeparated() throws {
        let outcome = try CommandLineRunner.run(["fit", "--list-laws"])
        #expect(outcome.status == 0)
        let names = outcome.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ",").map(String.init)
        for required in ["linear", "dml", "dml-implicit", "loglinear", "chinchilla", "dcpt"] {
            #expect(names.contains(required), "missing \(required) in \(names)")
        }
    }

    @Test func fitReportHasTheContractedKeys() throws {
        let dir = try ScratchDirectory()
        let train = SyntheticRuns.mixtures(count: 40)
        let test = Array(SyntheticRuns.mixtures(count: 60).suffix(20))
        let ratios = try dir.write("r.csv", SyntheticRuns.ratiosCSV(train))
        let metrics = try dir.write("m.csv", SyntheticRuns.metricsCSV(train))
        let testRatios = try dir.write("tr.csv", SyntheticRuns.ratiosCSV(test, idPrefix: "t"))
        let testMetrics = try dir.write("tm.csv", SyntheticRuns.metricsCSV(test, idPrefix: "t"))
        let outcome = try CommandLineRunner.run([
            "fit", "--law", "dml", "--ratios", ratios, "--metrics", metrics, "--target", "valid_loss",
            "--test-ratios", testRatios, "--test-metrics", testMetrics, "--folds", "4", "--format", "json",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(json["law"] as? String == "dml")
        let params = try #require(json["params"] as? [String: Double])
        #expect(params["valid_loss.c"] != nil)
        for section in ["train", "test", "cv"] {
            let metrics = try #require(json[section] as? [String: Any], "missing \(section)")
            let spearman = try #require(metrics["spearman"] as? Double)
            #expect((-1...1).contains(spearman))
            #expect(metrics["r2"] is Double && metrics["mae"] is Double)
        }
        // The data come from the law itself: held-out predictions must be near exact.
        let heldOut = try #require(json["test"] as? [String: Any])
        #expect(try #require(heldOut["mae"] as? Double) < 1e-4)
    }

    @Test func chinchillaFitNamesItsParameters() throws {
        let dir = try ScratchDirectory()
        var csv = "N,D,loss\n"
        for n in [1e7, 3e7, 1e8, 3e8, 1e9] {
            for d in [1e9, 3e9, 1e10, 3e10] {
                csv += "\(n),\(d),\(1.7 + 400 / pow(n, 0.34) + 410 / pow(d, 0.28))\n"
            }
        }
        let data = try dir.write("c.csv", csv)
        let outcome = try CommandLineRunner.run(["fit", "--law", "chinchilla", "--data", data, "--format", "json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let params = try #require(json["params"] as? [String: Double])
        #expect(Set(params.keys) == ["E", "A", "B", "alpha", "beta"])
        #expect(abs(try #require(params["alpha"]) - 0.34) < 1e-3)
    }

    @Test func mixtureCSVSharesSumToExactlyOne() throws {
        let dir = try ScratchDirectory()
        let runs = SyntheticRuns.mixtures(count: 30)
        let ratios = try dir.write("r.csv", SyntheticRuns.ratiosCSV(runs))
        let metrics = try dir.write("m.csv", SyntheticRuns.metricsCSV(runs))
        let outcome = try CommandLineRunner.run([
            "mixture", "--law", "dml", "--ratios", ratios, "--metrics", metrics, "--target", "valid_loss",
            "--max-share", "web=0.5", "--bootstrap", "8", "--format", "csv",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n").dropFirst()
        let shares = lines.map { Decimal(string: String($0.split(separator: ",")[1]))! }
        #expect(shares.reduce(0, +) == 1)
        #expect(shares[0] == Decimal(string: "0.5"), "web is capped at 0.5 and the law wants as much web as possible")
    }

    /// Every bad input: one line naming the file/column/flag, exit status 2, nothing on stdout.
    @Test(arguments: BadInput.allCases)
    func badInputExitsWithStatusTwo(_ input: BadInput) throws {
        let dir = try ScratchDirectory()
        let runs = SyntheticRuns.mixtures(count: 12)
        var ratios = SyntheticRuns.ratiosCSV(runs)
        var metrics = SyntheticRuns.metricsCSV(runs)
        var target = "valid_loss"
        var law = "dml"
        switch input {
        case .missingFile, .fewerRunsThanParameters, .unknownLaw: break
        case .missingColumn: target = "no_such_column"
        case .unjoinedRunID: metrics = metrics.replacingOccurrences(of: "run3,", with: "run99,")
        case .notANumber: metrics = Self.replacingLine(of: "run4", in: metrics, with: "run4,NaN,1.0")
        case .negativeShare: ratios = Self.replacingLine(of: "run2", in: ratios, with: "run2,-0.2,0.6,0.6")
        case .emptyData: ratios = "run_id,web,code,math\n"
        case .raggedRow: ratios += "extra,0.5\n"
        }
        if input == .fewerRunsThanParameters { law = "dml-implicit" }
        if input == .unknownLaw { law = "magic" }
        let ratiosPath = try dir.write("ratios.csv", ratios)
        let metricsPath = input == .missingFile ? dir.url.appendingPathComponent("absent.csv").path : try dir.write("metrics.csv", metrics)
        let outcome = try CommandLineRunner.run([
            "fit", "--law", law, "--ratios", ratiosPath, "--metrics", metricsPath, "--target", target, "--format", "json",
        ])
        #expect(outcome.status == 2, "status \(outcome.status), stderr: \(outcome.stderr)")
        #expect(outcome.stdout.isEmpty)
        let message = outcome.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!message.contains("\n"), "one line expected: \(message)")
        #expect(message.contains(input.expectedFragment), "\(message) should mention \(input.expectedFragment)")
    }

    static func replacingLine(of runID: String, in csv: String, with line: String) -> String {
        csv.split(separator: "\n").map { $0.hasPrefix(runID + ",") ? line : String($0) }.joined(separator: "\n") + "\n"
    }

    enum BadInput: String, CaseIterable, Sendable {
        case missingFile, missingColumn, unjoinedRunID, notANumber, negativeShare, emptyData, raggedRow,
            fewerRunsThanParameters, unknownLaw

        var expectedFragment: String {
            switch self {
            case .missingFile: "absent.csv"
            case .missingColumn: "no_such_column"
            case .unjoinedRunID: "run99"
            case .notANumber: "valid_loss"
            case .negativeShare: "web"
            case .emptyData: "no data rows"
            case .raggedRow: "line"
            case .fewerRunsThanParameters: "dml-implicit"
            case .unknownLaw: "magic"
            }
        }
    }

    @Test func recommendationStaysInTheFittedRangeUnlessExtrapolationIsAllowed() throws {
        let dir = try ScratchDirectory()
        let runs = SyntheticRuns.mixtures(count: 30)
        let largestWeb = runs.map { $0[0] }.max()!
        let base = [
            "mixture", "--law", "dml", "--ratios", try dir.write("r.csv", SyntheticRuns.ratiosCSV(runs)),
            "--metrics", try dir.write("m.csv", SyntheticRuns.metricsCSV(runs)), "--target", "valid_loss", "--bootstrap", "0",
            "--decimals", "6", "--format", "csv",
        ]
        func webShare(_ extra: [String]) throws -> Double {
            let outcome = try CommandLineRunner.run(base + extra)
            #expect(outcome.status == 0, "\(outcome.stderr)")
            return Double(outcome.stdout.split(separator: "\n")[1].split(separator: ",")[1])!
        }
        #expect(abs(try webShare([]) - largestWeb) < 1e-6, "the law wants all web; it may only have the most seen")
        #expect(try webShare(["--allow-extrapolation"]) == 1)
    }

    /// `--tokens` for every domain without `--run-tokens`: the run is all the data, so with one
    /// epoch each share is capped at its domain's fraction of the tokens.
    @Test func tokenCapsWithoutRunSizeUseAllTheData() throws {
        let dir = try ScratchDirectory()
        let runs = SyntheticRuns.mixtures(count: 30)
        let outcome = try CommandLineRunner.run([
            "mixture", "--law", "dml", "--ratios", try dir.write("r.csv", SyntheticRuns.ratiosCSV(runs)),
            "--metrics", try dir.write("m.csv", SyntheticRuns.metricsCSV(runs)), "--target", "valid_loss", "--bootstrap", "0",
            "--tokens", "web=1e9", "--tokens", "code=3e9", "--tokens", "math=6e9", "--max-epochs", "1", "--allow-extrapolation",
            "--format", "json",
        ])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        let mixture = try #require(json["mixture"] as? [String: Double])
        #expect(abs(try #require(mixture["web"]) - 0.1) < 1e-9, "web has a tenth of the tokens and is the law's favourite")
        let warnings = try #require(json["warnings"] as? [String])
        #expect(warnings.contains { $0.contains("no --run-tokens") })
    }

    @Test func infeasibleConstraintsAreReportedNotDefaulted() throws {
        let dir = try ScratchDirectory()
        let runs = SyntheticRuns.mixtures(count: 20)
        let outcome = try CommandLineRunner.run([
            "mixture", "--law", "linear", "--ratios", try dir.write("r.csv", SyntheticRuns.ratiosCSV(runs)),
            "--metrics", try dir.write("m.csv", SyntheticRuns.metricsCSV(runs)), "--target", "valid_loss",
            "--min-share", "web=0.6", "--min-share", "code=0.6", "--bootstrap", "0",
        ])
        #expect(outcome.status == 2)
        #expect(outcome.stderr.contains("web") && outcome.stdout.isEmpty, "\(outcome.stderr)")
    }
}
