import Foundation
import MAMCase
import MAMCore

/// One tumour's part of the page: its margin slices, histogram, figures, and the registration
/// around it.
struct TumourSection {
    let html: String

    init(views: CaseViews, pictures: [String: Picture], index n: Int, tumour t: CaseReport.Tumour) {
        let p = views.report.analysisProtocol
        var parts = ["<section class=\"tumour\" id=\"tumour-\(t.number)\">",
                     "<h2>Tumour \(t.number)\(t.label.map { " (label \($0))" } ?? "")</h2>"]
        if t.minimalMarginMM != nil {
            let images = SlicePlane.Orientation.allCases.compactMap { view -> String? in
                let id = "tumour-\(t.number)-\(view.rawValue)"
                return pictures[id].map { Page.image($0.png, $0.plane, id: id, alt: "tumour \(t.number), \(view.rawValue) slice through the minimal margin") }
            }
            parts.append("<figure class=\"slices\">" + images.joined() + "<figcaption>" + Page.legend([
                (Palette.zone, "ablation zone"), (Palette.tumour, "tumour (registered)"),
                (Palette.shell, "\(Page.mm(p.targetMarginMM)) target-margin shell"), (Palette.marker, "minimal margin"),
            ] + (views.postScan == nil ? [(Palette.liver, "post liver")] : [])) + "</figcaption></figure>")
            parts.append(Page.howTo("""
                Axial, coronal and sagittal slices of the post-ablation scan through the point of \
                minimal margin (the cross). The tumour, moved onto the post scan by the registration, \
                should lie inside the ablation zone, and so should its magenta shell (the tumour \
                grown by the target margin) wherever the margin reaches the target. The cross marks where the \
                zone's edge comes closest to (or furthest into) the tumour. Suspect the result when \
                the tumour outline sits across the liver's edge, when the zone has a gap the cross \
                does not point to, or when the cross lies far from both outlines.
                """))
        } else {
            parts.append("<p class=\"warning\">No margin: \(Page.escape(t.message ?? t.outcome)).</p>")
        }
        if let s = t.surface {
            parts.append("<figure class=\"plot\">" + Histogram.svg(s.histogram, protocol: p) + "</figure>")
            parts.append(Page.howTo("""
                How much of the tumour's surface (area) has each margin, coloured by the protocol's \
                categories; the dashed lines are 0 mm and the target. The MAM is the leftmost bar's \
                lower end. A thin tail to the left of an otherwise comfortable margin points at one \
                place (look at the cross above); a wide spread below the target means a broad miss.
                """))
        }
        parts.append(Page.table(Self.figures(t, p), caption: "Figures of the report (report.json, tumours[\(n)])"))
        let warnings = views.report.warnings.filter { $0.hasPrefix("tumour \(t.number): ") }
        if !warnings.isEmpty {
            parts.append("<ul class=\"warning\">" + warnings.map { "<li>\(Page.escape($0))</li>" }.joined() + "</ul>")
        }
        if views.scene.postLiver != nil {
            parts.append("<h3>Registration around tumour \(t.number)</h3>")
            parts.append(Page.beforeAfter(pictures, id: "registration-tumour-\(t.number)", scan: views.postScan != nil))
            parts.append(Page.howTo("""
                The post liver (grey) with the pre liver's outline (green) and the tumour (cyan) \
                carried by the transform that measured this tumour; the button shows them without \
                the transform. After registration the green outline should follow the grey liver's \
                edge closely near the tumour; a shift of the outline there, even a small one, \
                shifts the margin by as much.
                """))
        }
        parts.append("</section>")
        html = parts.joined(separator: "\n")
    }

