import Foundation
import MAMQC

/// The outcome analysis's pictures, as SVG, drawn like the project's other plots.
public enum OutcomePlots {
    static let palette = ["#d7301f", "#fc8d59", "#2c7fb8", "#41ab5d", "#6a51a3", "#636363"]

    /// A step curve through (time, value) points, and its interval as a shaded band.
    static func steps(_ frame: SVGPlot, _ steps: [OutcomesReport.CurveStep], until end: Double, colour: String) -> [String] {
        guard !steps.isEmpty else { return [] }
        var line = "M \(SVGPlot.f(frame.px(0))) \(SVGPlot.f(frame.py(steps[0].estimate)))"
        var upper: [String] = [], lower: [String] = []
        for (n, s) in steps.enumerated() {
            let next = n + 1 < steps.count ? steps[n + 1].time : end
            line += " H \(SVGPlot.f(frame.px(s.time))) V \(SVGPlot.f(frame.py(s.estimate))) H \(SVGPlot.f(frame.px(next)))"
            upper.append("\(SVGPlot.f(frame.px(s.time))),\(SVGPlot.f(frame.py(s.upper95))) \(SVGPlot.f(frame.px(next))),\(SVGPlot.f(frame.py(s.upper95)))")
            lower.insert("\(SVGPlot.f(frame.px(next))),\(SVGPlot.f(frame.py(s.lower95))) \(SVGPlot.f(frame.px(s.time))),\(SVGPlot.f(frame.py(s.lower95)))", at: 0)
        }
        return ["<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(colour)\" fill-opacity=\"0.12\" stroke=\"none\"/>",
                "<path d=\"\(line)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>"]
    }

    /// Kaplan-Meier LTP-free curves per category with their 95% bands and the numbers at risk
    /// under the time axis.
    public static func kaplanMeier(_ report: OutcomesReport) -> String {
        let curves = report.kaplanMeier.curves.filter { $0.tumours > 0 }
        let end = max(1, curves.flatMap { $0.steps.map(\.time) }.max() ?? 1)
        // Under the axis: its label, then "at risk" and one row of numbers per curve, marked by
        // the curve's colour (the legend names it).
        let frame = SVGPlot(x: 0...end, y: 0...1, width: 680, height: 440 + 44 + Double(curves.count) * 16)
        let axis = frame.height - frame.bottom
        var s = frame.axes(title: "LTP-free probability by margin category (Kaplan-Meier, 95% bands)",
                           xLabel: "", yLabel: "LTP-free probability")
        s.append("<text x=\"\(frame.width / 2)\" y=\"\(SVGPlot.f(axis + 38))\" text-anchor=\"middle\" font-size=\"13\">"
                 + "time (\(report.timeUnit))</text>")
        s.append("<text x=\"\(SVGPlot.f(frame.left))\" y=\"\(SVGPlot.f(axis + 62))\" font-size=\"11\" font-weight=\"bold\">at risk</text>")
        let ticks = SVGPlot.ticks(frame.x)
        for (n, curve) in curves.enumerated() {
            let colour = palette[n % palette.count]
            let y = axis + 78 + 16 * Double(n)
            s += steps(frame, curve.steps, until: end, colour: colour)
            s.append("<rect x=\"\(SVGPlot.f(frame.left - 30))\" y=\"\(SVGPlot.f(y - 9))\" width=\"10\" height=\"10\" fill=\"\(colour)\"/>")
            for t in ticks {
                let atRisk = curve.steps.first { $0.time >= t }?.atRisk ?? 0
                s.append("<text x=\"\(SVGPlot.f(frame.px(t)))\" y=\"\(SVGPlot.f(y))\" text-anchor=\"middle\" font-size=\"11\">\(atRisk)</text>")
            }
            s.append("<text x=\"\(SVGPlot.f(frame.width - frame.right))\" y=\"\(SVGPlot.f(frame.top + 16 + 16 * Double(n)))\" text-anchor=\"end\" "
                     + "font-size=\"12\" fill=\"\(colour)\">\(SVGPlot.escape(curve.group)) (\(curve.tumours))</text>")
        }
        return frame.document(s)
    }

    /// The cumulative incidence of LTP with competing events (Aalen-Johansen, 95% band).
    public static func cumulativeIncidence(_ incidence: OutcomesReport.Incidence, timeUnit: String) -> String {
        let end = max(1, incidence.steps.map(\.time).max() ?? 1)
        let top = min(1, max(0.1, (incidence.steps.map(\.upper95).max() ?? 0) * 1.1))
        let frame = SVGPlot(x: 0...end, y: 0...top)
        var s = frame.axes(title: "Cumulative incidence of LTP, competing events accounted for (Aalen-Johansen)",
                           xLabel: "time (\(timeUnit))", yLabel: "cumulative incidence")
        s += steps(frame, incidence.steps, until: end, colour: palette[0])
        return frame.document(s)
    }

