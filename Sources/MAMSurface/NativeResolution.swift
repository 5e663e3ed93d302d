public import MAMCore

/// Masks resampled by nearest neighbour onto a finer grid (a segmentation resampled onto its CT,
/// say) repeat each of their voxels 2, 3 or 4 times along an axis. A surface fitted to such a
/// mask as if every slice were measured trusts steps that are not there: on a sphere the fits at
/// the flat caps go astray (a MAM 2.3 mm too small in the issue that found it). The surface is
/// fitted on the mask's native grid instead, recovered here.
extension Volume where Voxel == Bool {
    /// Per axis, how many times each voxel repeats (1, 2, 3 or 4) and the index of the first
    /// voxel of a full run. An axis has repeats f when at least 90% of the slice positions where
    /// the mask changes (at least 4 of them) fall on one residue modulo f; the largest such f
    /// wins. A mask sampled natively changes at every residue.
    public var repeatFactors: (factor: SIMD3<Int>, phase: SIMD3<Int>) {
        var factor = SIMD3(1, 1, 1), phase = SIMD3(0, 0, 0)
        let s = size
        let extent = [s.x, s.y, s.z]
        for axis in 0..<3 where extent[axis] > 2 {
            // Positions p (1 ..< n) where slice p differs from slice p - 1.
            var changes: [Int] = []
            for p in 1..<extent[axis] where !slicesEqual(axis, p - 1, p) { changes.append(p) }
            guard changes.count >= 4 else { continue }
            for f in [4, 3, 2] {
                var counts = [Int](repeating: 0, count: f)
                for p in changes { counts[p % f] += 1 }
                let best = counts.indices.max { counts[$0] < counts[$1] }!
                if Double(counts[best]) >= 0.9 * Double(changes.count) {
                    factor[axis] = f
                    phase[axis] = best
                    break
                }
            }
        }
        return (factor, phase)
    }

    private func slicesEqual(_ axis: Int, _ a: Int, _ b: Int) -> Bool {
        let s = size
        switch axis {
        case 0:
            for k in 0..<s.z { for j in 0..<s.y where self[a, j, k] != self[b, j, k] { return false } }
        case 1:
            for k in 0..<s.z { for i in 0..<s.x where self[i, a, k] != self[i, b, k] { return false } }
        default:
            let slice = s.x * s.y
            return voxels[(a * slice)..<((a + 1) * slice)] == voxels[(b * slice)..<((b + 1) * slice)]
        }
        return true
    }

    /// The mask on its native grid when its voxels repeat (see `repeatFactors`): one voxel per
    /// full run, centred on the run (the centre of the voxel the run was resampled from), with
    /// the spacing times the factor; the mask itself when nothing repeats. The partial runs at
    /// the crop's edges are dropped (crops keep background there).
    public func atNativeResolution() -> Mask {
        let (factor, phase) = repeatFactors
        guard factor != SIMD3(1, 1, 1) else { return self }
        let s = size
        let n = SIMD3((s.x - phase.x) / factor.x, (s.y - phase.y) / factor.y, (s.z - phase.z) / factor.z)
        guard n.x > 0, n.y > 0, n.z > 0 else { return self }
        let scale = SIMD3(Double(factor.x), Double(factor.y), Double(factor.z))
        let firstCentre = SIMD3(Double(phase.x), Double(phase.y), Double(phase.z)) + (scale - 1) / 2
        let a = geometry.indexToWorld
        let linear = Matrix3(columns: a.linear[0] * scale.x, a.linear[1] * scale.y, a.linear[2] * scale.z)
        let grid = ImageGeometry(size: GridSize(n.x, n.y, n.z), indexToWorld: Affine3D(linear: linear, translation: a.apply(firstCentre)))
        var out = Mask(geometry: grid, repeating: false)
        for k in 0..<n.z {
            for j in 0..<n.y {
                for i in 0..<n.x {
                    out[i, j, k] = self[phase.x + i * factor.x, phase.y + j * factor.y, phase.z + k * factor.z]
                }
            }
        }
        return out
    }
}
