import Foundation
import Testing

/// The binary embeds schemas/*.sql through a generated Swift file; it must not drift from them.
@Suite struct MigrationFileTests {
    @Test func generatedMigrationsMatchTheSchemaFiles() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let generated = try String(contentsOf: root.appendingPathComponent("Sources/MixLabStore/Generated/Migrations.swift"), encoding: .utf8)
        for dialect in ["postgres", "sqlite"] {
            let folder = root.appendingPathComponent("schemas/\(dialect)")
            let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".sql") }.sorted()
            #expect(!files.isEmpty)
            for file in files {
                let sql = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
                #expect(generated.contains(sql), "\(dialect)/\(file) changed: run scripts/generate-migrations.sh")
            }
        }
    }
}
