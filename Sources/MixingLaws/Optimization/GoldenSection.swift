/// One-dimensional minimisation for the mixture searches with a single free share (two-corpus
/// D-CPT usages, two-domain mixing laws): a dense grid to find the right basin, then
/// golden-section refinement, always comparing with the interval's end points.
public enum LineMinimizer {
    /// Minimises `f` on `[lower, upper]`; returns the best point seen and its value.
    public static func minimize(
        on lower: Double, _ upper: Double, gridPoints: Int = 10_001, tolerance: Double = 1e-12,
        _ f: (Double) -> Double
    ) -> (x: Double, value: Double) {
        precondition(lower <= upper, "empty interval")
        if lower == upper { return (lower, f(lower)) }
        var bestIndex = 0
        var bestValue = Double.infinity
        let steps = max(gridPoints - 1, 2)
        let h = (upper - lower) / Double(steps)
        for i in 0...steps {
            let v = f(lower + Double(i) * h)
            if v < bestValue { bestValue = v; bestIndex = i }
        }
        var a = lower + Double(max(bestIndex - 1, 0)) * h
        var b = lower + Double(min(bestIndex + 1, steps)) * h
        var best = (x: lower + Double(bestIndex) * h, value: bestValue)
        let phi = (5.0.squareRoot() - 1) / 2
        var c = b - phi * (b - a), d = a + phi * (b - a)
        var fc = f(c), fd = f(d)
        while b - a > tolerance * max(1, abs(a) + abs(b)) {
            if fc < fd {
                b = d; d = c; fd = fc
                c = b - phi * (b - a); fc = f(c)
            } else {
                a = c; c = d; fc = fd
                d = a + phi * (b - a); fd = f(d)
            }
        }
        for (x, v) in [(c, fc), (d, fd)] where v < best.value { best = (x, v) }
        return best
    }

    /// Finds a root of `f` in `[a, b]` by bisection; `f(a)` and `f(b)` must have opposite signs.
    public static func bisect(_ a0: Double, _ b0: Double, tolerance: Double = 1e-13, _ f: (Double) -> Double) -> Double? {
        var a = a0, b = b0
        var fa = f(a)
        let fb = f(b)
        if fa == 0 { return a }
        if fb == 0 { return b }
        guard (fa < 0) != (fb < 0) else { return nil }
        for _ in 0..<200 where b - a > tolerance * max(1, abs(a) + abs(b)) {
            let m = 0.5 * (a + b)
            let fm = f(m)
            if (fm < 0) == (fa < 0) { a = m; fa = fm } else { b = m }
        }
        return 0.5 * (a + b)
    }
}
