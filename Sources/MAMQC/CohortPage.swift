import Foundation
public import MAMCase

/// The cohort's page, index.html in a batch's output folder: one row per tumour (sortable,
/// filterable, linked to each case's qc.html, with the minimal-margin thumbnail), a waterfall
/// plot of every MAM with its interval, the category counts, the failed cases, and a review
/// form whose verdicts stay in the browser until exported (Docs/qc.md). Works from file://:
/// no server, no network.
public enum CohortPage {
    public static let fileName = "index.html"

    /// A case that failed, as the page lists it.
    public struct Failure: Sendable {
        public var caseId: String, stage: String, reason: String

        public init(caseId: String, stage: String, reason: String) {
            (self.caseId, self.stage, self.reason) = (caseId, stage, reason)
        }
    }

    /// A reviewer's verdict on a case already merged into the results (review.json).
    public struct Verdict: Sendable {
        public var review: String, comment: String

        public init(review: String, comment: String) {
            (self.review, self.comment) = (review, comment)
        }
    }

    /// The page for `reports` (case folder name and report, ordered by case id), `failures`,
    /// and the verdicts merged so far by case id; with `outcomes`, the files of an outcome
    /// analysis (`mam-quantify outcomes`) in the results' `outcomes/` folder, shown in a section.
    public static func html(reports: [(caseId: String, report: CaseReport)], failures: [Failure], verdicts: [String: Verdict],
                            outcomes: [String] = []) -> String {
        let tumours = reports.flatMap { entry in entry.report.tumours.map { (caseId: entry.caseId, report: entry.report, tumour: $0) } }
        var body = ["<header><h1>mam-quantify: cohort</h1>",
                    "<p>\(reports.count) cases analysed, \(tumours.count) tumours, \(failures.count) failed cases. "
                        + "Each case's page (qc.html) shows its slices; this page is rebuilt with summary.csv.</p></header>"]
        body.append(categoryCounts(tumours.map { ($0.report, $0.tumour) }))
        body.append("<section id=\"waterfall\"><h2>All minimal margins</h2>" + waterfall(tumours.map { ($0.report, $0.tumour) })
                    + Page.howTo("""
                        Every tumour's MAM, smallest first, coloured by its category, with its 95% \
                        interval as a line; the dashed line is the target margin. Tumours whose \
                        interval crosses the target are the ones whose category a second look \
                        (or a better registration) could change.
                        """) + "</section>")
        body.append(tumourTable(tumours))
        if !failures.isEmpty {
            body.append("<section id=\"failures\"><h2>Failed cases</h2><table><tr><th>case</th><th>stage</th><th>reason</th></tr>"
                        + failures.map { "<tr><td>\(Page.escape($0.caseId))</td><td>\(Page.escape($0.stage))</td><td>\(Page.escape($0.reason))</td></tr>" }.joined()
                        + "</table></section>")
        }
        if !outcomes.isEmpty { body.append(outcomesSection(outcomes)) }
        body.append(reviewForm(reports.map(\.caseId), verdicts))
        return Page.document(title: "mam-quantify: cohort", body: body.joined(separator: "\n"), script: script)
    }

    /// The outcome analysis's plots and links to its report and tables (files in `outcomes/`).
    static func outcomesSection(_ files: [String]) -> String {
        let links = files.filter { !$0.hasSuffix(".svg") }.map { "<a href=\"outcomes/\(Page.escape($0))\">\(Page.escape($0))</a>" }
        let plots = files.filter { $0.hasSuffix(".svg") }.map { "<img src=\"outcomes/\(Page.escape($0))\" alt=\"\(Page.escape($0))\">" }
        return "<section id=\"outcomes\"><h2>Outcomes</h2><p>Local tumour progression related to the margins "
            + "(mam-quantify outcomes; Docs/outcomes.md): " + links.joined(separator: ", ") + ".</p>" + plots.joined() + "</section>"
    }

    static func link(_ caseId: String, _ file: String) -> String {
        (caseId.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? caseId) + "/" + file
    }

