import Foundation

/// Goodness-of-fit measures reported with every fit: R², mean absolute error, Huber loss and
/// Spearman's rank correlation (the metric that matters when a law is used to rank mixtures).
public struct FitMetrics: Sendable, Codable, Equatable {
    public var r2: Double
    public var mae: Double
    public var huber: Double
    public var spearman: Double
    public var count: Int

    public init(r2: Double, mae: Double, huber: Double, spearman: Double, count: Int) {
        self.r2 = r2
        self.mae = mae
        self.huber = huber
        self.spearman = spearman
        self.count = count
    }

    /// Compares predictions with observations on the loss scale; Huber uses `huberDelta` and the
    /// mean reduction so that it is comparable across data sets of different sizes.
    public init(observed: [Double], predicted: [Double], huberDelta: Double = 1e-3) {
        precondition(observed.count == predicted.count, "observed and predicted lengths differ")
        let n = Double(observed.count)
        let mean = observed.reduce(0, +) / n
        var ssRes = 0.0, ssTot = 0.0, absSum = 0.0, huberSum = 0.0
        let huber = HuberLoss(delta: huberDelta)
        for (y, p) in zip(observed, predicted) {
            ssRes += (y - p) * (y - p)
            ssTot += (y - mean) * (y - mean)
            absSum += abs(y - p)
            huberSum += huber.value(p - y)
        }
        self.init(
            r2: ssTot > 0 ? 1 - ssRes / ssTot : (ssRes == 0 ? 1 : -.infinity),
            mae: absSum / n, huber: huberSum / n,
            spearman: Correlation.spearman(observed, predicted), count: observed.count)
    }
}

/// Correlation coefficients.
public enum Correlation {
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        let n = Double(x.count)
        guard x.count > 1 else { return .nan }
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in x.indices {
            sxy += (x[i] - mx) * (y[i] - my)
            sxx += (x[i] - mx) * (x[i] - mx)
            syy += (y[i] - my) * (y[i] - my)
        }
        guard sxx > 0, syy > 0 else { return .nan }
        return sxy / (sxx * syy).squareRoot()
    }

    /// Spearman's ρ: Pearson correlation of the ranks, ties sharing their average rank.
    public static func spearman(_ x: [Double], _ y: [Double]) -> Double {
        pearson(ranks(x), ranks(y))
    }

    /// Ranks starting at 1; tied values get the mean of the ranks they span.
    public static func ranks(_ values: [Double]) -> [Double] {
        let order = values.indices.sorted { values[$0] < values[$1] }
        var ranks = Array(repeating: 0.0, count: values.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && values[order[j + 1]] == values[order[i]] { j += 1 }
            let average = Double(i + j) / 2 + 1
            for k in i...j { ranks[order[k]] = average }
            i = j + 1
        }
        return ranks
    }
}
