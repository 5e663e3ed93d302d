import Foundation
import MAMCore
import MAMMargin

/// Checks that catch the common mistakes behind a plausible-looking wrong number (files
/// swapped or given twice, a label that is not what the protocol says, a wrong spacing): each
/// a warning in the report, never a refusal, since the numbers could be real. Docs/limits.md
/// lists the thresholds.
enum Plausibility {
    /// A human liver's volume (mL): anything outside is a wrong label, grid or spacing.
    static let liverVolumeML: ClosedRange<Double> = 100...6000
    /// Largest plausible tumour or ablation zone (mL).
    static let lesionVolumeML = 1500.0
    /// A tumour (or zone) whose border lies less than this share in its liver is "outside".
    static let minimumBorderInLiver = 0.5
    /// Tumours taking more than this share of the pre-ablation liver.
    static let maximumTumourShareOfLiver = 0.5

    static func warnings(loaded: Inputs, masks: Masks, tumours: [Mask], analysis: MarginAnalysis) -> [String] {
        var warnings: [String] = []
        let pre = loaded.files.filter { [.pre, .preLiver, .preTumour].contains($0.role) }
        let post = loaded.files.filter { [.post, .postLiver, .postAblationZone].contains($0.role) }
        for a in pre {
            for b in post where a.sha256 == b.sha256 {
                warnings.append("\(a.path), \(b.path): the pre- and post-ablation inputs are identical (same SHA-256): the same file given twice?")
            }
        }
        for (name, liver) in [("pre-ablation", masks.preLiver), ("post-ablation", masks.postLiver)] {
            guard let volume = liver?.volumeML, !liverVolumeML.contains(volume) else { continue }
            warnings.append(String(format: "the %@ liver measures %.0f mL, outside %.0f to %.0f mL for a human liver: "
                + "check its label and the voxel spacing", name, volume, liverVolumeML.lowerBound, liverVolumeML.upperBound))
        }
        let zoneML = analysis.ablationVolumeML
        if zoneML > lesionVolumeML {
            warnings.append(String(format: "the ablation zone measures %.0f mL (more than %.0f mL): check its label", zoneML, lesionVolumeML))
        }
        let tumourML = analysis.tumours.map(\.volumeML).reduce(0, +)
        if let liver = masks.preLiver?.volumeML, tumourML > maximumTumourShareOfLiver * liver {
            warnings.append(String(format: "the tumours take %.0f%% of the pre-ablation liver (%.1f of %.1f mL): "
                + "is the tumour label the liver's?", 100 * tumourML / liver, tumourML, liver))
        }
        for t in analysis.tumours {
            if t.volumeML > lesionVolumeML {
                warnings.append(String(format: "tumour %d measures %.0f mL (more than %.0f mL): check its label", t.number, t.volumeML, lesionVolumeML))
            }
            if let inside = t.fractionInsideAblation, t.volumeML > zoneML, inside < 0.5 {
                warnings.append(String(format: "tumour %d (%.2f mL) is larger than the ablation zone (%.2f mL), which covers %.0f%% of it: "
                    + "are the pre- and post-ablation files swapped?", t.number, t.volumeML, zoneML, 100 * inside))
            }
        }
        if let liver = masks.preLiver {
            for (n, tumour) in tumours.enumerated() {
                guard let share = borderShare(of: tumour, in: liver), share < minimumBorderInLiver else { continue }
                warnings.append(String(format: "tumour %d: %.0f%% of its border lies in the pre-ablation liver: "
                    + "is it outside the liver, or the liver label wrong?", n + 1, 100 * share))
            }
        }
        if let liver = masks.postLiver, let share = borderShare(of: masks.zone, in: liver), share < minimumBorderInLiver {
            warnings.append(String(format: "ablation zone: %.0f%% of its border lies in the post-ablation liver: "
                + "is it outside the liver, or the liver label wrong?", 100 * share))
        }
        return warnings
    }

    /// The share of the voxels just outside `structure` (face neighbours of its voxels) that
    /// belong to `container`. `structure` is on `container`'s grid or a crop of it; nil when
    /// it has no voxel.
    static func borderShare(of structure: Mask, in container: Mask) -> Double? {
        let box = structure.boundingBox
        guard !box.isEmpty else { return nil }
        let o = container.geometry.index(atWorld: structure.geometry.origin)
        let offset = SIMD3(Int(o.x.rounded()), Int(o.y.rounded()), Int(o.z.rounded()))
        let size = structure.size
        var border = 0
        var inContainer = 0
        let steps = [SIMD3(1, 0, 0), SIMD3(-1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, -1, 0), SIMD3(0, 0, 1), SIMD3(0, 0, -1)]
        for k in box.lower.z..<box.upper.z {
            for j in box.lower.y..<box.upper.y {
                for i in box.lower.x..<box.upper.x where structure[i, j, k] {
                    for step in steps {
                        let n = SIMD3(i, j, k) &+ step
                        if size.contains(n.x, n.y, n.z), structure[n.x, n.y, n.z] { continue }
                        border += 1
                        let c = n &+ offset
                        if container.size.contains(c.x, c.y, c.z), container[c.x, c.y, c.z] { inContainer += 1 }
                    }
                }
            }
        }
        return border == 0 ? nil : Double(inContainer) / Double(border)
    }
}
