import MixLabCore

/// Parses repeated `DOMAIN=VALUE` flags (`--min-share code=0.1`) into a dictionary, naming the
/// flag in errors.
func keyValues(_ items: [String], flag: String) throws -> [String: Double] {
    var result: [String: Double] = [:]
    for item in items {
        guard let equals = item.lastIndex(of: "="), let value = Double(item[item.index(after: equals)...]), value.isFinite else {
            throw MixLabInputError(field: "\(flag) \(item)", problem: "is not DOMAIN=NUMBER", fix: "write it like \(flag) code=0.1")
        }
        let key = String(item[..<equals])
        guard result.updateValue(value, forKey: key) == nil else {
            throw MixLabInputError(field: "\(flag) \(key)", problem: "is given twice", fix: "keep one value per domain")
        }
    }
    return result
}
