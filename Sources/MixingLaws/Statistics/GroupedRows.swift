/// Rows grouped by a key (a run, a mixture), the unit that cross-validation folds and bootstrap
/// resamples move as a whole.
enum GroupedRows {
    /// The row indices of each group, groups in order of first appearance.
    static func rows<Group: Hashable>(of groups: [Group]) -> [[Int]] {
        var groupIndex: [Group: Int] = [:]
        var rowsOfGroup: [[Int]] = []
        for (row, group) in groups.enumerated() {
            if let index = groupIndex[group] {
                rowsOfGroup[index].append(row)
            } else {
                groupIndex[group] = rowsOfGroup.count
                rowsOfGroup.append([row])
            }
        }
        return rowsOfGroup
    }
}
