public import MAMCore
import MAMSurface
import MAMStatistics

/// Agreement of two segmentations of one structure on one grid: overlap, volumes and surface
/// distances, every distance in millimetres with the grid's (anisotropic) spacing. See
/// Docs/agreement.md for the definitions.
public struct SegmentationMetrics: Sendable, Equatable, Codable {
    public var dice: Double
    public var jaccard: Double
    public var volumeAML: Double
    public var volumeBML: Double
    /// Volume of B minus volume of A.
    public var volumeDifferenceML: Double
    /// 100 (V_B - V_A) / V_A; nil when A is empty.
    public var volumeDifferencePercent: Double?
    /// Hausdorff distance between the two voxel sets (as SimpleITK's HausdorffDistance):
    /// the largest distance from a voxel of one mask to the nearest voxel of the other.
    public var hausdorffMM: Double?
    /// 95th percentile of the surface distances (the larger of the two directions).
    public var hausdorff95MM: Double?
    /// Mean of the surface distances of both surfaces (average symmetric surface distance).
    public var averageSymmetricSurfaceDistanceMM: Double?
    /// Share of both surfaces within `toleranceMM` of the other surface.
    public var surfaceDice: Double?
    public var toleranceMM: Double
    /// Why the distances are nil (an empty mask); nil when they are defined.
    public var distancesUndefinedReason: String?
}

public enum SegmentationAgreement {
    /// Compares `a` and `b`, which must be on the same grid (see `Volume.resampled(onto:transform:outside:)`).
    ///
    /// Definitions (Docs/agreement.md): surface voxels are the voxels of a mask with a face
    /// neighbour outside it (or at the grid's edge); the distance of a surface voxel to the other
    /// surface is the Euclidean distance between voxel centres to the nearest surface voxel of
    /// the other mask. Both masks empty: Dice and Jaccard 1, distances 0. One empty: Dice and
    /// Jaccard 0, distances nil with the reason.
    public static func compare(_ a: Mask, _ b: Mask, toleranceMM: Double = 2) -> SegmentationMetrics {
        precondition(a.geometry.isSamePhysicalSpace(as: b.geometry), "compare masks on one grid (resample first)")
        let voxelML = a.geometry.voxelVolumeML
        var countA = 0, countB = 0, both = 0
        for i in 0..<a.voxels.count {
            let (x, y) = (a.voxels[i], b.voxels[i])
            if x { countA += 1 }
            if y { countB += 1 }
            if x && y { both += 1 }
        }
        let (vA, vB) = (Double(countA) * voxelML, Double(countB) * voxelML)
        var m = SegmentationMetrics(
            dice: countA + countB == 0 ? 1 : 2 * Double(both) / Double(countA + countB),
            jaccard: countA + countB == 0 ? 1 : Double(both) / Double(countA + countB - both),
            volumeAML: vA, volumeBML: vB, volumeDifferenceML: vB - vA,
            volumeDifferencePercent: countA == 0 ? nil : 100 * (vB - vA) / vA,
            hausdorffMM: nil, hausdorff95MM: nil, averageSymmetricSurfaceDistanceMM: nil, surfaceDice: nil,
            toleranceMM: toleranceMM, distancesUndefinedReason: nil)
        if countA == 0 && countB == 0 {
            m.hausdorffMM = 0
            m.hausdorff95MM = 0
            m.averageSymmetricSurfaceDistanceMM = 0
            m.surfaceDice = 1
            return m
        }
        if countA == 0 || countB == 0 {
            m.distancesUndefinedReason = "mask \(countA == 0 ? "A" : "B") is empty: surface distances are undefined"
            return m
        }
        // Work on the box holding both masks (plus one voxel): every distance needed lies there.
        let box = a.boundingBox.union(b.boundingBox).expanded(by: SIMD3(repeating: 1), within: a.size)
        let (ca, cb) = (a.cropped(to: box), b.cropped(to: box))
        let (surfaceA, surfaceB) = (surface(ca, whole: a, box: box), surface(cb, whole: b, box: box))
        let (toA, toB) = (DistanceTransform.distance(to: surfaceA), DistanceTransform.distance(to: surfaceB))
        // Distances of each surface voxel to the other surface; directed set distance: 0 for a
        // voxel inside the other mask, else its distance to the other's surface.
        var fromA: [Double] = [], fromB: [Double] = []
        var setAB = 0.0, setBA = 0.0
        for i in 0..<surfaceA.voxels.count {
            if surfaceA.voxels[i] {
                let d = Double(toB.millimetres[i])
                fromA.append(d)
                if !cb.voxels[i] { setAB = max(setAB, d) }
            }
            if surfaceB.voxels[i] {
                let d = Double(toA.millimetres[i])
                fromB.append(d)
                if !ca.voxels[i] { setBA = max(setBA, d) }
            }
        }
        m.hausdorffMM = max(setAB, setBA)
        m.hausdorff95MM = max(Percentiles.linear(fromA, 0.95), Percentiles.linear(fromB, 0.95))
        m.averageSymmetricSurfaceDistanceMM = (fromA.reduce(0, +) + fromB.reduce(0, +)) / Double(fromA.count + fromB.count)
        let within = fromA.count(where: { $0 <= toleranceMM }) + fromB.count(where: { $0 <= toleranceMM })
        m.surfaceDice = Double(within) / Double(fromA.count + fromB.count)
        return m
    }

    /// Surface voxels of a crop: voxels with a face neighbour outside the mask; the edge of
    /// the whole grid counts as outside, the edge of the crop does not (the crop keeps one
    /// voxel of margin, except where the grid ends).
    static func surface(_ crop: Mask, whole: Mask, box: IndexBox) -> Mask {
        let s = crop.size
        var out = [Bool](repeating: false, count: s.count)
        let gridLower = box.lower, gridUpper = box.upper
        let full = whole.size
        for k in 0..<s.z {
            for j in 0..<s.y {
                for i in 0..<s.x {
                    let v = s.linearIndex(i, j, k)
                    guard crop.voxels[v] else { continue }
                    // A neighbour beyond the crop lies beyond the grid (the box has margin 1 otherwise).
                    let atEdge = (i == 0 && gridLower.x == 0) || (j == 0 && gridLower.y == 0) || (k == 0 && gridLower.z == 0)
                        || (i == s.x - 1 && gridUpper.x == full.x) || (j == s.y - 1 && gridUpper.y == full.y)
                        || (k == s.z - 1 && gridUpper.z == full.z)
                    if atEdge {
                        out[v] = true
                        continue
                    }
                    out[v] = !crop.voxels[v - 1] || !crop.voxels[v + 1] || !crop.voxels[v - s.x] || !crop.voxels[v + s.x]
                        || !crop.voxels[v - s.x * s.y] || !crop.voxels[v + s.x * s.y]
                }
            }
        }
        return Mask(geometry: crop.geometry, voxels: out)
    }
}