    static func categoryCounts(_ tumours: [(CaseReport, CaseReport.Tumour)]) -> String {
        var order: [String] = [], counts: [String: Int] = [:]
        for (_, t) in tumours {
            let name = t.category?.name ?? "no margin"
            if counts[name] == nil { order.append(name) }
            counts[name, default: 0] += 1
        }
        // In the protocols' category order (the first report's), then any other names.
        let known = tumours.first?.0.analysisProtocol.categories ?? []
        let sorted = known.filter { counts[$0] != nil } + order.filter { !known.contains($0) }
        return "<section id=\"categories\"><h2>Categories</h2><table id=\"category-counts\"><tr><th>category</th><th>tumours</th></tr>"
            + sorted.map { "<tr><td>\(Page.escape($0))</td><td>\(counts[$0]!)</td></tr>" }.joined() + "</table></section>"
    }

    /// The MAMs sorted, as bars from 0 coloured by category, with interval lines.
    static func waterfall(_ tumours: [(CaseReport, CaseReport.Tumour)]) -> String {
        let measured = tumours.compactMap { r, t in t.minimalMarginMM.map { (r, t, $0) } }.sorted { $0.2 < $1.2 }
        guard !measured.isEmpty else { return "<p>No tumour has a margin.</p>" }
        let target = measured[0].0.analysisProtocol.targetMarginMM
        let values: [Double] = measured.flatMap { entry -> [Double] in [entry.2] + (entry.1.uncertainty?.minimalMarginInterval95MM ?? []) } + [0, target]
        let plot = SVGPlot(x: 0...Double(measured.count), y: SVGPlot.padded(values.min()!...values.max()!), width: 900, height: 420)
        var s = plot.axes(title: "Minimal ablation margin per tumour, sorted", xLabel: "tumours, smallest margin first",
                          yLabel: "MAM (mm)", numericX: false)
        let width = (plot.px(1) - plot.px(0)) * 0.8
        // Each protocol's colours once (a cohort has one protocol, or a few).
        var coloursByProtocol: [String: CategoryColours] = [:]
        for (n, (r, t, mam)) in measured.enumerated() {
            let p = r.analysisProtocol
            let colours = coloursByProtocol[p.sha256] ?? CategoryColours(names: p.categories, cutoffsMM: p.categoryCutoffsMM, targetMM: p.targetMarginMM)
            coloursByProtocol[p.sha256] = colours
            let rgb = colours.entries[(t.category?.index ?? 1) - 1].rgb
            let x = plot.px(Double(n) + 0.5)
            let (top, bottom) = (plot.py(max(mam, 0)), plot.py(min(mam, 0)))
            s.append("<rect x=\"\(SVGPlot.f(x - width / 2))\" y=\"\(SVGPlot.f(top))\" width=\"\(SVGPlot.f(max(width, 0.5)))\" "
                     + "height=\"\(SVGPlot.f(max(bottom - top, 0.5)))\" fill=\"rgb(\(rgb.x),\(rgb.y),\(rgb.z))\"><title>"
                     + Page.escape("tumour \(t.number): MAM \(Page.mm(mam))") + "</title></rect>")
            if let i = t.uncertainty?.minimalMarginInterval95MM {
                s.append(SVGPlot.line(x, plot.py(i[0]), x, plot.py(i[1]), "#333"))
            }
        }
        s.append(SVGPlot.line(plot.left, plot.py(0), plot.width - plot.right, plot.py(0), "#000"))
        s.append("<line x1=\"\(plot.left)\" y1=\"\(SVGPlot.f(plot.py(target)))\" x2=\"\(plot.width - plot.right)\" "
                 + "y2=\"\(SVGPlot.f(plot.py(target)))\" stroke=\"#1a9850\" stroke-dasharray=\"6 4\"/>")
        s.append("<text x=\"\(plot.width - plot.right - 4)\" y=\"\(SVGPlot.f(plot.py(target) - 4))\" text-anchor=\"end\" "
                 + "font-size=\"11\" fill=\"#1a9850\">target \(Page.mm(target))</text>")
        return plot.document(s)
    }

