import Foundation
import MAMCase

/// The terminal summary of a report: per tumour the MAM, its category and the coverage; the
/// registration verdict; where the files are.
enum Summary {
    static func text(_ r: CaseReport, folder: String) -> String {
        let p = r.analysisProtocol
        var lines = ["case \(r.caseId): protocol \(p.name) (version \(p.version)), target margin \(mm(p.targetMarginMM))"]
        let g = r.registration
        switch g.method {
        case .rigidICP:
            let q = g.quality!
            // No iteration: the two livers are the same voxels, registered by the identity.
            let how = q.iterations == 0 ? "identical livers: the identity" : "\(q.iterations) iterations"
            lines.append(String(format: "registration: %@ (liver Dice %.3f, mean surface distance %.2f mm, %@)",
                                g.verdict, q.liverDice, q.meanSurfaceDistanceMM, how))
        default:
            lines.append("registration: none (\(g.reasons.first ?? g.method.rawValue))")
        }
        var zone = String(format: "ablation zone: %.2f mL", r.ablationZone.volumeML)
        if let long = r.ablationZone.longAxisMM, let short = r.ablationZone.shortAxisMM, let third = r.ablationZone.thirdAxisMM,
           let sphericity = r.ablationZone.sphericityIndex {
            zone += String(format: ", axes %.1f x %.1f x %.1f mm, sphericity %.2f", long, short, third, sphericity)
        }
        lines.append(zone)
        for t in r.tumours {
            var line = String(format: "tumour %d (%.2f mL): ", t.number, t.volumeML)
            if let m = t.minimalMarginMM, let c = t.category {
                line += "MAM \(mm(m))"
                if let u = t.uncertainty {
                    let i = u.minimalMarginInterval95MM
                    line += String(format: " (95%%: %.2f to %.2f mm), P(>= %@) %.2f", i[0], i[1], mm(p.targetMarginMM), u.probabilityMeetsTarget)
                }
                line += " [\(c.name)\(t.uncertainty?.categoryUncertain == true ? ", category uncertain" : "")]"
                line += ", target \(t.meetsTargetMargin == true ? "met" : "not met")"
                if let f = t.fractionInsideAblation { line += String(format: "; %.1f%% of the tumour ablated", 100 * f) }
                if let shell = t.shells.first, let f = shell.fractionAblated {
                    line += String(format: "; %@ shell %.1f%% ablated", mm(shell.widthMM), 100 * f)
                }
            } else {
                line += "no margin: \(t.message ?? t.outcome)"
            }
            lines.append(line)
        }
        if !r.marginsReliable { lines.append("WARNING: the registration was rejected; these margins are unreliable") }
        for w in r.warnings where r.marginsReliable || !w.hasPrefix("registration rejected") { lines.append("warning: \(w)") }
        lines.append("report: \(folder)/\(r.outputs.report)")
        if let page = r.outputs.qcPage { lines.append("QC page: \(folder)/\(page)") }
        return lines.joined(separator: "\n")
    }

    static func mm(_ x: Double) -> String { String(format: "%.2f mm", x) }
}
