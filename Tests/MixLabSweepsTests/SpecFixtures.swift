import Foundation

/// Spec texts shared by the tests.
enum SpecFixtures {
    /// The minimal spec from the daemons issue that every version must accept.
    static let smoke = """
        name: smoke
        domains:
          - {name: a, path: /data/a}
          - {name: b, path: /data/b}
        design: {kind: dirichlet, runs: 8, seed: 1}
        trainer:
          command: ["python3", "trainer.py", "--run", "{run_id}"]
          resources: {cpus: 1}
          max_attempts: 3

        """

    /// `smoke` with `old` replaced by `new` (which must occur).
    static func smoke(replacing old: String, with new: String) -> String {
        precondition(smoke.contains(old), "fixture does not contain \(old)")
        return smoke.replacingOccurrences(of: old, with: new)
    }

    /// `smoke` with extra top-level lines appended.
    static func smoke(adding lines: String) -> String { smoke + lines + "\n" }

    /// The repository root (this file is Tests/MixLabSweepsTests/SpecFixtures.swift).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func example(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("examples/sweeps/\(name)").path
    }

    static let exampleNames = ["smoke.yaml", "regmix-demo.yaml", "dcpt.yaml", "gpu-cluster.yaml"]
}

/// A temporary directory removed when the value goes away.
final class ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("mixlab-sweeps-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
