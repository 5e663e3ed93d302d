import Foundation
import MAMQC
public import MAMStatistics

/// The pictures of a cohort agreement analysis, as SVG (opens in any browser, scales for a paper).
public enum AgreementPlots {
    /// Bland-Altman plot of the two observers' MAMs: mean against difference (B - A), with the
    /// bias and the 95% limits of agreement.
    public static func blandAltman(_ pairs: [(a: Double, b: Double)], _ ba: BlandAltman) -> String {
        let means = pairs.map { ($0.a + $0.b) / 2 }, diffs = pairs.map { $0.b - $0.a }
        let yValues = diffs + [ba.lowerLimitMM, ba.upperLimitMM, 0]
        let frame = SVGPlot(x: SVGPlot.padded(means.min()!...means.max()!), y: SVGPlot.padded(yValues.min()!...yValues.max()!))
        var s = frame.axes(title: "Bland-Altman: minimal ablation margin, observer B - observer A",
                           xLabel: "mean of the two MAMs (mm)", yLabel: "difference B - A (mm)")
        for (value, name, dash) in [(ba.biasMM, "bias", ""), (ba.upperLimitMM, "+1.96 SD", "6 4"), (ba.lowerLimitMM, "-1.96 SD", "6 4")] {
            s.append("<line x1=\"\(frame.left)\" y1=\"\(SVGPlot.f(frame.py(value)))\" x2=\"\(frame.width - frame.right)\" y2=\"\(SVGPlot.f(frame.py(value)))\" "
                     + "stroke=\"#c0392b\" stroke-dasharray=\"\(dash)\"/>")
            s.append("<text x=\"\(frame.width - frame.right - 4)\" y=\"\(SVGPlot.f(frame.py(value) - 4))\" text-anchor=\"end\" font-size=\"11\" "
                     + "fill=\"#c0392b\">\(name) \(SVGPlot.label(value)) mm</text>")
        }
        for (m, d) in zip(means, diffs) {
            s.append("<circle cx=\"\(SVGPlot.f(frame.px(m)))\" cy=\"\(SVGPlot.f(frame.py(d)))\" r=\"4\" fill=\"#2c7fb8\" fill-opacity=\"0.75\"/>")
        }
        return frame.document(s)
    }

    /// Dice of every pair, one column per structure: the points (spread sideways by a fixed
    /// pattern, so the picture is reproducible) and the median as a bar.
    public static func dice(_ byStructure: [(structure: String, values: [Double])]) -> String {
        let frame = SVGPlot(x: 0...Double(max(1, byStructure.count)), y: 0...1)
        var s = frame.axes(title: "Dice of the observers' segmentations", xLabel: "structure", yLabel: "Dice", numericX: false)
        for (column, entry) in byStructure.enumerated() {
            let centre = Double(column) + 0.5
            s.append("<text x=\"\(SVGPlot.f(frame.px(centre)))\" y=\"\(frame.height - frame.bottom + 20)\" text-anchor=\"middle\" font-size=\"11\">"
                     + "\(SVGPlot.escape(entry.structure))</text>")
            for (i, v) in entry.values.enumerated() {
                let offset = (Double(i % 7) - 3) * 0.04
                s.append("<circle cx=\"\(SVGPlot.f(frame.px(centre + offset)))\" cy=\"\(SVGPlot.f(frame.py(v)))\" r=\"3.5\" fill=\"#2c7fb8\" fill-opacity=\"0.7\"/>")
            }
            if let median = AgreementCohortReport.Summary(entry.values)?.median {
                s.append(SVGPlot.line(frame.px(centre - 0.25), frame.py(median), frame.px(centre + 0.25), frame.py(median), "#c0392b"))
            }
        }
        return frame.document(s)
    }
}
