extension MixtureSolver {
    /// Pairwise Frank–Wolfe: keeps the iterate as a convex combination of oracle vertices and moves
    /// weight from the worst active vertex to the oracle's vertex, with an exact line search. Unlike
    /// the classic step it converges linearly on a polytope, so the duality gap reaches 1e-13.
    static func frankWolfe(
        _ model: any MixtureLossModel, in region: FeasibleRegion, from start: [Double], options: Options
    ) throws -> RawSolution {
        let name = "Frank–Wolfe"
        let n = region.dimension
        var g = try gradient(of: model, at: region.project(start), solver: name)
        var vertices: [(point: [Double], weight: Double)] = [(region.linearMinimizer(g), 1)]
        var r = vertices[0].point
        g = try gradient(of: model, at: r, solver: name)
        func dot(_ a: [Double], _ b: [Double]) -> Double { (0..<n).reduce(0) { $0 + a[$1] * b[$1] } }
        for iteration in 0..<options.maxIterations {
            let s = region.linearMinimizer(g)
            let gap = dot(g, r) - dot(g, s)
            if gap < options.gapTolerance {
                return RawSolution(shares: r, solver: name, iterations: iteration, converged: true)
            }
            let away = vertices.indices.max { dot(g, vertices[$0].point) < dot(g, vertices[$1].point) }!
            let direction = (0..<n).map { s[$0] - vertices[away].point[$0] }
            let maxStep = vertices[away].weight
            func slope(_ gamma: Double) throws -> Double {
                let point = (0..<n).map { r[$0] + gamma * direction[$0] }
                return dot(try gradient(of: model, at: point, solver: name), direction)
            }
            var gamma = maxStep
            if try slope(maxStep) > 0 {
                var lo = 0.0, hi = maxStep
                for _ in 0..<200 {
                    let mid = 0.5 * (lo + hi)
                    if mid <= lo || mid >= hi { break }
                    if try slope(mid) > 0 { hi = mid } else { lo = mid }
                }
                gamma = 0.5 * (lo + hi)
            }
            if gamma <= 0 {
                return RawSolution(shares: r, solver: name, iterations: iteration, converged: false)
            }
            for j in 0..<n { r[j] += gamma * direction[j] }
            if gamma >= maxStep {
                vertices.remove(at: away)
            } else {
                vertices[away].weight -= gamma
            }
            if let existing = vertices.firstIndex(where: { $0.point == s }) {
                vertices[existing].weight += gamma
            } else {
                vertices.append((s, gamma))
            }
            g = try gradient(of: model, at: r, solver: name)
        }
        let converged = region.frankWolfeGap(at: r, gradient: g) < options.gapTolerance
        return RawSolution(shares: r, solver: name, iterations: options.maxIterations, converged: converged)
    }
}
