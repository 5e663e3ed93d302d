import Foundation

/// A box of voxel indices, `lower` inclusive and `upper` exclusive on each axis: the region of
/// interest of a computation that need not pay for a whole CT volume.
public struct IndexBox: Sendable, Hashable, CustomStringConvertible {
    public var lower: SIMD3<Int>
    public var upper: SIMD3<Int>

    public init(lower: SIMD3<Int>, upper: SIMD3<Int>) {
        self.lower = lower
        self.upper = upper
    }

    /// The whole grid.
    public init(_ size: GridSize) {
        self.init(lower: .zero, upper: SIMD3(size.x, size.y, size.z))
    }

    public var isEmpty: Bool { any(upper .<= lower) }

    public var size: GridSize {
        isEmpty ? GridSize(0, 0, 0) : GridSize(upper.x - lower.x, upper.y - lower.y, upper.z - lower.z)
    }

    /// The box grown by `margin` voxels on every side, then clipped to `grid`.
    public func expanded(by margin: SIMD3<Int>, within grid: GridSize) -> IndexBox {
        IndexBox(lower: pointwiseMax(lower &- margin, .zero),
                 upper: pointwiseMin(upper &+ margin, SIMD3(grid.x, grid.y, grid.z)))
    }

    /// The smallest box holding both.
    public func union(_ other: IndexBox) -> IndexBox {
        if isEmpty { return other }
        if other.isEmpty { return self }
        return IndexBox(lower: pointwiseMin(lower, other.lower), upper: pointwiseMax(upper, other.upper))
    }

    public var description: String {
        "[\(lower.x)..<\(upper.x), \(lower.y)..<\(upper.y), \(lower.z)..<\(upper.z)]"
    }
}

extension ImageGeometry {
    /// The grid of the voxels in `box`: same spacing and orientation, origin at the box's first
    /// voxel, so every voxel keeps its world position.
    public func subGrid(_ box: IndexBox) -> ImageGeometry {
        let first = SIMD3(Double(box.lower.x), Double(box.lower.y), Double(box.lower.z))
        return ImageGeometry(size: box.size,
                             indexToWorld: Affine3D(linear: indexToWorld.linear, translation: world(atIndex: first)))
    }
}

extension Volume {
    /// The voxels in `box` (which must lie within the grid) on their sub-grid.
    @inlinable
    public func cropped(to box: IndexBox) -> Volume {
        precondition(box.lower.x >= 0 && box.lower.y >= 0 && box.lower.z >= 0
                     && box.upper.x <= size.x && box.upper.y <= size.y && box.upper.z <= size.z,
                     "crop box \(box) outside the \(size) grid")
        let sub = box.size
        var out: [Voxel] = []
        out.reserveCapacity(sub.count)
        for k in box.lower.z..<box.upper.z {
            for j in box.lower.y..<box.upper.y {
                let row = size.linearIndex(box.lower.x, j, k)
                out.append(contentsOf: voxels[row..<row + sub.x])
            }
        }
        return Volume(geometry: geometry.subGrid(box), voxels: out)
    }
}

extension Volume where Voxel == Bool {
    /// The smallest box holding every `true` voxel (empty when there is none). Rows without a
    /// `true` voxel are skipped with memchr, so a small structure in a CT-sized grid costs
    /// little more than one pass over its bytes (slices shared among the cores).
    public var boundingBox: IndexBox {
        let s = size
        guard s.count > 0 else { return IndexBox(lower: .zero, upper: .zero) }
        // Slices in parallel, each slice's box kept apart, then merged.
        var lowers = [SIMD3<Int>](repeating: SIMD3(Int.max, Int.max, Int.max), count: s.z)
        var uppers = [SIMD3<Int>](repeating: SIMD3(Int.min, Int.min, Int.min), count: s.z)
        voxels.withUnsafeBufferPointer { v in
            lowers.withUnsafeMutableBufferPointer { lowers in
                uppers.withUnsafeMutableBufferPointer { uppers in
                    let (v, lowers, uppers) = (v.baseAddress!, lowers.baseAddress!, uppers.baseAddress!)
                    let base = UnsafeRawPointer(v)
                    concurrentChunks(s.z) { slices in
                        for k in slices {
                            for j in 0..<s.y {
                                let row = k * s.y + j
                                let start = base + row * s.x
                                guard let first = memchr(start, 1, s.x) else { continue }
                                var last = s.x - 1
                                while !v[row * s.x + last] { last -= 1 }
                                lowers[k] = pointwiseMin(lowers[k], SIMD3(UnsafeRawPointer(first) - start, j, k))
                                uppers[k] = pointwiseMax(uppers[k], SIMD3(last + 1, j + 1, k + 1))
                            }
                        }
                    }
                }
            }
        }
        let lower = lowers.reduce(SIMD3(Int.max, Int.max, Int.max)) { pointwiseMin($0, $1) }
        let upper = uppers.reduce(SIMD3(Int.min, Int.min, Int.min)) { pointwiseMax($0, $1) }
        return lower.x == .max ? IndexBox(lower: .zero, upper: .zero) : IndexBox(lower: lower, upper: upper)
    }
}