    /// The ROC curve of each figure, with its area.
    public static func roc(_ figures: [OutcomesReport.Figure]) -> String {
        let frame = SVGPlot(x: 0...1, y: 0...1, width: 520, height: 500)
        var s = frame.axes(title: "ROC: LTP by the horizon", xLabel: "1 - specificity", yLabel: "sensitivity")
        s.append("<line x1=\"\(SVGPlot.f(frame.px(0)))\" y1=\"\(SVGPlot.f(frame.py(0)))\" x2=\"\(SVGPlot.f(frame.px(1)))\" "
                 + "y2=\"\(SVGPlot.f(frame.py(1)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>")
        for (n, figure) in figures.enumerated() {
            guard let roc = figure.roc else { continue }
            let colour = palette[n % palette.count]
            let points = roc.points.map { "\(SVGPlot.f(frame.px($0[0]))),\(SVGPlot.f(frame.py($0[1])))" }.joined(separator: " ")
            s.append("<polyline points=\"\(points)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"/>")
            s.append("<text x=\"\(SVGPlot.f(frame.px(0.98)))\" y=\"\(SVGPlot.f(frame.py(0.05) - 16 * Double(figures.count - 1 - n)))\" "
                     + "text-anchor=\"end\" font-size=\"12\" fill=\"\(colour)\">\(SVGPlot.escape(figure.label)): AUC \(String(format: "%.2f", roc.auc))</text>")
        }
        return frame.document(s)
    }

    /// The LTP rate per category with its exact 95% interval.
    public static func rates(_ rates: [OutcomesReport.Rate]) -> String {
        let frame = SVGPlot(x: 0...Double(max(1, rates.count)), y: 0...1)
        var s = frame.axes(title: "LTP rate per margin category (Clopper-Pearson 95%)", xLabel: "category", yLabel: "LTP rate",
                           numericX: false)
        for (n, rate) in rates.enumerated() {
            let centre = Double(n) + 0.5
            s.append("<text x=\"\(SVGPlot.f(frame.px(centre)))\" y=\"\(frame.height - frame.bottom + 20)\" text-anchor=\"middle\" font-size=\"11\">"
                     + "\(SVGPlot.escape(rate.group)) (\(rate.ltp)/\(rate.tumours))</text>")
            guard let r = rate.rate, let lo = rate.lower95, let hi = rate.upper95 else { continue }
            s.append("<rect x=\"\(SVGPlot.f(frame.px(centre - 0.3)))\" y=\"\(SVGPlot.f(frame.py(r)))\" width=\"\(SVGPlot.f(frame.px(0.6) - frame.px(0)))\" "
                     + "height=\"\(SVGPlot.f(frame.py(0) - frame.py(r)))\" fill=\"\(palette[2])\" fill-opacity=\"0.6\"/>")
            s.append(SVGPlot.line(frame.px(centre), frame.py(lo), frame.px(centre), frame.py(hi), "#000"))
            s.append(SVGPlot.line(frame.px(centre - 0.08), frame.py(lo), frame.px(centre + 0.08), frame.py(lo), "#000"))
            s.append(SVGPlot.line(frame.px(centre - 0.08), frame.py(hi), frame.px(centre + 0.08), frame.py(hi), "#000"))
        }
        return frame.document(s)
    }

    /// Each tumour's MAM against its follow-up time, LTP marked: the picture of where the
    /// progressions fall.
    public static func marginAgainstOutcome(_ tumours: [OutcomeTumour], timeUnit: String, hypothesisMarginMM: Double) -> String {
        let mams = tumours.compactMap { $0.figures[0] }
        let frame = SVGPlot(x: SVGPlot.padded((mams.min() ?? 0)...(mams.max() ?? 1)), y: 0...max(1, (tumours.map(\.time).max() ?? 1) * 1.05))
        var s = frame.axes(title: "MAM and follow-up of each tumour (filled: LTP)", xLabel: "minimal ablation margin (mm)",
                           yLabel: "time to LTP or last follow-up (\(timeUnit))")
        s.append("<line x1=\"\(SVGPlot.f(frame.px(hypothesisMarginMM)))\" y1=\"\(frame.top)\" x2=\"\(SVGPlot.f(frame.px(hypothesisMarginMM)))\" "
                 + "y2=\"\(frame.height - frame.bottom)\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>")
        for t in tumours {
            guard let m = t.figures[0] else { continue }
            let style = t.ltp ? "fill=\"\(palette[0])\"" : t.competing ? "fill=\"none\" stroke=\"#636363\"" : "fill=\"none\" stroke=\"\(palette[2])\""
            s.append("<circle cx=\"\(SVGPlot.f(frame.px(m)))\" cy=\"\(SVGPlot.f(frame.py(t.time)))\" r=\"3.5\" \(style)/>")
        }
        return frame.document(s)
    }
}