    static func tumourTable(_ tumours: [(caseId: String, report: CaseReport, tumour: CaseReport.Tumour)]) -> String {
        let headers = [("case", "text"), ("tumour", "number"), ("MAM (mm)", "number"), ("95% interval", "text"), ("category", "text"),
                       ("target", "text"), ("registration", "text"), ("warnings", "text"), ("slice", "none")]
        var rows = ["<tr>" + headers.enumerated().map { n, h in
            h.1 == "none" ? "<th>\(h.0)</th>" : "<th class=\"sortable\" data-column=\"\(n)\" data-type=\"\(h.1)\">\(h.0)</th>"
        }.joined() + "</tr>"]
        for (caseId, r, t) in tumours {
            let page = r.outputs.qcPage.map { "<a href=\"\(Page.escape(link(caseId, $0)))#tumour-\(t.number)\">\(Page.escape(caseId))</a>" }
                ?? Page.escape(caseId)
            let thumbnail = r.outputs.qcThumbnails.first { $0 == CasePipeline.FileName.qcThumbnail(tumour: t.number) }
                .map { "<img class=\"thumbnail\" width=\"96\" height=\"96\" alt=\"\" src=\"\(Page.escape(link(caseId, $0)))\">" } ?? ""
            let interval = t.uncertainty.map { String(format: "%.2f to %.2f", $0.minimalMarginInterval95MM[0], $0.minimalMarginInterval95MM[1]) } ?? ""
            let warnings = r.warnings.count + (r.marginsReliable ? 0 : 1)
            let cells: [(String, String)] = [
                (caseId, page), ("\(t.number)", "\(t.number)"),
                (t.minimalMarginMM.map { String($0) } ?? "", t.minimalMarginMM.map { String(format: "%.2f", $0) } ?? Page.escape(t.message ?? t.outcome)),
                (interval, interval),
                (t.category?.name ?? "", Page.escape(t.category?.name ?? "") + (t.uncertainty?.categoryUncertain == true ? " (uncertain)" : "")),
                (t.meetsTargetMargin.map { $0 ? "met" : "not met" } ?? "", t.meetsTargetMargin.map { $0 ? "met" : "not met" } ?? ""),
                (r.registration.verdict, Page.escape(r.registration.verdict)),
                ("\(warnings)", warnings == 0 ? "" : "<span title=\"\(Page.escape(r.warnings.joined(separator: "\n")))\">\(warnings)</span>"),
                ("", thumbnail),
            ]
            rows.append("<tr class=\"tumour-row\">" + cells.map { "<td data-sort=\"\(Page.escape($0.0))\">\($0.1)</td>" }.joined() + "</tr>")
        }
        return "<section id=\"tumours\"><h2>Tumours</h2><p><label>Filter: <input id=\"filter\" type=\"search\" "
            + "placeholder=\"case, category, verdict ...\"></label> <span id=\"shown\"></span></p>"
            + "<table id=\"tumour-table\">" + rows.joined(separator: "\n") + "</table>"
            + Page.howTo("Click a column's heading to sort by it (again to reverse); the filter keeps the rows that contain its text. "
                         + "A case's name opens its page at that tumour.") + "</section>"
    }

    static func reviewForm(_ cases: [String], _ verdicts: [String: Verdict]) -> String {
        var rows = ["<tr><th>case</th><th>accept</th><th>reject</th><th>comment</th></tr>"]
        for id in cases {
            let v = verdicts[id]
            let name = Page.escape(id)
            rows.append("<tr class=\"review-row\" data-case=\"\(name)\" data-review=\"\(Page.escape(v?.review ?? ""))\" "
                        + "data-comment=\"\(Page.escape(v?.comment ?? ""))\"><td>\(name)</td>"
                        + "<td><input type=\"radio\" name=\"review-\(name)\" value=\"accept\"></td>"
                        + "<td><input type=\"radio\" name=\"review-\(name)\" value=\"reject\"></td>"
                        + "<td><input type=\"text\" class=\"comment\" size=\"50\"></td></tr>")
        }
        return "<section id=\"review\"><h2>Review</h2>"
            + Page.howTo("""
                Accept or reject each case and add a comment; your choices stay in this browser while \
                you review (they survive reloading the page). Export them as a file and merge it into \
                the results with `mam-quantify review RESULTS FILE`: summary.csv then carries a review \
                column, and this page starts from the merged verdicts.
                """)
            + "<p><button type=\"button\" id=\"export-csv\">Export review (CSV)</button> "
            + "<button type=\"button\" id=\"export-json\">Export review (JSON)</button> <span id=\"reviewed\"></span></p>"
            + "<table id=\"review-table\">" + rows.joined(separator: "\n") + "</table></section>"
    }