    static func figures(_ t: CaseReport.Tumour, _ p: CaseReport.ProtocolSummary) -> [(String, String)] {
        var rows: [(String, String)] = [("volume", String(format: "%.2f mL", t.volumeML))]
        if let m = t.minimalMarginMM {
            rows.append(("minimal ablation margin (MAM)", Page.mm(m)))
            if let u = t.uncertainty {
                let i = u.minimalMarginInterval95MM
                rows.append(("95% interval", "\(Page.mm(i[0])) to \(Page.mm(i[1]))"))
                rows.append(("P(MAM >= \(Page.mm(p.targetMarginMM)))", String(format: "%.2f", u.probabilityMeetsTarget)))
                rows.append(("P(MAM >= 0 mm)", String(format: "%.2f", u.probabilityAtLeastZero)))
            }
            if let c = t.category {
                rows.append(("category", c.name + (t.uncertainty?.categoryUncertain == true ? " (uncertain: the interval holds a cut-off)" : "")))
            }
            if let met = t.meetsTargetMargin { rows.append(("target margin", met ? "met" : "not met")) }
        }
        if let f = t.fractionInsideAblation { rows.append(("tumour inside the ablation zone", String(format: "%.1f%%", 100 * f))) }
        if let r = t.residualVolumeML { rows.append(("residual (unablated) tumour", String(format: "%.3f mL", r))) }
        for shell in t.shells {
            rows.append(("\(Page.mm(shell.widthMM)) shell ablated", shell.fractionAblated.map { String(format: "%.1f%%", 100 * $0) } ?? "no liver around"))
        }
        if let s = t.surface {
            rows.append(("surface margin: 5th percentile, median", "\(Page.mm(s.p5MM)), \(Page.mm(s.p50MM))"))
            rows.append(("surface below 0 mm, below the target", String(format: "%.1f%%, %.1f%%", 100 * s.fractionBelowZero, 100 * s.fractionBelowTarget)))
        }
        let r = t.registrationAtTumour
        rows.append(("transform used", r.transformUsed))
        if let g = r.globalMinimalMarginMM, let l = r.localMinimalMarginMM {
            rows.append(("MAM with the whole-liver fit, the local fit", "\(Page.mm(g)), \(Page.mm(l))"))
        }
        if let d = r.localToGlobalDisplacementMM { rows.append(("local vs whole-liver fit at the tumour centre", Page.mm(d))) }
        return rows
    }
}

/// The whole page.
struct CasePage {
    let report: CaseReport
    let views: CaseViews
    let pictures: [String: Picture]
    let tumourSections: [String]
    let scans: [ScanInput]

    var html: String {
        let r = report
        var body = ["<header><h1>mam-quantify: case \(Page.escape(r.caseId))</h1>",
                    "<p class=\"\(r.marginsReliable ? "ok" : "warning")\">status \(r.status.rawValue); "
                        + "\(r.marginsReliable ? "margins reliable" : "margins UNRELIABLE: the registration was rejected"); "
                        + "protocol \(Page.escape(r.analysisProtocol.name)) (version \(Page.escape(r.analysisProtocol.version))), "
                        + "target margin \(Page.mm(r.analysisProtocol.targetMarginMM))</p>",
                    "<p class=\"note\">Slices are drawn in the post-ablation scan's world as radiologists read them: axial and coronal "
                        + "images show the patient's right on the image's left (R) and the patient's left on the image's right (L); "
                        + "axial images have anterior (A) at the top, coronal and sagittal superior (S); sagittal images have "
                        + "anterior on the left. Each image carries its scale bar.</p></header>"]
        body.append(summary)
        if !r.warnings.isEmpty {
            body.append("<section id=\"warnings\"><h2>Warnings</h2><ul>" + r.warnings.map { "<li>\(Page.escape($0))</li>" }.joined() + "</ul></section>")
        }
        body.append(registration)
        body += tumourSections
        body.append(inputs)
        return Page.document(title: "mam-quantify QC: case \(r.caseId)", body: body.joined(separator: "\n"))
    }

    var summary: String {
        let target = Page.mm(report.analysisProtocol.targetMarginMM)
        var rows = ["<tr><th>tumour</th><th>volume</th><th>MAM</th><th>95% interval</th><th>P(&gt;= \(target))</th>"
                    + "<th>category</th><th>target</th><th>inside zone</th></tr>"]
        for t in report.tumours {
            let interval = t.uncertainty.map { "\(Page.mm($0.minimalMarginInterval95MM[0])) to \(Page.mm($0.minimalMarginInterval95MM[1]))" } ?? ""
            let cells = ["<a href=\"#tumour-\(t.number)\">\(t.number)</a>", String(format: "%.2f mL", t.volumeML),
                         t.minimalMarginMM.map(Page.mm) ?? Page.escape(t.message ?? t.outcome), interval,
                         t.uncertainty.map { String(format: "%.2f", $0.probabilityMeetsTarget) } ?? "",
                         Page.escape(t.category?.name ?? "") + (t.uncertainty?.categoryUncertain == true ? " (uncertain)" : ""),
                         t.meetsTargetMargin.map { $0 ? "met" : "not met" } ?? "",
                         t.fractionInsideAblation.map { String(format: "%.1f%%", 100 * $0) } ?? ""]
            rows.append("<tr>" + cells.map { "<td>\($0)</td>" }.joined() + "</tr>")
        }
        return "<section id=\"summary\"><h2>Tumours</h2><table>" + rows.joined() + "</table></section>"
    }

