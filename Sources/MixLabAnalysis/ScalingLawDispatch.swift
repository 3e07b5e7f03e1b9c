public import MixingLaws

/// Runs the scaling-law fit for a catalog name.
public enum ScalingLawDispatch {
    public static func fit(_ name: String, data: LawDataset, folds: Int?, seed: UInt64) throws -> ReportValue {
        switch name {
        case "chinchilla": return try FitAnalysis.fitScalingLaw(ChinchillaLaw(), name: name, data: data, folds: folds, seed: seed).report
        case "dcpt": return try FitAnalysis.fitScalingLaw(DCPTLaw(), name: name, data: data, folds: folds, seed: seed).report
        case "dcpt-additive":
            return try FitAnalysis.fitScalingLaw(DCPTAdditiveLaw(), name: name, data: data, folds: folds, seed: seed).report
        default: throw LawCatalog.unknownLaw(name)
        }
    }
}
