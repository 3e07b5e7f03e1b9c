import Foundation

/// Why a fit could not be made; each case names what to change.
public struct LawFitError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A law with fitted parameters and the evidence of how the fit went.
public struct FittedLaw<Law: ParametricLaw>: Sendable {
    public let law: Law
    /// The internal parameter vector.
    public let theta: [Double]
    /// Σ Huber(residual) over the training rows (sum reduction, residual scale of the law).
    public let objective: Double
    public let huberDelta: Double
    /// How many starts were polished, and how many ended within 1e-6 (relative) of the best.
    public let startsPolished: Int
    public let startsNearBest: Int
    public let iterations: Int
    public let stopReason: BoundedLBFGS.StopReason

    /// Reported parameters by name, in the law's order.
    public var parameters: [(name: String, value: Double)] {
        Array(zip(law.parameterNames, law.reportedParameters(theta))).map { (name: $0.0, value: $0.1) }
    }

    public func parameter(_ name: String) -> Double? {
        parameters.first { $0.name == name }?.value
    }

    /// The predicted loss for one raw feature row.
    public func predict(_ raw: [Double]) -> Double { law.predictLoss(theta, raw: raw) }

    public func predict(_ data: LawDataset) -> [Double] { (0..<data.count).map { predict(Array(data.row($0))) } }

    public func metrics(on data: LawDataset, huberDelta: Double? = nil) -> FitMetrics {
        FitMetrics(observed: data.losses, predicted: predict(data), huberDelta: huberDelta ?? self.huberDelta)
    }
}

/// Fits a ``ParametricLaw`` by minimising a sum of Huber losses with ``BoundedLBFGS`` from many
/// starts, in parallel, keeping the lowest objective (ties go to the earlier start, so results
/// do not depend on thread timing).
public struct LawFitter: Sendable {
    /// Fitter settings.
    public struct Options: Sendable {
        /// Huber δ; nil uses the law's default.
        public var huberDelta: Double?
        /// How many of the ranked starting points are polished with L-BFGS.
        public var polishCount = 64
        public var optimizer = BoundedLBFGS.Options()
        public var parallel = true

        public init() {}
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Fits `law` to `data`; `starts` overrides the law's own starting points.
    public func fit<Law: ParametricLaw>(_ law: Law, to data: LawDataset, starts: [[Double]]? = nil) throws -> FittedLaw<Law> {
        guard data.width == law.featureCount else {
            throw LawFitError("the law needs \(law.featureCount) feature columns, the data has \(data.width)")
        }
        guard data.count > 0 else { throw LawFitError("no rows to fit: provide at least one observation") }
        for i in 0..<data.count {
            guard data.losses[i].isFinite, data.row(i).allSatisfy(\.isFinite) else {
                throw LawFitError("row \(i + 1) has a non-finite value: remove or fix it")
            }
            if law.residualScale == .logLoss && !(data.losses[i] > 0) {
                throw LawFitError("row \(i + 1) has loss \(data.losses[i]); this law is fitted on ln(loss), which needs positive losses")
            }
        }
        let delta = options.huberDelta ?? law.defaultHuberDelta
        let encoded = (0..<data.count).flatMap { law.encode(data.row($0)) }
        let targets = law.residualScale == .logLoss ? data.losses.map { Foundation.log($0) } : data.losses
        let objective = HuberObjective(law: law, encodedFeatures: encoded, targets: targets, huber: HuberLoss(delta: delta))
        let candidates = Array((starts ?? law.startingPoints(encodedFeatures: encoded, losses: data.losses)).prefix(options.polishCount))
        guard !candidates.isEmpty else { throw LawFitError("the law produced no starting points for these data") }
        let optimizer = BoundedLBFGS(options: options.optimizer)
        let parallel = options.parallel
        let results = ParallelMap.map(count: candidates.count, parallel: parallel) { index in
            // Each parallel start reads its own copy of the rows: threads sharing one array buffer
            // contend on its reference count, which made two cores slower than one.
            let own = parallel ? objective.withPrivateFeatures() : objective
            return optimizer.minimize(from: candidates[index], in: law.bounds) { theta, gradient in
                own.scaledValue(theta, gradient: &gradient)
            }
        }
        var best: BoundedLBFGS.Result?
        for result in results where result.value.isFinite {
            if best == nil || result.value < best!.value { best = result }
        }
        guard let winner = best else {
            throw LawFitError("every start gave a non-finite objective; check the data for extreme values")
        }
        let nearBest = results.filter { $0.value.isFinite && $0.value <= winner.value + 1e-6 * max(abs(winner.value), 1e-300) }.count
        return FittedLaw(
            law: law, theta: winner.x, objective: objective.unscaled(winner.value), huberDelta: delta,
            startsPolished: candidates.count, startsNearBest: nearBest, iterations: winner.iterations,
            stopReason: winner.stopReason)
    }
}

/// `Σ_n H_δ(prediction_n(θ) − target_n)`, evaluated scaled by `1/(n·δ²)` so that it is O(1)
/// when residuals are about δ, which gives the optimiser's tolerances a fixed meaning.
struct HuberObjective<Law: ParametricLaw>: Sendable {
    let law: Law
    let encodedFeatures: [Double]
    let targets: [Double]
    let huber: HuberLoss
    let width: Int
    let scale: Double

    init(law: Law, encodedFeatures: [Double], targets: [Double], huber: HuberLoss) {
        self.law = law
        self.encodedFeatures = encodedFeatures
        self.targets = targets
        self.huber = huber
        self.width = targets.isEmpty ? 0 : encodedFeatures.count / targets.count
        self.scale = 1 / (Double(max(targets.count, 1)) * huber.delta * huber.delta)
    }

    func unscaled(_ value: Double) -> Double { value / scale }

    /// The same objective over freshly allocated copies of the feature and target arrays.
    func withPrivateFeatures() -> HuberObjective {
        HuberObjective(
            law: law, encodedFeatures: encodedFeatures.withUnsafeBufferPointer { Array($0) },
            targets: targets.withUnsafeBufferPointer { Array($0) }, huber: huber)
    }

    func scaledValue(_ theta: [Double], gradient: inout [Double]) -> Double {
        for i in gradient.indices { gradient[i] = 0 }
        var rowGradient = Array(repeating: 0.0, count: theta.count)
        var total = 0.0
        for n in targets.indices {
            let features = encodedFeatures[(n * width)..<((n + 1) * width)]
            let p = law.prediction(theta, features: features, gradient: &rowGradient)
            let r = p - targets[n]
            total += huber.value(r)
            let w = huber.derivative(r)
            if w != 0 { for k in gradient.indices { gradient[k] += w * rowGradient[k] } }
        }
        for k in gradient.indices { gradient[k] *= scale }
        return total * scale
    }
}
