public import MAMCore

/// A structure's size along its principal axes, as device studies report an ablation zone:
/// the long axis and the two diameters perpendicular to it.
public struct PrincipalExtents: Sendable, Equatable {
    /// Unit directions in world coordinates (mm, RAS), by decreasing extent.
    public let axes: [SIMD3<Double>]
    /// The structure's extent along each axis (mm), decreasing: the long axis first.
    public let extentsMM: [Double]

    /// The principal axes of the voxel centres of `masks` (one structure in parts, on grids
    /// that may differ: the covariance of all voxel centres, each voxel weighted by its
    /// volume), and along each the extent from the first voxel's far face to the last's: the
    /// spread of the voxel centres' projections plus one voxel's width along the axis. So
    /// within about one voxel width of the structure's true diameter. Nil when the masks are
    /// empty.
    public init?(_ masks: [Mask]) {
        var weight = 0.0
        var sum = SIMD3<Double>.zero
        var products = [Double](repeating: 0, count: 6)
        var centres: [SIMD3<Double>] = []
        for mask in masks {
            let g = mask.geometry
            let w = g.voxelVolumeML
            for k in 0..<g.size.z {
                for j in 0..<g.size.y {
                    for i in 0..<g.size.x where mask[i, j, k] {
                        let p = g.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                        centres.append(p)
                        weight += w
                        sum += w * p
                        products[0] += w * p.x * p.x; products[1] += w * p.x * p.y; products[2] += w * p.x * p.z
                        products[3] += w * p.y * p.y; products[4] += w * p.y * p.z; products[5] += w * p.z * p.z
                    }
                }
            }
        }
        guard weight > 0 else { return nil }
        let m = sum / weight
        let c = products.map { $0 / weight }
        let covariance = [c[0] - m.x * m.x, c[1] - m.x * m.y, c[2] - m.x * m.z,
                          c[1] - m.x * m.y, c[3] - m.y * m.y, c[4] - m.y * m.z,
                          c[2] - m.x * m.z, c[4] - m.y * m.z, c[5] - m.z * m.z]
        let rotation = principalAxes(covariance)
        let directions = [rotation[0], rotation[1], rotation[2]]
        let extents = directions.map { u -> Double in
            var lowest = Double.infinity, highest = -Double.infinity
            for p in centres {
                let t = ((p - m) * u).sum()
                lowest = min(lowest, t)
                highest = max(highest, t)
            }
            // A voxel's width along u: the projection of its three edges (the widest grid's).
            let width = masks.map { mask -> Double in
                let l = mask.geometry.indexToWorld.linear
                return abs((l[0] * u).sum()) + abs((l[1] * u).sum()) + abs((l[2] * u).sum())
            }.max()!
            return highest - lowest + width
        }
        let order = [0, 1, 2].sorted { extents[$0] > extents[$1] }
        axes = order.map { directions[$0] }
        extentsMM = order.map { extents[$0] }
    }
}
