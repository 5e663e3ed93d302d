public import MAMCore

/// Where a scan's field of view cut a mask, and the region whose surface is anatomy.
///
/// A side of the mask's bounding box counts as cut when the mask reaches the grid's border
/// there, or when its outermost slice on that side is a slab: at least `slabFraction` of the
/// largest slice across that axis (anatomy tapers to a small cap at its extremes; the liver's
/// dome, on 2.5 mm slices, about 6%; a field of view that ends in the liver leaves a flat
/// face as large as the slices before it). Surface within `marginMM` of a cut is not anatomy:
/// registration neither fits it nor measures its quality there.
public struct FieldOfView: Sendable {
    public let geometry: ImageGeometry
    /// The trusted region, in continuous index coordinates (infinite on uncut sides).
    public let lower: SIMD3<Double>
    public let upper: SIMD3<Double>
    /// The cut sides, e.g. `["-z", "+x"]` (index axes; "-" the low side).
    public let cutSides: [String]

    public static let slabFraction = 0.25

    public init(mask: Mask, marginMM: Double) {
        geometry = mask.geometry
        let size = mask.size
        let box = mask.boundingBox
        var lower = SIMD3(repeating: -Double.infinity), upper = SIMD3(repeating: Double.infinity)
        var cut: [String] = []
        guard !box.isEmpty else {
            (self.lower, self.upper, cutSides) = (lower, upper, [])
            return
        }
        // Voxel counts per slice across each axis, over the bounding box.
        var counts = [[Int]](repeating: [], count: 3)
        for a in 0..<3 { counts[a] = [Int](repeating: 0, count: [size.x, size.y, size.z][a]) }
        // Branch-free over the mask's bytes (0 or 1), which the compiler vectorises.
        var perX = [Int](repeating: 0, count: size.x)
        mask.voxels.withUnsafeBufferPointer { m in
            m.withMemoryRebound(to: UInt8.self) { bytes in
                perX.withUnsafeMutableBufferPointer { perX in
                    for k in box.lower.z..<box.upper.z {
                        for j in box.lower.y..<box.upper.y {
                            let row = size.linearIndex(0, j, k)
                            var inRow = 0
                            for i in box.lower.x..<box.upper.x {
                                let b = Int(bytes[row + i])
                                perX[i] &+= b
                                inRow &+= b
                            }
                            counts[1][j] += inRow
                            counts[2][k] += inRow
                        }
                    }
                }
            }
        }
        counts[0] = perX
        let h = mask.geometry.spacing
        let extent = SIMD3(size.x, size.y, size.z)
        let names = ["x", "y", "z"]
        for a in 0..<3 {
            let largest = counts[a].max() ?? 0
            let (first, last) = (box.lower[a], box.upper[a] - 1)
            let margin = marginMM / h[a]
            if first == 0 || Double(counts[a][first]) >= Self.slabFraction * Double(largest) {
                lower[a] = Double(first) - 0.5 + margin
                cut.append("-" + names[a])
            }
            if last == extent[a] - 1 || Double(counts[a][last]) >= Self.slabFraction * Double(largest) {
                upper[a] = Double(last) + 0.5 - margin
                cut.append("+" + names[a])
            }
        }
        (self.lower, self.upper, cutSides) = (lower, upper, cut)
    }

    /// The cut sides that face the head or the feet: "cranial" or "caudal" for each cut side
    /// whose outward normal (world) lies within 45 degrees of the cranio-caudal axis (world z,
    /// superior positive), in `cutSides`' order. Breathing moves the liver mostly along that
    /// axis; a scan cut across it does not show how the liver beyond the cut moved, and a rigid
    /// fit of what remains carries the motion of the part it sees to the rest
    /// (Docs/registration.md).
    public var cranioCaudalCuts: [String] {
        let direction = geometry.direction
        let cos45 = 0.5.squareRoot()
        return cutSides.compactMap { side in
            guard let axis = ["x", "y", "z"].firstIndex(of: String(side.dropFirst())) else { return nil }
            let outward = direction[axis] * (side.hasPrefix("-") ? -1 : 1)
            return outward.z >= cos45 ? "cranial" : outward.z <= -cos45 ? "caudal" : nil
        }
    }

    /// Whether a world point lies in the trusted region.
    public func contains(_ world: SIMD3<Double>) -> Bool {
        let i = geometry.index(atWorld: world)
        return all(i .>= lower) && all(i .<= upper)
    }
}
