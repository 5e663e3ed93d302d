public import MAMCore
import MAMSurface

/// A mask seen from post-ablation world points: nearest voxel, through a rigid transform when
/// the mask is a pre-ablation one.
public struct MaskLayer: Sendable {
    let mask: Mask
    let postToIndex: Affine3D

    /// `preToPost` maps the mask's world to the post-ablation world (the identity for a post
    /// mask, or to draw a pre mask as it lies before registration).
    public init(_ mask: Mask, preToPost: Affine3D = .identity) {
        self.mask = mask
        postToIndex = mask.geometry.worldToIndex * preToPost.inverse
    }

    /// The layer on a plane: one flag per pixel, rows top to bottom; a pixel shows the voxel
    /// nearest to it (false off the grid).
    public func sample(_ plane: SlicePlane) -> [Bool] {
        var flags = [Bool](repeating: false, count: plane.pixels * plane.pixels)
        let s = mask.size
        let upper = SIMD3(Double(s.x), Double(s.y), Double(s.z))
        mask.voxels.withUnsafeBufferPointer { voxels in
            flags.withUnsafeMutableBufferPointer { flags in
                plane.forEachPixel(mappedBy: postToIndex, meeting: outerCorners) { n, index in
                    // Nearest voxel: floor(i + 0.5), which is Int(i + 0.5) within the grid (where
                    // it is not negative); the bounds check also keeps it from overflowing.
                    let i = index + 0.5
                    guard i.x >= 0, i.y >= 0, i.z >= 0, i.x < upper.x, i.y < upper.y, i.z < upper.z else { return }
                    flags[n] = voxels[s.linearIndex(Int(i.x), Int(i.y), Int(i.z))]
                }
            }
        }
        return flags
    }

    /// The corners of the mask's grid (the outer faces of its voxels), in the post world.
    var outerCorners: [SIMD3<Double>] {
        let toPost = postToIndex.inverse
        let s = mask.size
        return [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0), (0, 0, 1), (1, 0, 1), (0, 1, 1), (1, 1, 1)].map { c in
            toPost.apply(SIMD3(Double(c.0 * s.x), Double(c.1 * s.y), Double(c.2 * s.z)) - 0.5)
        }
    }

    /// The corners of the mask's bounding box (voxel centres), in the post world.
    public func boxCornersPostMM(preToPost: Affine3D = .identity) -> [SIMD3<Double>] {
        let box = mask.boundingBox
        guard !box.isEmpty else { return [] }
        var corners: [SIMD3<Double>] = []
        for x in [box.lower.x, box.upper.x - 1] {
            for y in [box.lower.y, box.upper.y - 1] {
                for z in [box.lower.z, box.upper.z - 1] {
                    corners.append(preToPost.apply(mask.geometry.world(atIndex: SIMD3(Double(x), Double(y), Double(z)))))
                }
            }
        }
        return corners
    }
}

/// The signed distance (mm, positive inside) to a tumour, for the outline of its target-margin
/// shell: the exact distance transform of its mask on a grid grown to hold the shell,
/// interpolated trilinearly. The map's zero level lies on the voxel faces, like the mask's
/// outline; outside, the map gives the distance to the nearest voxel centre, half a voxel more
/// than to the faces, which `shell` takes off (mean spacing: a picture, not a measurement).
public struct DistanceLayer: Sendable {
    let field: Volume<Float>
    let postToIndex: Affine3D
    let halfVoxelMM: Double

    public init(tumour: Mask, preToPost: Affine3D, reachMM: Double) {
        let box = tumour.boundingBox
        let spacing = tumour.geometry.spacing
        let pad = SIMD3<Int>(Int((reachMM / spacing.x).rounded(.up)), Int((reachMM / spacing.y).rounded(.up)),
                             Int((reachMM / spacing.z).rounded(.up))) &+ 2
        // The tumour's box grown by `pad` voxels on every side, beyond its grid if need be.
        let lower = box.lower &- pad, size = GridSize(box.size.x + 2 * pad.x, box.size.y + 2 * pad.y, box.size.z + 2 * pad.z)
        let first = tumour.geometry.world(atIndex: SIMD3(Double(lower.x), Double(lower.y), Double(lower.z)))
        let grid = ImageGeometry(size: size, indexToWorld: Affine3D(linear: tumour.geometry.indexToWorld.linear, translation: first))
        var grown = Mask(geometry: grid, repeating: false)
        for k in box.lower.z..<box.upper.z {
            for j in box.lower.y..<box.upper.y {
                for i in box.lower.x..<box.upper.x where tumour[i, j, k] {
                    grown[i - lower.x, j - lower.y, k - lower.z] = true
                }
            }
        }
        let map = DistanceTransform.signedDistance(grown)
        field = Volume(geometry: grid, voxels: map.insidePositiveMM)
        postToIndex = grid.worldToIndex * preToPost.inverse
        halfVoxelMM = (spacing.x + spacing.y + spacing.z) / 6
    }

    /// Positive inside the tumour at the continuous index `i`; minus infinity beyond the grown grid.
    func signedMM(index i: SIMD3<Double>) -> Double {
        let s = field.size
        guard i.x >= 0, i.y >= 0, i.z >= 0, i.x <= Double(s.x - 1), i.y <= Double(s.y - 1), i.z <= Double(s.z - 1) else {
            return -.infinity
        }
        return SubvoxelSurface.interpolateClamped(field, at: i)
    }

    /// Pixels inside the tumour (`widthMM` 0) or within `widthMM` of it.
    public func sample(_ plane: SlicePlane, widthMM: Double = 0) -> [Bool] {
        let level = widthMM > 0 ? -(widthMM + halfVoxelMM) : 0
        var flags = [Bool](repeating: false, count: plane.pixels * plane.pixels)
        plane.forEachPixel(mappedBy: postToIndex) { n, i in flags[n] = signedMM(index: i) > level }
        return flags
    }
}
