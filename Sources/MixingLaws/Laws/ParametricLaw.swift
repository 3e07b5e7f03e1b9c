import Foundation

/// Where a law's residuals are measured: on `ln L` (power laws: Chinchilla, D-CPT) or on `L`
/// (the mixing laws, as in the released Data Mixing Laws code).
public enum ResidualScale: String, Sendable, Codable {
    case logLoss
    case loss
}

/// A loss model with a fixed vector of real parameters `θ`, fitted by robust multi-start
/// L-BFGS (``LawFitter``).
///
/// A law works on *encoded* features (for instance `ln N` rather than `N`), produced once per
/// row by ``encode(_:)``, and predicts on its ``residualScale``. It supplies its own ranked
/// starting points, usually by variable projection (laws.md §1.5): fix the exponents on a grid,
/// solve the linear scales by NNLS, keep the best.
public protocol ParametricLaw: Sendable {
    /// Names of the reported parameters, in the order ``reportedParameters(_:)`` returns them.
    var parameterNames: [String] { get }
    /// Bounds on the internal parameter vector.
    var bounds: Box { get }
    var residualScale: ResidualScale { get }
    /// Huber δ in units of the residual scale.
    var defaultHuberDelta: Double { get }
    /// How many features each raw row has.
    var featureCount: Int { get }

    /// Maps a raw feature row to what ``prediction(_:features:gradient:)`` reads.
    func encode(_ raw: ArraySlice<Double>) -> [Double]
    /// The prediction on the residual scale; writes ∂prediction/∂θ into `gradient`.
    func prediction(_ theta: [Double], features: ArraySlice<Double>, gradient: inout [Double]) -> Double
    /// The prediction on the residual scale, without a gradient.
    func prediction(_ theta: [Double], features: ArraySlice<Double>) -> Double
    /// The reported parameter values (for example `E = e^e`), in ``parameterNames`` order.
    func reportedParameters(_ theta: [Double]) -> [Double]
    /// Starting points, best first.
    func startingPoints(encodedFeatures: [Double], losses: [Double]) -> [[Double]]
}

extension ParametricLaw {
    public func encode(_ raw: ArraySlice<Double>) -> [Double] { Array(raw) }

    public func prediction(_ theta: [Double], features: ArraySlice<Double>) -> Double {
        var scratch = Array(repeating: 0.0, count: theta.count)
        return prediction(theta, features: features, gradient: &scratch)
    }

    /// The predicted loss (on the loss scale) for one raw feature row.
    public func predictLoss(_ theta: [Double], raw: [Double]) -> Double {
        let p = prediction(theta, features: encode(raw[...])[...])
        return residualScale == .logLoss ? Foundation.exp(p) : p
    }

    public var parameterCount: Int { bounds.dimension }
}
