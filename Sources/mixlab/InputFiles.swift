import Foundation
import MixLabCore

/// Reads a CSV file named on the command line, turning I/O failures into input errors that name
/// the flag and the path.
func readTable(_ path: String, flag: String) throws -> CSVTable {
    guard FileManager.default.fileExists(atPath: path) else {
        throw MixLabInputError(field: "\(flag) \(path)", problem: "does not exist", fix: "check the path")
    }
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw MixLabInputError(field: "\(flag) \(path)", problem: "cannot be read (\(error.localizedDescription))", fix: "check its permissions")
    }
    guard let text = String(data: data, encoding: .utf8) else {
        throw MixLabInputError(field: "\(flag) \(path)", problem: "is not UTF-8 text", fix: "save it as UTF-8 CSV")
    }
    return try CSVTable(parsing: text, source: path)
}
