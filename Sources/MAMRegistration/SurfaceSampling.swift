public import MAMCore
import MAMSurface

/// Points on a mask's surface in world coordinates (mm), thinned to a target spacing, with unit
/// outward normals: what registration matches.
public struct SurfaceSample: Sendable {
    public let points: [SIMD3<Double>]
    public let normals: [SIMD3<Double>]

    public init(points: [SIMD3<Double>], normals: [SIMD3<Double>]) {
        self.points = points
        self.normals = normals
    }

    /// The samples at points where `keep` holds.
    public func filtered(_ keep: (SIMD3<Double>) -> Bool) -> SurfaceSample {
        let indices = points.indices.filter { keep(points[$0]) }
        return SurfaceSample(points: indices.map { points[$0] }, normals: indices.map { normals[$0] })
    }

    /// The crossings of the mask's boundary (midpoints of segments between neighbouring voxel
    /// centres of different value), thinned to one per cube of `spacingMM` (the first in scan
    /// order, so the result is deterministic). Normals: the smallest principal axis of the
    /// sample's neighbours within 2 x `spacingMM`, oriented away from the mask.
    /// Largest dense grid of thinning cells (128 MB of flags).
    static let maxDenseCells = 1 << 27

    public init(mask: Mask, spacingMM: Double) {
        let box = mask.boundingBox.expanded(by: SIMD3(1, 1, 1), within: mask.size)
        var points: [SIMD3<Double>] = []
        var outwardHints: [SIMD3<Double>] = []
        guard !box.isEmpty else {
            self.points = []
            normals = []
            return
        }
        let crop = mask.cropped(to: box)
        let g = crop.geometry
        let size = crop.size
        // Occupied thinning cells, on a dense grid over the crop's world bounding box.
        let corners = g.cornerPoints
        let lowest = corners.reduce(SIMD3<Double>(repeating: .infinity)) { pointwiseMin($0, $1) } - spacingMM
        let highest = corners.reduce(SIMD3<Double>(repeating: -.infinity)) { pointwiseMax($0, $1) } + spacingMM
        let cells = SIMD3(Int(((highest.x - lowest.x) / spacingMM).rounded(.up)) + 1,
                          Int(((highest.y - lowest.y) / spacingMM).rounded(.up)) + 1,
                          Int(((highest.z - lowest.z) / spacingMM).rounded(.up)) + 1)
        // A dense grid of cells as a rule; a set of the occupied ones when the dense grid would
        // be large (a coarse grid spanning metres: the samples are bounded by the surface
        // voxels, the cells by the world extent). The same cells either way.
        let (xy, overflowXY) = cells.x.multipliedReportingOverflow(by: cells.y)
        let (cellCount, overflow) = xy.multipliedReportingOverflow(by: cells.z)
        let dense = !overflowXY && !overflow && cellCount <= Self.maxDenseCells
        var taken = [Bool](repeating: false, count: dense ? cellCount : 0)
        var takenSparse = Set<SIMD3<Int>>()
        crop.voxels.withUnsafeBufferPointer { m in
            let strides = SIMD3(1, size.x, size.x * size.y)
            let extent = SIMD3(size.x, size.y, size.z)
            let bytes = UnsafeRawPointer(m.baseAddress!)
            /// The crossings at voxel `v` = (i, j, k), along each axis in order.
            func crossings(_ v: Int, _ i: Int, _ j: Int, _ k: Int) {
                let here = SIMD3(i, j, k)
                for axis in 0..<3 {
                    guard here[axis] + 1 < extent[axis], m[v] != m[v + strides[axis]] else { continue }
                    var index = SIMD3(Double(i), Double(j), Double(k))
                    index[axis] += 0.5
                    let p = g.world(atIndex: index)
                    let cell = (p - lowest) / spacingMM
                    if dense {
                        let key = Int(cell.x) + cells.x * (Int(cell.y) + cells.y * Int(cell.z))
                        guard !taken[key] else { continue }
                        taken[key] = true
                    } else {
                        guard takenSparse.insert(SIMD3(Int(cell.x), Int(cell.y), Int(cell.z))).inserted else { continue }
                    }
                    points.append(p)
                    // From inside towards outside along the segment's axis.
                    outwardHints.append((m[v] ? 1.0 : -1.0) * g.direction[axis])
                }
            }
            // Voxels in scan order; eight at a time are passed over when none differs from its
            // neighbour along any axis (the bytes of a row compared as words with the row shifted
            // by one, the next row and the next slice's row), which is most of a liver's box.
            for k in 0..<size.z {
                for j in 0..<size.y {
                    let row = size.linearIndex(0, j, k)
                    let nextRow = j + 1 < size.y ? strides.y : 0
                    let nextSlice = k + 1 < size.z ? strides.z : 0
                    var i = 0
                    while i + 9 <= size.x {
                        let at = row + i
                        let word = bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                        let differs = (word ^ bytes.loadUnaligned(fromByteOffset: at + 1, as: UInt64.self))
                            | (word ^ bytes.loadUnaligned(fromByteOffset: at + nextRow, as: UInt64.self))
                            | (word ^ bytes.loadUnaligned(fromByteOffset: at + nextSlice, as: UInt64.self))
                        if differs != 0 {
                            for d in 0..<8 { crossings(at + d, i + d, j, k) }
                        }
                        i += 8
                    }
                    while i < size.x {
                        crossings(row + i, i, j, k)
                        i += 1
                    }
                }
            }
        }
        let tree = KDTree(points)
        self.normals = concurrentMap(Array(points.indices)) { i in
            // Covariance of the neighbours, accumulated about the sample itself.
            var sum = SIMD3<Double>.zero
            var xx = SIMD3<Double>.zero  // xx, yy, zz
            var xy = SIMD3<Double>.zero  // xy, xz, yz
            var count = 0.0
            let origin = points[i]
            points.withUnsafeBufferPointer { p in
                tree.forEach(within: 2 * spacingMM, of: origin) { j, _ in
                    let d = p[j] - origin
                    sum += d
                    xx += d * d
                    xy += SIMD3(d.x * d.y, d.x * d.z, d.y * d.z)
                    count += 1
                }
            }
            let mean = sum / count
            let diagonal = xx / count - mean * mean
            let off = xy / count - SIMD3(mean.x * mean.y, mean.x * mean.z, mean.y * mean.z)
            let covariance = [diagonal.x, off.x, off.y, off.x, diagonal.y, off.z, off.y, off.z, diagonal.z]
            var normal = smallestEigenvector(covariance) ?? outwardHints[i]
            if dot(normal, outwardHints[i]) < 0 { normal = -normal }
            return normal
        }
        self.points = points
    }
}