    static let script = """
        (function () {
          var table = document.getElementById("tumour-table");
          var body = table.tBodies[0];
          var rows = Array.prototype.slice.call(body.querySelectorAll("tr.tumour-row"));
          table.querySelectorAll("th.sortable").forEach(function (th) {
            th.addEventListener("click", function () {
              var column = Number(th.dataset.column), numeric = th.dataset.type === "number";
              var ascending = th.dataset.order !== "ascending";
              table.querySelectorAll("th.sortable").forEach(function (other) { delete other.dataset.order; });
              th.dataset.order = ascending ? "ascending" : "descending";
              rows.sort(function (a, b) {
                var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
                var order;
                if (numeric) {
                  var p = x === "" ? Infinity : Number(x), q = y === "" ? Infinity : Number(y);
                  order = p < q ? -1 : p > q ? 1 : 0;
                } else {
                  order = x.localeCompare(y);
                }
                return ascending ? order : -order;
              });
              rows.forEach(function (row) { body.appendChild(row); });
            });
          });
          var filter = document.getElementById("filter"), shown = document.getElementById("shown");
          function applyFilter() {
            var text = filter.value.trim().toLowerCase(), count = 0;
            rows.forEach(function (row) {
              var keep = text === "" || row.textContent.toLowerCase().indexOf(text) >= 0;
              row.style.display = keep ? "" : "none";
              if (keep) { count += 1; }
            });
            shown.textContent = count + " of " + rows.length + " tumours shown";
          }
          filter.addEventListener("input", applyFilter);
          applyFilter();

          var key = "mam-quantify-review:" + location.pathname;
          var saved = {};
          try { saved = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { saved = {}; }
          var reviewRows = Array.prototype.slice.call(document.querySelectorAll("tr.review-row"));
          function current(row) {
            var checked = row.querySelector("input[type=radio]:checked");
            return { review: checked ? checked.value : "", comment: row.querySelector("input.comment").value };
          }
          function count() {
            var n = reviewRows.filter(function (row) { return current(row).review !== ""; }).length;
            document.getElementById("reviewed").textContent = n + " of " + reviewRows.length + " cases reviewed";
          }
          reviewRows.forEach(function (row) {
            var id = row.dataset.case;
            var state = saved[id] || { review: row.dataset.review, comment: row.dataset.comment };
            row.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.checked = radio.value === state.review; });
            row.querySelector("input.comment").value = state.comment || "";
            row.addEventListener("change", function () {
              saved[id] = current(row);
              localStorage.setItem(key, JSON.stringify(saved));
              count();
            });
            row.querySelector("input.comment").addEventListener("input", function () {
              saved[id] = current(row);
              localStorage.setItem(key, JSON.stringify(saved));
            });
          });
          count();
          function reviews() {
            return reviewRows.map(function (row) {
              var state = current(row);
              return { caseId: row.dataset.case, review: state.review, comment: state.comment };
            }).filter(function (r) { return r.review !== "" || r.comment !== ""; });
          }
          function download(name, type, text) {
            var link = document.createElement("a");
            link.href = URL.createObjectURL(new Blob([text], { type: type }));
            link.download = name;
            document.body.appendChild(link);
            link.click();
            document.body.removeChild(link);
          }
          function csvField(value) {
            return /[",\\r\\n]/.test(value) ? "\\"" + value.replace(/"/g, "\\"\\"") + "\\"" : value;
          }
          document.getElementById("export-csv").addEventListener("click", function () {
            var lines = ["case_id,review,comment"].concat(reviews().map(function (r) {
              return [r.caseId, r.review, r.comment].map(csvField).join(",");
            }));
            download("review.csv", "text/csv", lines.join("\\n") + "\\n");
          });
          document.getElementById("export-json").addEventListener("click", function () {
            download("review.json", "application/json", JSON.stringify({ reviews: reviews() }, null, 2) + "\\n");
          });
        })();
        """
}
