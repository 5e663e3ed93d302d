import Foundation
public import MAMStatistics

/// The pictures of a cohort agreement analysis, as SVG (opens in any browser, scales for a paper).
public enum AgreementPlots {
    static let width = 640.0, height = 440.0
    static let left = 70.0, right = 20.0, top = 40.0, bottom = 60.0

    /// A plot frame with axes, ticks and labels for the value ranges, and a mapping to pixels.
    struct Frame {
        let x: ClosedRange<Double>
        let y: ClosedRange<Double>

        func px(_ v: Double) -> Double { left + (v - x.lowerBound) / (x.upperBound - x.lowerBound) * (width - left - right) }
        func py(_ v: Double) -> Double { height - bottom - (v - y.lowerBound) / (y.upperBound - y.lowerBound) * (height - top - bottom) }

        func axes(title: String, xLabel: String, yLabel: String, numericX: Bool = true) -> [String] {
            var s = [
                "<text x=\"\(width / 2)\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">\(escape(title))</text>",
                line(left, height - bottom, width - right, height - bottom, "#000"),
                line(left, top, left, height - bottom, "#000"),
                "<text x=\"\(width / 2)\" y=\"\(height - 16)\" text-anchor=\"middle\" font-size=\"13\">\(escape(xLabel))</text>",
                "<text x=\"18\" y=\"\(height / 2)\" text-anchor=\"middle\" font-size=\"13\" transform=\"rotate(-90 18 \(height / 2))\">\(escape(yLabel))</text>",
            ]
            for t in numericX ? ticks(x) : [] {
                s.append(line(px(t), height - bottom, px(t), height - bottom + 5, "#000"))
                s.append("<text x=\"\(f(px(t)))\" y=\"\(height - bottom + 20)\" text-anchor=\"middle\" font-size=\"11\">\(label(t))</text>")
            }
            for t in ticks(y) {
                s.append(line(left - 5, py(t), left, py(t), "#000"))
                s.append("<text x=\"\(left - 8)\" y=\"\(f(py(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(label(t))</text>")
            }
            return s
        }
    }

    /// Bland-Altman plot of the two observers' MAMs: mean against difference (B - A), with the
    /// bias and the 95% limits of agreement.
    public static func blandAltman(_ pairs: [(a: Double, b: Double)], _ ba: BlandAltman) -> String {
        let means = pairs.map { ($0.a + $0.b) / 2 }, diffs = pairs.map { $0.b - $0.a }
        let yValues = diffs + [ba.lowerLimitMM, ba.upperLimitMM, 0]
        let frame = Frame(x: padded(means.min()!...means.max()!), y: padded(yValues.min()!...yValues.max()!))
        var s = frame.axes(title: "Bland-Altman: minimal ablation margin, observer B - observer A",
                           xLabel: "mean of the two MAMs (mm)", yLabel: "difference B - A (mm)")
        for (value, name, dash) in [(ba.biasMM, "bias", ""), (ba.upperLimitMM, "+1.96 SD", "6 4"), (ba.lowerLimitMM, "-1.96 SD", "6 4")] {
            s.append("<line x1=\"\(left)\" y1=\"\(f(frame.py(value)))\" x2=\"\(width - right)\" y2=\"\(f(frame.py(value)))\" "
                     + "stroke=\"#c0392b\" stroke-dasharray=\"\(dash)\"/>")
            s.append("<text x=\"\(width - right - 4)\" y=\"\(f(frame.py(value) - 4))\" text-anchor=\"end\" font-size=\"11\" "
                     + "fill=\"#c0392b\">\(name) \(label(value)) mm</text>")
        }
        for (m, d) in zip(means, diffs) {
            s.append("<circle cx=\"\(f(frame.px(m)))\" cy=\"\(f(frame.py(d)))\" r=\"4\" fill=\"#2c7fb8\" fill-opacity=\"0.75\"/>")
        }
        return document(s)
    }

    /// Dice of every pair, one column per structure: the points (spread sideways by a fixed
    /// pattern, so the picture is reproducible) and the median as a bar.
    public static func dice(_ byStructure: [(structure: String, values: [Double])]) -> String {
        let frame = Frame(x: 0...Double(max(1, byStructure.count)), y: 0...1)
        var s = frame.axes(title: "Dice of the observers' segmentations", xLabel: "structure", yLabel: "Dice", numericX: false)
        for (column, entry) in byStructure.enumerated() {
            let centre = Double(column) + 0.5
            s.append("<text x=\"\(f(frame.px(centre)))\" y=\"\(height - bottom + 20)\" text-anchor=\"middle\" font-size=\"11\">"
                     + "\(escape(entry.structure))</text>")
            for (i, v) in entry.values.enumerated() {
                let offset = (Double(i % 7) - 3) * 0.04
                s.append("<circle cx=\"\(f(frame.px(centre + offset)))\" cy=\"\(f(frame.py(v)))\" r=\"3.5\" fill=\"#2c7fb8\" fill-opacity=\"0.7\"/>")
            }
            if let median = AgreementCohortReport.Summary(entry.values)?.median {
                s.append(line(frame.px(centre - 0.25), frame.py(median), frame.px(centre + 0.25), frame.py(median), "#c0392b"))
            }
        }
        return document(s)
    }

    static func document(_ body: [String]) -> String {
        (["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"Helvetica, Arial, sans-serif\">",
          "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"] + body + ["</svg>"]).joined(separator: "\n") + "\n"
    }

    static func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ colour: String) -> String {
        "<line x1=\"\(f(x1))\" y1=\"\(f(y1))\" x2=\"\(f(x2))\" y2=\"\(f(y2))\" stroke=\"\(colour)\"/>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func label(_ v: Double) -> String { String(format: "%g", (v * 100).rounded() / 100) }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// The range grown by 10% on each side (1 mm when it is a single value).
    static func padded(_ r: ClosedRange<Double>) -> ClosedRange<Double> {
        let span = max(r.upperBound - r.lowerBound, 1)
        return (r.lowerBound - 0.1 * span)...(r.upperBound + 0.1 * span)
    }

    /// About five round tick values inside the range.
    static func ticks(_ r: ClosedRange<Double>) -> [Double] {
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
