import Foundation

/// One scatter panel of a chart: named point series, optional y = x diagonal.
struct ScatterPanel: Sendable {
    struct Series: Sendable {
        var name: String
        var colour: String
        var points: [(x: Double, y: Double)]
        var radius: Double = 3.5
    }

    var title: String
    var xLabel: String
    var yLabel: String
    var series: [Series]
    var diagonal = false
}

/// Renders scatter panels as a self-contained SVG document (no scripts, no external fonts), laid
/// out in a grid; axis ticks are 1-2-5 steps.
enum SVGChart {
    static let panelWidth = 360.0
    static let panelHeight = 300.0
    static let margin = (left: 62.0, right: 16.0, top: 34.0, bottom: 48.0)

    static func render(title: String, panels: [ScatterPanel], columns: Int) -> String {
        let columns = max(1, min(columns, panels.count))
        let rows = (panels.count + columns - 1) / columns
        let width = Double(columns) * panelWidth
        let height = Double(rows) * panelHeight + 40
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(f(width))" height="\(f(height))" viewBox="0 0 \(f(width)) \(f(height))" \
            font-family="sans-serif" font-size="11">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="15">\(escape(title))</text>

            """
        for (index, panel) in panels.enumerated() {
            let x = Double(index % columns) * panelWidth
            let y = 40 + Double(index / columns) * panelHeight
            svg += "<g transform=\"translate(\(f(x)),\(f(y)))\">\n" + renderPanel(panel) + "</g>\n"
        }
        return svg + "</svg>\n"
    }

    static func renderPanel(_ panel: ScatterPanel) -> String {
        let points = panel.series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        var xs = points.map(\.x)
        var ys = points.map(\.y)
        if panel.diagonal {
            let all = xs + ys
            xs = all
            ys = all
        }
        let xAxis = Axis(values: xs)
        let yAxis = Axis(values: ys)
        let plotWidth = panelWidth - margin.left - margin.right
        let plotHeight = panelHeight - margin.top - margin.bottom
        func px(_ value: Double) -> Double { margin.left + (value - xAxis.low) / (xAxis.high - xAxis.low) * plotWidth }
        func py(_ value: Double) -> Double { margin.top + plotHeight - (value - yAxis.low) / (yAxis.high - yAxis.low) * plotHeight }

        var out = "<text x=\"\(f(panelWidth / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"12\">\(escape(panel.title))</text>\n"
        out += "<rect x=\"\(f(margin.left))\" y=\"\(f(margin.top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        for tick in xAxis.ticks {
            out += "<line x1=\"\(f(px(tick)))\" y1=\"\(f(margin.top + plotHeight))\" x2=\"\(f(px(tick)))\" y2=\"\(f(margin.top + plotHeight + 4))\" stroke=\"#999\"/>"
            out += "<text x=\"\(f(px(tick)))\" y=\"\(f(margin.top + plotHeight + 16))\" text-anchor=\"middle\">\(xAxis.label(tick))</text>\n"
        }
        for tick in yAxis.ticks {
            out += "<line x1=\"\(f(margin.left - 4))\" y1=\"\(f(py(tick)))\" x2=\"\(f(margin.left))\" y2=\"\(f(py(tick)))\" stroke=\"#999\"/>"
            out += "<text x=\"\(f(margin.left - 6))\" y=\"\(f(py(tick) + 4))\" text-anchor=\"end\">\(yAxis.label(tick))</text>\n"
        }
        out += "<text x=\"\(f(margin.left + plotWidth / 2))\" y=\"\(f(panelHeight - 10))\" text-anchor=\"middle\">\(escape(panel.xLabel))</text>\n"
        out += "<text transform=\"translate(14,\(f(margin.top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(panel.yLabel))</text>\n"
        if panel.diagonal {
            let low = max(xAxis.low, yAxis.low), high = min(xAxis.high, yAxis.high)
            out += "<line x1=\"\(f(px(low)))\" y1=\"\(f(py(low)))\" x2=\"\(f(px(high)))\" y2=\"\(f(py(high)))\" stroke=\"#bbb\" stroke-dasharray=\"4 3\"/>\n"
        }
        for (index, series) in panel.series.enumerated() {
            out += "<g fill=\"\(series.colour)\" fill-opacity=\"0.8\" class=\"series\" data-name=\"\(escape(series.name))\">\n"
            for point in series.points where point.x.isFinite && point.y.isFinite {
                out += "<circle cx=\"\(f(px(point.x)))\" cy=\"\(f(py(point.y)))\" r=\"\(f(series.radius))\"/>\n"
            }
            out += "</g>\n"
            let legendY = margin.top + 12 + Double(index) * 14
            let legendX = margin.left + plotWidth - 10
            out += "<circle cx=\"\(f(legendX))\" cy=\"\(f(legendY - 4))\" r=\"4\" fill=\"\(series.colour)\"/>"
            out += "<text x=\"\(f(legendX - 8))\" y=\"\(f(legendY))\" text-anchor=\"end\">\(escape(series.name))</text>\n"
        }
        return out
    }

    /// An axis range padded to whole ticks of a 1-2-5 step.
    struct Axis {
        var low: Double
        var high: Double
        var step: Double

        init(values: [Double]) {
            var low = values.min() ?? 0, high = values.max() ?? 1
            if !(high > low) {
                low -= 0.5
                high += 0.5
            }
            let rough = (high - low) / 5
            let magnitude = pow(10, (log10(rough)).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
            self.step = step
            self.low = (low / step).rounded(.down) * step
            self.high = (high / step).rounded(.up) * step
        }

        var ticks: [Double] {
            let count = Int(((high - low) / step).rounded())
            return (0...count).map { low + Double($0) * step }
        }

        func label(_ value: Double) -> String {
            let decimals = max(0, Int(-log10(step).rounded(.down)))
            return String(format: "%.\(decimals)f", value)
        }
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
