import Foundation

/// Limited-memory BFGS over a box, for smooth fit objectives.
///
/// A projected L-BFGS: coordinates sitting on a bound with the gradient pushing outward are held
/// fixed for the iteration, the two-loop recursion builds a quasi-Newton direction for the rest,
/// and a strong-Wolfe line search runs along it up to the first bound it meets. The history is
/// cleared whenever the set of held coordinates changes. Stopping rules are *relative*: Huber
/// objectives on log-losses are O(1e-4) or smaller, so scipy-style absolute tolerances stop far
/// from the optimum (laws.md §5.3).
public struct BoundedLBFGS: Sendable {
    /// Tuning knobs; the defaults suit objectives scaled to O(1).
    public struct Options: Sendable, Equatable {
        /// Number of correction pairs kept.
        public var memory = 10
        public var maxIterations = 15_000
        /// Stop when one iteration lowers the objective by less than this fraction of its value.
        public var relativeFunctionTolerance = 1e-13
        /// Stop when the projected gradient's largest component is at most this.
        public var gradientTolerance = 1e-10
        /// Function evaluations allowed per line search.
        public var maxLineSearchEvaluations = 30

        public init() {}
    }

    /// Why the optimiser stopped.
    public enum StopReason: String, Sendable, Codable {
        case gradientTolerance, functionTolerance, noFurtherProgress, maxIterations, nonFiniteObjective
    }

    /// The outcome of one minimisation.
    public struct Result: Sendable {
        public var x: [Double]
        public var value: Double
        public var iterations: Int
        public var evaluations: Int
        public var stopReason: StopReason

        /// True unless the iteration cap was hit or the objective was not finite.
        public var converged: Bool { stopReason != .maxIterations && stopReason != .nonFiniteObjective }
    }

    public var options: Options

    public init(options: Options = Options()) {
        self.options = options
    }

    /// Minimises `objective` from `start` within `box`.
    ///
    /// - Parameter objective: returns f(x) and writes ∇f(x) into its second argument (which has
    ///   the right length on entry). It may return a non-finite value for points it cannot evaluate;
    ///   the line search then shortens the step.
    public func minimize(
        from start: [Double],
        in box: Box,
        objective: (_ x: [Double], _ gradient: inout [Double]) -> Double
    ) -> Result {
        let n = start.count
        precondition(box.dimension == n, "box dimension must match the start")
        var x = box.projected(start)
        var g = Array(repeating: 0.0, count: n)
        var evaluations = 1
        var f = objective(x, &g)
        guard f.isFinite, g.allSatisfy(\.isFinite) else {
            return Result(x: x, value: f, iterations: 0, evaluations: evaluations, stopReason: .nonFiniteObjective)
        }
        var history = CorrectionHistory(capacity: options.memory, dimension: n)
        var previousHeld = Array(repeating: false, count: n)
        var held = Array(repeating: false, count: n)
        var projectedGradient = Array(repeating: 0.0, count: n)
        var direction = Array(repeating: 0.0, count: n)

        for iteration in 0..<options.maxIterations {
            var largest = 0.0
            for i in 0..<n {
                let atLower = x[i] <= box.lower[i] && g[i] > 0
                let atUpper = x[i] >= box.upper[i] && g[i] < 0
                held[i] = atLower || atUpper
                projectedGradient[i] = held[i] ? 0 : g[i]
                largest = max(largest, abs(projectedGradient[i]))
            }
            if largest <= options.gradientTolerance {
                return Result(x: x, value: f, iterations: iteration, evaluations: evaluations, stopReason: .gradientTolerance)
            }
            if held != previousHeld { history.clear() }
            previousHeld = held

            history.applyInverseHessian(to: projectedGradient, into: &direction)
            for i in 0..<n { direction[i] = held[i] ? 0 : -direction[i] }
            var slope = restrictToFeasible(&direction, x: x, box: box, gradient: g)
            if !(slope < 0) {
                history.clear()
                for i in 0..<n { direction[i] = -projectedGradient[i] / max(1, largest) }
                slope = restrictToFeasible(&direction, x: x, box: box, gradient: g)
                if !(slope < 0) {
                    return Result(x: x, value: f, iterations: iteration, evaluations: evaluations, stopReason: .noFurtherProgress)
                }
            }
            let maxStep = largestFeasibleStep(x: x, direction: direction, box: box)
            var search = StrongWolfeSearch(
                origin: x, direction: direction, value: f, slope: slope, maxStep: maxStep,
                maxEvaluations: options.maxLineSearchEvaluations)
            guard let accepted = search.run(box: box, objective: objective) else {
                evaluations += search.evaluations
                if !history.isEmpty {
                    history.clear()
                    continue
                }
                return Result(x: x, value: f, iterations: iteration, evaluations: evaluations, stopReason: .noFurtherProgress)
            }
            evaluations += search.evaluations
            let decrease = f - accepted.value
            history.append(step: zip(accepted.x, x).map { $0 - $1 }, gradientChange: zip(accepted.gradient, g).map { $0 - $1 })
            x = accepted.x
            g = accepted.gradient
            let previous = f
            f = accepted.value
            if decrease <= options.relativeFunctionTolerance * max(abs(previous), abs(f), .leastNormalMagnitude) {
                return Result(x: x, value: f, iterations: iteration + 1, evaluations: evaluations, stopReason: .functionTolerance)
            }
        }
        return Result(x: x, value: f, iterations: options.maxIterations, evaluations: evaluations, stopReason: .maxIterations)
    }

