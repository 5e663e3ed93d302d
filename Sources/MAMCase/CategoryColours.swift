/// The colours of the margin categories, and the two colour files written next to
/// `margin_categories.nii.gz` so that viewers show the category names: a 3D Slicer colour
/// table (`.ctbl`) and an ITK-SNAP label description file.
public struct CategoryColours: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        /// The voxel value in the category map (1 = lowest).
        public var index: Int
        public var name: String
        public var rgb: SIMD3<Int>
    }

    public var entries: [Entry]

    /// Red below 0 mm, orange to yellow from 0 mm up to the target, light to dark green from
    /// the target up: a category by where its interval lies.
    public init(names: [String], cutoffsMM cuts: [Double], targetMM target: Double) {
        // Each category's interval [lower, upper).
        let lowers = [-Double.infinity] + cuts, uppers = cuts + [Double.infinity]
        let below = names.indices.filter { uppers[$0] > 0 && lowers[$0] < target }
        let above = names.indices.filter { lowers[$0] >= target }
        func blend(_ a: SIMD3<Double>, _ b: SIMD3<Double>, _ k: Int, of n: Int) -> SIMD3<Int> {
            let t = n > 1 ? Double(k) / Double(n - 1) : 0
            let c = a + (b - a) * t
            return SIMD3(Int(c.x.rounded()), Int(c.y.rounded()), Int(c.z.rounded()))
        }
        entries = names.indices.map { n in
            let rgb: SIMD3<Int>
            if let k = above.firstIndex(of: n) {
                rgb = blend(SIMD3(166, 217, 106), SIMD3(26, 152, 80), k, of: above.count)
            } else if let k = below.firstIndex(of: n) {
                rgb = blend(SIMD3(244, 109, 67), SIMD3(254, 224, 139), k, of: below.count)
            } else {
                rgb = SIMD3(215, 48, 39)
            }
            return Entry(index: n + 1, name: names[n], rgb: rgb)
        }
    }

    /// 3D Slicer's colour table format: `index name R G B A` per line, spaces in names as
    /// underscores, 0 the transparent background.
    public var slicerTable: String {
        var lines = ["# Color table file margin_categories.ctbl (mam-quantify margin categories)",
                     "# \(entries.count + 1) values", "0 Background 0 0 0 0"]
        for e in entries {
            lines.append("\(e.index) \(e.name.replacingOccurrences(of: " ", with: "_")) \(e.rgb.x) \(e.rgb.y) \(e.rgb.z) 255")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// ITK-SNAP's label description format: `IDX R G B A VIS MSH "LABEL"` per line, 0 the
    /// cleared label.
    public var itkSnapLabels: String {
        func row(_ index: Int, _ rgb: SIMD3<Int>, _ alpha: Int, _ visible: Int, _ name: String) -> String {
            func pad(_ value: Int, _ width: Int) -> String {
                let text = String(value)
                return String(repeating: " ", count: max(0, width - text.count)) + text
            }
            return "\(pad(index, 5)) \(pad(rgb.x, 5)) \(pad(rgb.y, 4)) \(pad(rgb.z, 4)) \(pad(alpha, 8)) \(pad(visible, 2)) \(pad(visible, 2))    \"\(name)\""
        }
        var lines = ["################################################",
                     "# ITK-SnAP Label Description File (mam-quantify margin categories)",
                     "# File format:",
                     "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL",
                     "################################################",
                     row(0, .zero, 0, 0, "Clear Label")]
        for e in entries { lines.append(row(e.index, e.rgb, 1, 1, e.name)) }
        return lines.joined(separator: "\n") + "\n"
    }
}
