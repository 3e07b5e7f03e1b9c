import Foundation

/// A line search along `origin + t·direction` that finds a step satisfying the strong Wolfe
/// conditions (c1 = 1e-4, c2 = 0.9), with cubic-interpolation zoom and a cap at the first bound.
struct StrongWolfeSearch {
    struct Point {
        var step: Double
        var value: Double
        var slope: Double
        var x: [Double]
        var gradient: [Double]
    }

    let origin: [Double]
    let direction: [Double]
    let value: Double
    let slope: Double
    let maxStep: Double
    let maxEvaluations: Int
    let sufficientDecrease = 1e-4
    let curvature = 0.9
    private(set) var evaluations = 0

    init(origin: [Double], direction: [Double], value: Double, slope: Double, maxStep: Double, maxEvaluations: Int) {
        self.origin = origin
        self.direction = direction
        self.value = value
        self.slope = slope
        self.maxStep = maxStep
        self.maxEvaluations = maxEvaluations
    }

    private mutating func evaluate(_ t: Double, box: Box, objective: ([Double], inout [Double]) -> Double) -> Point {
        evaluations += 1
        var x = origin
        for i in x.indices { x[i] += t * direction[i] }
        box.project(&x)
        var g = Array(repeating: 0.0, count: x.count)
        var f = objective(x, &g)
        if !g.allSatisfy(\.isFinite) { f = .nan }
        var d = 0.0
        for i in g.indices { d += g[i] * direction[i] }
        return Point(step: t, value: f.isFinite ? f : .infinity, slope: d, x: x, gradient: g)
    }

    private func armijo(_ p: Point) -> Bool {
        p.value <= value + sufficientDecrease * p.step * slope
    }

    /// Returns an accepted point, or nil when no step lowered the objective.
    mutating func run(box: Box, objective: ([Double], inout [Double]) -> Double) -> Point? {
        var previous = Point(step: 0, value: value, slope: slope, x: origin, gradient: [])
        var t = min(1, maxStep)
        var first = true
        while evaluations < maxEvaluations {
            let p = evaluate(t, box: box, objective: objective)
            if !armijo(p) || (!first && p.value >= previous.value) {
                return zoom(low: previous, high: p, box: box, objective: objective)
            }
            if abs(p.slope) <= -curvature * slope { return p }
            if p.slope >= 0 { return zoom(low: p, high: previous, box: box, objective: objective) }
            if t >= maxStep { return p }  // reached a bound while still descending
            previous = p
            first = false
            t = min(2 * t, maxStep, 1e10)
        }
        return previous.step > 0 ? previous : nil
    }

    private mutating func zoom(
        low initialLow: Point, high initialHigh: Point, box: Box,
        objective: ([Double], inout [Double]) -> Double
    ) -> Point? {
        var low = initialLow
        var high = initialHigh
        while evaluations < maxEvaluations {
            let width = high.step - low.step
            if abs(width) <= 1e-16 * max(1, abs(low.step)) { break }
            var t = Self.cubicMinimizer(low, high)
            let lo = min(low.step, high.step), hi = max(low.step, high.step)
            if !t.isFinite || t < lo + 0.1 * (hi - lo) || t > hi - 0.1 * (hi - lo) {
                t = 0.5 * (low.step + high.step)
            }
            let p = evaluate(t, box: box, objective: objective)
            if !armijo(p) || p.value >= low.value {
                high = p
            } else {
                if abs(p.slope) <= -curvature * slope { return p }
                if p.slope * (high.step - low.step) >= 0 { high = low }
                low = p
            }
        }
        return low.step > 0 && low.value < value ? low : nil
    }

    private static func cubicMinimizer(_ a: Point, _ b: Point) -> Double {
        guard a.value.isFinite, b.value.isFinite else { return .nan }
        let d1 = a.slope + b.slope - 3 * (a.value - b.value) / (a.step - b.step)
        let discriminant = d1 * d1 - a.slope * b.slope
        guard discriminant >= 0 else { return .nan }
        let d2 = (b.step > a.step ? 1.0 : -1.0) * discriminant.squareRoot()
        return b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2 * d2)
    }
}
