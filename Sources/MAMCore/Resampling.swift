/// The one resampler: nearest neighbour in world space, with a fast path for grids whose
/// voxels coincide (crops of one scan), where it is a copy of rows.
extension ImageGeometry {
    /// The index in this grid of `grid`'s first voxel when the two grids' voxels coincide:
    /// same spacing and orientation (1e-6), and `grid`'s origin on one of this grid's voxel
    /// centres (1e-3 voxel). Nil otherwise.
    public func voxelOffset(of grid: ImageGeometry) -> SIMD3<Int>? {
        guard grid.indexToWorld.linear.maxAbsDifference(to: indexToWorld.linear) < 1e-6 else { return nil }
        let start = index(atWorld: grid.origin)
        let offset = SIMD3(Int(start.x.rounded()), Int(start.y.rounded()), Int(start.z.rounded()))
        let rounded = SIMD3(Double(offset.x), Double(offset.y), Double(offset.z))
        guard ((start - rounded) * (start - rounded)).sum() < 1e-6 else { return nil }
        return offset
    }
}

extension Volume {
    /// This volume on `grid` by nearest neighbour: each voxel of `grid` takes the value of the
    /// voxel whose centre is nearest to its own centre mapped by `transform` (from `grid`'s
    /// world to this volume's; identity when both share one world); `outside` where that
    /// falls off this grid. Where the voxels coincide (`voxelOffset`) and there is no
    /// transform, rows are copied.
    @inlinable
    public func resampled(onto grid: ImageGeometry, transform: Affine3D = .identity, outside: Voxel) -> Volume {
        let out = grid.size
        var values = [Voxel](repeating: outside, count: out.count)
        if transform == .identity, let offset = geometry.voxelOffset(of: grid) {
            let iRange = max(0, -offset.x)..<max(0, min(out.x, size.x - offset.x))
            guard !iRange.isEmpty else { return Volume(geometry: grid, voxels: values) }
            for k in 0..<out.z where (0..<size.z).contains(k + offset.z) {
                for j in 0..<out.y where (0..<size.y).contains(j + offset.y) {
                    let from = size.linearIndex(iRange.lowerBound + offset.x, j + offset.y, k + offset.z)
                    let to = out.linearIndex(iRange.lowerBound, j, k)
                    values.replaceSubrange(to..<to + iRange.count, with: voxels[from..<from + iRange.count])
                }
            }
            return Volume(geometry: grid, voxels: values)
        }
        let toIndex = geometry.worldToIndex * transform * grid.indexToWorld
        let m = size
        values.withUnsafeMutableBufferPointer { result in
            let result = result.baseAddress!
            concurrentChunks(out.z) { slices in
                for k in slices {
                    for j in 0..<out.y {
                        for i in 0..<out.x {
                            let p = toIndex.apply(SIMD3(Double(i), Double(j), Double(k)))
                            let (x, y, z) = (Int(p.x.rounded()), Int(p.y.rounded()), Int(p.z.rounded()))
                            if m.contains(x, y, z) { result[out.linearIndex(i, j, k)] = voxels[m.linearIndex(x, y, z)] }
                        }
                    }
                }
            }
        }
        return Volume(geometry: grid, voxels: values)
    }
}