    /// Zeroes direction components that would leave the box immediately and returns the slope ∇f·d.
    private func restrictToFeasible(_ d: inout [Double], x: [Double], box: Box, gradient: [Double]) -> Double {
        var slope = 0.0
        for i in d.indices {
            if (d[i] < 0 && x[i] <= box.lower[i]) || (d[i] > 0 && x[i] >= box.upper[i]) { d[i] = 0 }
            slope += d[i] * gradient[i]
        }
        return slope
    }

    private func largestFeasibleStep(x: [Double], direction: [Double], box: Box) -> Double {
        var step = Double.infinity
        for i in x.indices {
            if direction[i] > 0, box.upper[i].isFinite {
                step = min(step, (box.upper[i] - x[i]) / direction[i])
            } else if direction[i] < 0, box.lower[i].isFinite {
                step = min(step, (box.lower[i] - x[i]) / direction[i])
            }
        }
        return step
    }
}

/// The last `capacity` pairs (s, y) and the two-loop recursion that applies the implied inverse
/// Hessian approximation.
struct CorrectionHistory {
    let capacity: Int
    let dimension: Int
    private var steps: [[Double]] = []
    private var changes: [[Double]] = []
    private var rhos: [Double] = []

    init(capacity: Int, dimension: Int) {
        self.capacity = capacity
        self.dimension = dimension
    }

    var isEmpty: Bool { steps.isEmpty }

    mutating func clear() {
        steps.removeAll(keepingCapacity: true)
        changes.removeAll(keepingCapacity: true)
        rhos.removeAll(keepingCapacity: true)
    }

    mutating func append(step s: [Double], gradientChange y: [Double]) {
        var sy = 0.0, ss = 0.0, yy = 0.0
        for i in s.indices { sy += s[i] * y[i]; ss += s[i] * s[i]; yy += y[i] * y[i] }
        guard sy > 1e-10 * (ss * yy).squareRoot(), sy.isFinite else { return }
        if steps.count == capacity {
            steps.removeFirst()
            changes.removeFirst()
            rhos.removeFirst()
        }
        steps.append(s)
        changes.append(y)
        rhos.append(1 / sy)
    }

    /// Writes `H q` into `out`; with no pairs, `H = I / max(1, |q|∞)`.
    func applyInverseHessian(to q0: [Double], into out: inout [Double]) {
        var q = q0
        guard let lastS = steps.last, let lastY = changes.last else {
            let scale = 1 / max(1, q0.reduce(0) { max($0, abs($1)) })
            for i in q.indices { out[i] = q[i] * scale }
            return
        }
        var alphas = Array(repeating: 0.0, count: steps.count)
        for k in stride(from: steps.count - 1, through: 0, by: -1) {
            var a = 0.0
            for i in q.indices { a += steps[k][i] * q[i] }
            a *= rhos[k]
            alphas[k] = a
            for i in q.indices { q[i] -= a * changes[k][i] }
        }
        var sy = 0.0, yy = 0.0
        for i in q.indices { sy += lastS[i] * lastY[i]; yy += lastY[i] * lastY[i] }
        let gamma = sy / yy
        for i in q.indices { q[i] *= gamma }
        for k in 0..<steps.count {
            var b = 0.0
            for i in q.indices { b += changes[k][i] * q[i] }
            b *= rhos[k]
            for i in q.indices { q[i] += steps[k][i] * (alphas[k] - b) }
        }
        for i in q.indices { out[i] = q[i] }
    }
}
