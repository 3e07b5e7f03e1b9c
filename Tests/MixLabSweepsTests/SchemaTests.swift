import Foundation
import MixLabAnalysis
import Testing

@testable import MixLabSweeps

/// Checks `schemas/sweep-spec.schema.json` with Python's `jsonschema` (draft 2020-12) against the
/// examples as MixLab reads them and against their resolved canonical JSON.
@Suite("Sweep spec JSON Schema")
struct SchemaTests {
    static let schemaPath = SpecFixtures.repositoryRoot.appendingPathComponent("schemas/sweep-spec.schema.json").path

    static let checker = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("jsonschema is missing: pip install jsonschema")
            sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[2:]:
            errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
            print(path + ": " + ("ok" if not errors else " | ".join("/".join(map(str, e.path)) + " " + e.message for e in errors)))
        """

    /// Runs the checker over JSON documents and returns its line per document.
    func check(_ documents: [String: String]) throws -> [String: String] {
        let scratch = try ScratchDirectory()
        let script = try scratch.write("check.py", Self.checker)
        var paths: [String: String] = [:]
        for (name, json) in documents { paths[try scratch.write(name + ".json", json)] = name }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, Self.schemaPath] + paths.keys.sorted()
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "pip install jsonschema (python3 could not check the schema): \(text)")
        var results: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let separator = line.range(of: ".json: ") else { continue }
            let path = String(line[..<separator.lowerBound]) + ".json"
            if let name = paths[path] { results[name] = String(line[separator.upperBound...]) }
        }
        return results
    }

    @Test("the examples and their resolved JSON are valid against the schema")
    func examplesValidate() throws {
        var documents: [String: String] = [:]
        for name in SpecFixtures.exampleNames {
            let yaml = try String(contentsOfFile: SpecFixtures.example(name), encoding: .utf8)
            let raw = SpecNode.jsonText(yaml: yaml)
            #expect(raw != nil, "\(name) does not parse")
            documents["raw-\(name)"] = raw ?? ""
            documents["resolved-\(name)"] = try SweepSpec.parse(yaml: yaml).canonicalJSON
        }
        let results = try check(documents)
        #expect(results.count == documents.count)
        for (name, result) in results { #expect(result == "ok", "\(name): \(result)") }
    }

    @Test("the schema rejects what the parser rejects for simple cases")
    func rejects() throws {
        let documents = [
            "gpus": SpecFixtures.smoke(replacing: "{cpus: 1}", with: "{cpus: 1, gpus: -1}"),
            "typo": SpecFixtures.smoke(replacing: "max_attempts: 3", with: "max_attemps: 3"),
            "kind": SpecFixtures.smoke(replacing: "kind: dirichlet", with: "kind: dirichlett"),
        ].mapValues { SpecNode.jsonText(yaml: $0) ?? "" }
        let results = try check(documents)
        #expect(results.count == 3)
        for (name, result) in results { #expect(result != "ok", "\(name) should be rejected") }
    }

    @Test("the schema's law names are the law catalog's")
    func lawNames() throws {
        let schema = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.schemaPath))) as? [String: Any]
        let properties = schema?["properties"] as? [String: Any]
        let laws = (properties?["laws"] as? [String: Any])?["items"] as? [String: Any]
        let names = try #require(laws?["enum"] as? [String])
        #expect(Set(names) == Set(LawCatalog.names))
    }
}
