public import MixLabCore
public import MixingLaws

/// The laws `mixlab fit` and `mixlab mixture` know by name.
///
/// Mixture laws model a target loss as a function of the shares and are fitted to ratio/metric
/// tables; scaling laws model the loss as a function of model size, tokens and (for D-CPT) the
/// share of one corpus, and are fitted to `N,D[,r],loss` tables.
public enum LawCatalog {
    /// Mixture laws, in the order `--list-laws` prints them.
    public static let mixtureLaws: [any MixtureLawFitter] = [
        LinearLawFitter(), ExponentialLawFitter(), ImplicitLawFitter(), LogLinearLawFitter(), PowerExponentialLawFitter(),
    ]

    /// Scaling laws and the feature columns their data tables need (besides `loss`).
    public static let scalingLaws: [(name: String, columns: [String])] = [
        ("chinchilla", ["N", "D"]),
        ("dcpt", ["N", "D", "r"]),
        ("dcpt-additive", ["N", "D", "r"]),
    ]

    /// Every law name, mixture laws first.
    public static var names: [String] { mixtureLaws.map(\.name) + scalingLaws.map(\.name) }

    public static func mixtureLaw(named name: String) -> (any MixtureLawFitter)? {
        mixtureLaws.first { $0.name == name }
    }

    /// The error for an unknown law name, listing the known ones.
    public static func unknownLaw(_ name: String) -> MixLabInputError {
        MixLabInputError(field: "--law \(name)", problem: "is not a known law", fix: "use one of: \(names.joined(separator: ", "))")
    }
}
