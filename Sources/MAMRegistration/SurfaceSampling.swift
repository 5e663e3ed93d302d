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
            for k in 0..<size.z {
                for j in 0..<size.y {
                    for i in 0..<size.x {
                        let v = size.linearIndex(i, j, k)
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

/// Eigenvalues and unit eigenvectors (columns, same order) of a symmetric 3 x 3 matrix given
/// row-major, by cyclic Jacobi rotations.
func symmetricEigen(_ m: [Double]) -> (values: SIMD3<Double>, vectors: Matrix3) {
    var a = m
    var v: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
    for _ in 0..<50 {
        let off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5]
        if off <= 1e-24 * (a[0] * a[0] + a[4] * a[4] + a[8] * a[8]) { break }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] where a[p * 3 + q] != 0 {
            let theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * a[p * 3 + q])
            let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
            let c = 1 / (t * t + 1).squareRoot()
            let s = t * c
            for k in 0..<3 {
                let (kp, kq) = (a[k * 3 + p], a[k * 3 + q])
                a[k * 3 + p] = c * kp - s * kq
                a[k * 3 + q] = s * kp + c * kq
            }
            for k in 0..<3 {
                let (pk, qk) = (a[p * 3 + k], a[q * 3 + k])
                a[p * 3 + k] = c * pk - s * qk
                a[q * 3 + k] = s * pk + c * qk
            }
            for k in 0..<3 {
                let (kp, kq) = (v[k * 3 + p], v[k * 3 + q])
                v[k * 3 + p] = c * kp - s * kq
                v[k * 3 + q] = s * kp + c * kq
            }
        }
    }
    return (SIMD3(a[0], a[4], a[8]), Matrix3(rows: SIMD3(v[0], v[1], v[2]), SIMD3(v[3], v[4], v[5]), SIMD3(v[6], v[7], v[8])))
}

/// The unit eigenvector of the smallest eigenvalue of a symmetric 3 x 3 matrix (row-major);
/// nil if the matrix is zero.
func smallestEigenvector(_ m: [Double]) -> SIMD3<Double>? {
    guard m.contains(where: { $0 != 0 }) else { return nil }
    let (values, vectors) = symmetricEigen(m)
    let smallest = values.x <= values.y && values.x <= values.z ? 0 : (values.y <= values.z ? 1 : 2)
    return vectors[smallest] / length(vectors[smallest])
}

/// Eigenvectors of a symmetric 3 x 3 matrix (row-major) as the columns of a rotation, by
/// decreasing eigenvalue; the third column is the cross product of the first two.
func principalAxes(_ m: [Double]) -> Matrix3 {
    let (values, vectors) = symmetricEigen(m)
    let order = [0, 1, 2].sorted { values[$0] > values[$1] }
    let (e0, e1) = (vectors[order[0]], vectors[order[1]])
    let e2 = cross(e0, e1)
    return Matrix3(columns: e0 / length(e0), e1 / length(e1), e2 / length(e2))
}
