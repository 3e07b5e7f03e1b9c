import Foundation
import MixLabCore

extension ByteDomain {
    /// Reads `directory/train.txt` and `directory/valid.txt` (the corpus layout of `mixlab corpus`).
    ///
    /// - Throws: ``MixLabInputError`` naming the domain and the missing or empty file.
    public static func load(name: String, directory: String) throws(MixLabInputError) -> ByteDomain {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw MixLabInputError(
                field: "domain \(name) directory \(directory)", problem: "does not exist",
                fix: "point it at a folder holding train.txt and valid.txt (e.g. made by mixlab corpus synth)")
        }
        func read(_ file: String) throws(MixLabInputError) -> [UInt8] {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(file).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw MixLabInputError(
                    field: "domain \(name) file \(path)", problem: "cannot be read",
                    fix: "create \(file) in \(directory) (plain UTF-8 text)")
            }
            guard !data.isEmpty else {
                throw MixLabInputError(field: "domain \(name) file \(path)", problem: "is empty", fix: "put some text in it")
            }
            return [UInt8](data)
        }
        return ByteDomain(name: name, train: try read("train.txt"), valid: try read("valid.txt"))
    }
}