    var registration: String {
        let g = report.registration
        var parts = ["<section id=\"registration\"><h2>Registration</h2>",
                     "<p>method \(g.method.rawValue); verdict <b>\(Page.escape(g.verdict))</b>"
                        + String(format: "; rotation %.2f degrees, translation %@", g.rotationDegrees,
                                 "(" + g.translationMM.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ") mm") + "</p>"]
        if !g.reasons.isEmpty { parts.append("<ul>" + g.reasons.map { "<li>\(Page.escape($0))</li>" }.joined() + "</ul>") }
        if let q = g.quality, let a = g.acceptance {
            parts.append(Page.table([
                ("liver Dice", String(format: "%.3f (at least %.3g)", q.liverDice, a.minLiverDice)),
                ("mean surface distance", String(format: "%.2f mm (at most %.3g mm)", q.meanSurfaceDistanceMM, a.maxMeanSurfaceDistanceMM)),
                ("95th percentile surface distance", String(format: "%.2f mm (at most %.3g mm)", q.surfaceDistance95MM, a.maxSurfaceDistance95MM)),
                ("inlier fraction", String(format: "%.3f (at least %.3g)", q.inlierFraction, a.minInlierFraction)),
                ("inlier RMS, iterations", String(format: "%.2f mm, %d", q.inlierRMSMM, q.iterations)),
            ], caption: "Quality figures and the protocol's acceptance (report.json, registration)"))
        }
        if let cuts = g.fieldOfViewCuts, !(cuts.pre.isEmpty && cuts.post.isEmpty) {
            parts.append("<p>Field-of-view cuts left out of the fit: pre \(cuts.pre.joined(separator: ", ")), "
                         + "post \(cuts.post.joined(separator: ", ")).</p>")
        }
        if pictures["registration-liver-axial-after"] == nil {
            parts.append("<p>No liver masks: no registration pictures.</p>")
        } else {
            parts.append(Page.beforeAfter(pictures, id: "registration-liver", scan: views.postScan != nil))
            parts.append(Page.howTo("""
                The post liver (grey, ablation zone orange) with the pre liver's outline (green) \
                and the tumours (cyan) moved by the whole-liver transform; the button shows the \
                pre outlines where they lay before registration. A good registration lays the \
                green outline on the grey liver's edge all round, apart from where the liver \
                truly changed (the ablation zone, a cut field of view, breathing at the dome). \
                A failure looks like an outline shifted or turned as a whole, or lying on another \
                organ's place; the quality figures then usually say so, but not always: look.
                """))
        }
        if pictures["registration-prescan-axial-after"] != nil {
            parts.append("<h3>The pre-ablation scan through the transform</h3>")
            parts.append(Page.beforeAfter(pictures, id: "registration-prescan", legend: [(Palette.postLiverOutline, "post liver")]))
            parts.append(Page.howTo("""
                The pre-ablation scan moved onto the post-ablation scan by the whole-liver transform \
                (the button shows it unmoved), under the post liver's outline (pink). Vessels, the \
                liver's edge and the other organs should sit where the post scan has them; a \
                structure that is consistently shifted shows a registration error the liver masks \
                alone may hide.
                """))
        }
        parts.append("</section>")
        return parts.joined(separator: "\n")
    }

    var inputs: String {
        let r = report
        var rows = ["<tr><th>role</th><th>file</th><th>SHA-256</th><th>geometry</th></tr>"]
        for input in r.inputs {
            let geometry = input.geometry.map { g in
                "\(g.sizeVoxels.map(String.init).joined(separator: " x ")) voxels of "
                    + g.spacingMM.map { String(format: "%.3g", $0) }.joined(separator: " x ") + " mm, \(g.orientation) (\(g.geometrySource))"
            } ?? ""
            rows.append("<tr><td>\(input.role)</td><td>\(Page.escape(input.path))</td><td class=\"digest\">\(input.sha256)</td>"
                        + "<td>\(Page.escape(geometry))</td></tr>")
        }
        // The scans under the outlines: shown, not measured (not in report.json).
        for scan in scans {
            rows.append("<tr><td>\(scan.role)</td><td>\(Page.escape(scan.path))</td><td class=\"digest\">\(scan.sha256)</td>"
                        + "<td>\(Page.escape(scan.geometry)) (drawn under the outlines only)</td></tr>")
        }
        let p = r.analysisProtocol
        return "<section id=\"inputs\"><h2>Inputs and provenance</h2><table>" + rows.joined() + "</table>"
            + Page.table([
                ("protocol", "\(p.name) version \(p.version) (\(p.source)), SHA-256 \(p.sha256)"),
                ("tool", "\(r.tool.name) \(r.tool.version), report schema \(r.schemaVersion)"),
            ], caption: nil)
            // The audit trail (report.json's `run`), the only part that differs between runs.
            + "<table class=\"figures run\"><tr><th>command line</th><td>\(Page.escape(r.run.commandLine.joined(separator: " ")))</td></tr>"
            + "<tr><th>made</th><td>\(Page.escape(r.run.madeUTC)) on \(Page.escape(r.run.host))</td></tr></table></section>"
    }
}
