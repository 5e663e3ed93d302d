import Foundation

/// Plots as SVG (opens in any browser, scales for a paper): a frame with axes, ticks and
/// labels for two value ranges, and a mapping of values to picture coordinates.
public struct SVGPlot: Sendable {
    public let width: Double, height: Double
    public let left = 70.0, right = 20.0, top = 40.0, bottom = 60.0
    public let x: ClosedRange<Double>
    public let y: ClosedRange<Double>

    public init(x: ClosedRange<Double>, y: ClosedRange<Double>, width: Double = 640, height: Double = 440) {
        (self.x, self.y, self.width, self.height) = (x, y, width, height)
    }

    public func px(_ v: Double) -> Double { left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * (width - left - right) }
    public func py(_ v: Double) -> Double { height - bottom - (v - y.lowerBound) / (y.upperBound - y.lowerBound) * (height - top - bottom) }

    /// The title, both axes with their labels, and round ticks (none along x unless `numericX`).
    public func axes(title: String, xLabel: String, yLabel: String, numericX: Bool = true) -> [String] {
        var s = [
            "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(Self.escape(title))</text>",
            Self.line(left, height - bottom, width - right, height - bottom, "#000"),
            Self.line(left, top, left, height - bottom, "#000"),
            "<text x=\"\(width / 2)\" y=\"\(height - 16)\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(xLabel))</text>",
            "<text x=\"18\" y=\"\(height / 2)\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(height / 2))\">\(Self.escape(yLabel))</text>",
        ]
        for t in numericX ? Self.ticks(x) : [] {
            s.append(Self.line(px(t), height - bottom, px(t), height - bottom + 5, "#000"))
            s.append("<text x=\"\(Self.f(px(t)))\" y=\"\(height - bottom + 20)\" text-anchor=\"middle\" font-size=\"11\">\(Self.label(t))</text>")
        }
        for t in Self.ticks(y) {
            s.append(Self.line(left - 5, py(t), left, py(t), "#000"))
            s.append("<text x=\"\(left - 8)\" y=\"\(Self.f(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(Self.label(t))</text>")
        }
        return s
    }

    /// A whole SVG document of this plot's size around `body`.
    public func document(_ body: [String]) -> String {
        (["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
          "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"] + body + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    public static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ colour: String) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(colour)\"/>"
    }

    public static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    public static func label(_ v: Double) -> String { String(format: "%g", (v * 100).rounded() / 100) }

    /// Text for XML and HTML: `&`, `<`, `>` and both quotes escaped.
    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    /// The range grown by 10% on each side (1 mm when it is a single value).
    public static func padded(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
        let span = max(r.upperBound - r.lowerBound, 1)
        return (r.lowerBound - 0.1 * span)...(r.upperBound + 0.1 * span)
    }

    /// About five round tick values inside the range.
    public static func ticks(_ r: ClosedRange<Double>) -> [Double] {
        let raw = (r.upperBound - r.lowerBound) / 5
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var t = (r.lowerBound / step).rounded(.up) * step
        var result: [Double] = []
        while t <= r.upperBound + 1e-9 {
            result.append(abs(t) < 1e-12 ? 0 : t)
            t += step
        }
        return result
    }
}
