import Foundation
import MAMCase

/// HTML pieces the pages share: the document with its style and script, tables, figures.
enum Page {
    static func escape(_ s: String) -> String { SVGPlot.escape(s) }

    static func mm(_ x: Double) -> String { String(format: "%.2f mm", x) }

    /// A slice image embedded as PNG data, with its plane's mapping (world to pixel) as a data
    /// attribute.
    static func image(_ png: Data, _ plane: SlicePlane, id: String, alt: String, classes: String = "") -> String {
        let mapping = (try? JSONSerialization.data(withJSONObject: plane.mapping, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "<img id=\"\(id)\" class=\"slice \(classes)\" width=\"\(plane.pixels)\" height=\"\(plane.pixels)\" alt=\"\(escape(alt))\" "
            + "data-orientation=\"\(plane.orientation.rawValue)\" data-plane=\"\(escape(mapping))\" "
            + "src=\"data:image/png;base64,\(png.base64EncodedString())\">"
    }

    /// The three views of `id` (`ID-VIEW-after` and `-before` in `pictures`), with a button
    /// that switches between after and before registration.
    static func beforeAfter(_ pictures: [String: Picture], id: String, scan: Bool = false,
                            legend entries: [(RGB, String)]? = nil) -> String {
        var images: [String] = []
        for view in SlicePlane.Orientation.allCases {
            for state in ["after", "before"] {
                let name = "\(id)-\(view.rawValue)-\(state)"
                guard let picture = pictures[name] else { continue }
                images.append(image(picture.png, picture.plane, id: name, alt: "\(view.rawValue) slice \(state) registration", classes: state))
            }
        }
        return "<figure class=\"slices pair\" id=\"\(id)\">" + images.joined()
            + "<figcaption><button type=\"button\" class=\"toggle\" data-target=\"\(id)\">Show before registration</button> "
            + "<span class=\"state\">after registration</span> "
            + legend(entries ?? (scan ? [] : [(Palette.liver, "post liver")])
                + [(Palette.zone, "ablation zone"), (Palette.preLiver, "pre liver"), (Palette.tumour, "tumour")])
            + "</figcaption></figure>"
    }

    static func legend(_ entries: [(RGB, String)]) -> String {
        entries.map { "<span class=\"key\"><span class=\"swatch\" style=\"background:\($0.0.hex)\"></span>\(escape($0.1))</span>" }.joined(separator: " ")
    }

    static func howTo(_ text: String) -> String { "<p class=\"howto\"><b>How to read it.</b> \(escape(text))</p>" }

    /// A two-column table of names and values (both escaped here).
    static func table(_ rows: [(String, String)], caption: String?) -> String {
        "<table class=\"figures\">" + (caption.map { "<caption>\(escape($0))</caption>" } ?? "")
            + rows.map { "<tr><th>\(escape($0.0))</th><td>\(escape($0.1))</td></tr>" }.joined() + "</table>"
    }

    static func document(title: String, body: String, script: String = toggleScript) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <title>\(escape(title))</title>
        <style>
        \(style)
        </style>
        </head>
        <body>
        \(body)
        <script>
        \(script)
        </script>
        </body>
        </html>

        """
    }

    static let style = """
        body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #1a1a1a; max-width: 1180px; }
        h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: 0.2em; margin-top: 1.6em; }
        table { border-collapse: collapse; margin: 0.6em 0; } th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
        caption { text-align: left; font-style: italic; padding-bottom: 0.3em; }
        figure { margin: 0.8em 0; } figure.slices img { margin-right: 6px; image-rendering: pixelated; }
        .pair.showing-before img.after, .pair:not(.showing-before) img.before { display: none; }
        .swatch { display: inline-block; width: 0.9em; height: 0.9em; margin: 0 0.3em 0 0.8em; vertical-align: middle; border: 1px solid #555; }
        .howto { background: #f4f6f8; border-left: 4px solid #7a8b99; padding: 0.5em 0.8em; max-width: 80em; }
        .warning { color: #a40000; font-weight: bold; } .ok { color: #1d6b2a; } .note { color: #555; max-width: 80em; }
        .digest { font-family: monospace; font-size: 0.8em; }
        th.sortable { cursor: pointer; } th.sortable:after { content: " \\2195"; color: #999; }
        """

    static let toggleScript = """
        document.querySelectorAll("button.toggle").forEach(function (button) {
          button.addEventListener("click", function () {
            var figure = document.getElementById(button.dataset.target);
            var before = figure.classList.toggle("showing-before");
            button.textContent = before ? "Show after registration" : "Show before registration";
            figure.querySelector(".state").textContent = before ? "before registration" : "after registration";
          });
        });
        """
}

/// The surface-margin histogram of a tumour as SVG, bars coloured by the protocol's categories.
enum Histogram {
    static func svg(_ bins: [CaseReport.HistogramBin], protocol p: CaseReport.ProtocolSummary) -> String {
        guard let first = bins.first, let last = bins.last else { return "" }
        let lower = min(first.lowerMM, 0, p.targetMarginMM) - 1, upper = max(last.upperMM, p.targetMarginMM) + 1
        let plot = SVGPlot(x: lower...upper, y: 0...max(0.05, (bins.map(\.areaFraction).max() ?? 0) * 1.1), width: 560, height: 300)
        let colours = CategoryColours(names: p.categories, cutoffsMM: p.categoryCutoffsMM, targetMM: p.targetMarginMM)
        var s = plot.axes(title: "Surface margins", xLabel: "margin (mm)", yLabel: "fraction of the tumour surface")
        for bin in bins where bin.areaFraction > 0 {
            let centre = (bin.lowerMM + bin.upperMM) / 2
            let category = p.categoryCutoffsMM.count(where: { $0 <= centre })
            let rgb = colours.entries[category].rgb
            let x0 = plot.px(bin.lowerMM), x1 = plot.px(bin.upperMM), y = plot.py(bin.areaFraction)
            s.append("<rect x=\"\(SVGPlot.f(x0))\" y=\"\(SVGPlot.f(y))\" width=\"\(SVGPlot.f(max(0.5, x1 - x0 - 1)))\" "
                     + "height=\"\(SVGPlot.f(plot.py(0) - y))\" fill=\"rgb(\(rgb.x),\(rgb.y),\(rgb.z))\"/>")
        }
        for (value, name) in [(0.0, "0 mm"), (p.targetMarginMM, "target")] {
            s.append("<line x1=\"\(SVGPlot.f(plot.px(value)))\" y1=\"\(plot.top)\" x2=\"\(SVGPlot.f(plot.px(value)))\" "
                     + "y2=\"\(SVGPlot.f(plot.py(0)))\" stroke=\"#333\" stroke-dasharray=\"5 4\"/>")
            s.append("<text x=\"\(SVGPlot.f(plot.px(value) + 3))\" y=\"\(plot.top + 12)\" font-size=\"11\">\(name)</text>")
        }
        return plot.document(s)
    }
}
