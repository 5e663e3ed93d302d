import Foundation
public import MAMImaging

/// A closed surface recovered with sub-voxel accuracy from a binary mask: points with outward
/// unit normals and the surface area each point stands for (world mm and mm^2).
///
/// A mask only says that the surface crosses the segment between two neighbouring voxel
/// centres of different value, somewhere along it. Each such crossing starts at the segment's
/// midpoint; its error lies along the segment, uniform within +-h/2 (h the spacing on that
/// axis), so its error along the surface normal n has variance n_a^2 h_a^2 / 12. Segments
/// nearly tangent to the surface therefore pin it down precisely, and those perpendicular to it
/// (the flat caps where the surface is parallel to a grid plane) hardly at all.
///
/// Every crossing is then moved along its normal onto a quadric height field fitted to its
/// neighbours by weighted least squares (moving least squares): weights are the inverse of that
/// variance times a Gaussian of the distance, of width s. The width adapts to the surface: a
/// flat cap of a surface with radius of curvature R on slices h apart is about sqrt(2 R h)
/// wide, so s = max(h_max, sqrt(2 R h_n) / 2) (h_n the spacing along the normal), capped at
/// R / 3 where a quadric still fits a sphere; R comes from a first fit at s = 1.5 h_max.
/// Neighbours whose normals differ by more than 60 degrees (the other side of a thin part) are
/// left out. Normals come from the gradient of the mask anti-aliased with a Gaussian of one
/// voxel, then from the fitted quadric's slope.
///
/// A plane with unit normal n is crossed by segments along axis i with density
/// |n_i| / (h_j h_k) per mm^2, so each point stands for 1 / sum_i(|n_i| / (h_j h_k)) mm^2.
/// Measured accuracy on spheres: Docs/margin-method.md.
public struct SubvoxelSurface: Sendable {
    public let points: [SIMD3<Double>]
    public let normals: [SIMD3<Double>]
    public let areasMM2: [Double]
    /// The mask anti-aliased with a Gaussian of one voxel (values in [0, 1], > 0.5 inside).
    public let field: Volume<Float>

    /// `mask` should be a crop whose border holds no voxel of the structure (grow the box by
    /// a few voxels); a structure cut by the crop would get a surface along the cut.
    public init(mask: Mask) {
        let g = mask.geometry
        let field = Self.antialiased(mask, sigma: 1)
        self.field = field
        let size = g.size
        let h = g.spacing
        let gradientToWorld = g.indexToWorld.linear.inverse.transposed

        // Crossings at segment midpoints, with the axis of their segment.
        var start: [SIMD3<Double>] = []
        var axes: [Int] = []
        var normals: [SIMD3<Double>] = []
        mask.voxels.withUnsafeBufferPointer { m in
            for k in 0..<size.z {
                for j in 0..<size.y {
                    for i in 0..<size.x {
                        let a = m[size.linearIndex(i, j, k)]
                        for axis in 0..<3 {
                            var n = SIMD3(i, j, k)
                            n[axis] += 1
                            guard n[axis] < [size.x, size.y, size.z][axis], m[size.linearIndex(n.x, n.y, n.z)] != a else { continue }
                            var index = SIMD3(Double(i), Double(j), Double(k))
                            index[axis] += 0.5
                            let gradient = gradientToWorld * Self.gradient(field, at: index)
                            let norm = length(gradient)
                            // The side with the mask is "inside": the normal points away from it.
                            let outward = norm > 0 ? -gradient / norm : (a ? 1.0 : -1.0) * Self.axisVector(axis, g)
                            start.append(g.world(atIndex: index))
                            axes.append(axis)
                            normals.append(outward)
                        }
                    }
                }
            }
        }

        let fit = QuadricFit(points: start, normals: normals, axes: axes, spacing: h)
        var points = start
        var refinedNormals = normals
        var areas = [Double](repeating: 0, count: start.count)
        let crossingDensity = SIMD3(1 / (h.y * h.z), 1 / (h.x * h.z), 1 / (h.x * h.y))
        points.withUnsafeMutableBufferPointer { p in
            refinedNormals.withUnsafeMutableBufferPointer { n in
                areas.withUnsafeMutableBufferPointer { area in
                    let (p, n, area) = (p.baseAddress!, n.baseAddress!, area.baseAddress!)
                    concurrentChunks(start.count) { range in
                        for i in range {
                            let (offset, normal) = fit.refine(i)
                            p[i] = start[i] + offset * normals[i]
                            n[i] = normal
                            area[i] = 1 / dot(SIMD3(abs(normal.x), abs(normal.y), abs(normal.z)), crossingDensity)
                        }
                    }
                }
            }
        }
        self.points = points
        self.normals = refinedNormals
        self.areasMM2 = areas
    }

    public var areaMM2: Double { areasMM2.reduce(0, +) }

    static func axisVector(_ axis: Int, _ g: ImageGeometry) -> SIMD3<Double> { g.direction[axis] }

    // MARK: Field helpers

    /// Gaussian anti-aliasing in voxel units, separable, kernel cut at 3 sigma, edges clamped.
    static func antialiased(_ mask: Mask, sigma: Double) -> Volume<Float> {
        var values = mask.voxels.map { $0 ? Float(1) : 0 }
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let size = mask.size
        let counts = [size.x, size.y, size.z]
        let strides = [1, size.x, size.x * size.y]
        values.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            for axis in 0..<3 where counts[axis] > 1 {
                let n = counts[axis]
                let stride = strides[axis]
                // Lines along `axis`, numbered by the other two indices.
                let (outer, inner) = axis == 0 ? (size.z, size.y) : (axis == 1 ? (size.z, size.x) : (size.y, size.x))
                concurrentChunks(outer * inner) { lines in
                    var scratch = [Float](repeating: 0, count: n)
                    for line in lines {
                        let (o, i) = (line / inner, line % inner)
                        let first = axis == 0 ? o * size.x * size.y + i * size.x
                            : (axis == 1 ? o * size.x * size.y + i : o * size.x + i)
                        for p in 0..<n {
                            var sum: Float = 0
                            for (offset, w) in kernel.enumerated() {
                                let q = min(max(p + offset - radius, 0), n - 1)
                                sum += w * v[first + q * stride]
                            }
                            scratch[p] = sum
                        }
                        for p in 0..<n { v[first + p * stride] = scratch[p] }
                    }
                }
            }
        }
        return Volume(geometry: mask.geometry, voxels: values)
    }

    /// Trilinear interpolation at a continuous index; 0 outside the grid.
    static func interpolate(_ v: Volume<Float>, at index: SIMD3<Double>) -> Double {
        let s = v.size
        let lo = SIMD3(index.x.rounded(.down), index.y.rounded(.down), index.z.rounded(.down))
        let t = index - lo
        let (i, j, k) = (Int(lo.x), Int(lo.y), Int(lo.z))
        guard i >= -1, j >= -1, k >= -1, i < s.x, j < s.y, k < s.z else { return 0 }
        var result = 0.0
        for dz in 0...1 {
            for dy in 0...1 {
                for dx in 0...1 where s.contains(i + dx, j + dy, k + dz) {
                    let w = (dx == 0 ? 1 - t.x : t.x) * (dy == 0 ? 1 - t.y : t.y) * (dz == 0 ? 1 - t.z : t.z)
                    result += w * Double(v.voxels[s.linearIndex(i + dx, j + dy, k + dz)])
                }
            }
        }
        return result
    }

    /// The field's gradient in index space at a continuous index: central differences at the
    /// eight surrounding voxels (edges clamped), interpolated trilinearly.
    static func gradient(_ v: Volume<Float>, at index: SIMD3<Double>) -> SIMD3<Double> {
        let s = v.size
        let lo = SIMD3(index.x.rounded(.down), index.y.rounded(.down), index.z.rounded(.down))
        let t = index - lo
        let (i, j, k) = (Int(lo.x), Int(lo.y), Int(lo.z))
        func value(_ a: Int, _ b: Int, _ c: Int) -> Double {
            Double(v.voxels[s.linearIndex(min(max(a, 0), s.x - 1), min(max(b, 0), s.y - 1), min(max(c, 0), s.z - 1))])
        }
        var result = SIMD3<Double>.zero
        for dz in 0...1 {
            for dy in 0...1 {
                for dx in 0...1 {
                    let w = (dx == 0 ? 1 - t.x : t.x) * (dy == 0 ? 1 - t.y : t.y) * (dz == 0 ? 1 - t.z : t.z)
                    guard w != 0 else { continue }
                    let (a, b, c) = (i + dx, j + dy, k + dz)
                    result += w * SIMD3(value(a + 1, b, c) - value(a - 1, b, c), value(a, b + 1, c) - value(a, b - 1, c),
                                        value(a, b, c + 1) - value(a, b, c - 1)) / 2
                }
            }
        }
        return result
    }
}

/// The weighted quadric fits behind `SubvoxelSurface` (see there for the method).
struct QuadricFit {
    let points: [SIMD3<Double>]
    let normals: [SIMD3<Double>]
    let axes: [Int]
    let spacing: SIMD3<Double>
    let tree: KDTree
    /// Keeps weights finite for segments exactly tangent to the surface.
    let varianceFloor: Double

    init(points: [SIMD3<Double>], normals: [SIMD3<Double>], axes: [Int], spacing: SIMD3<Double>) {
        self.points = points
        self.normals = normals
        self.axes = axes
        self.spacing = spacing
        tree = KDTree(points)
        varianceFloor = (0.05 * spacing.min()) * (0.05 * spacing.min())
    }

    /// The offset along point i's normal onto the fitted surface, and the fitted normal.
    func refine(_ i: Int) -> (Double, SIMD3<Double>) {
        let h = spacing
        var coefficients = fit(i, width: 1.5 * h.max())
        if let c = coefficients {
            let n = normals[i]
            let along = abs(n.x) >= abs(n.y) && abs(n.x) >= abs(n.z) ? h.x : (abs(n.y) >= abs(n.z) ? h.y : h.z)
            let r = radius(c)
            let width = min(max(h.max(), (2 * r * along).squareRoot() / 2), max(r / 3, h.min()))
            coefficients = fit(i, width: width) ?? c
        }
        guard let c = coefficients else { return (0, normals[i]) }
        let (eu, ev) = frame(normals[i])
        let tilted = normals[i] - c[1] * eu - c[2] * ev
        return (c[0], tilted / length(tilted))
    }

    private func frame(_ n: SIMD3<Double>) -> (SIMD3<Double>, SIMD3<Double>) {
        let helper = abs(n.x) < 0.9 ? SIMD3<Double>(1, 0, 0) : SIMD3<Double>(0, 1, 0)
        let eu = cross(n, helper) / length(cross(n, helper))
        return (eu, cross(n, eu))
    }

    /// Radius of curvature from the quadric w = c0 + c1 u + c2 v + c3 u^2 + c4 u v + c5 v^2:
    /// 1 / the largest principal curvature (eigenvalues of [[2 c3, c4], [c4, 2 c5]]), in
    /// [2 h_min, 100] mm.
    private func radius(_ c: [Double]) -> Double {
        let mean = c[3] + c[5]
        let spread = ((c[3] - c[5]) * (c[3] - c[5]) + c[4] * c[4]).squareRoot()
        let k = max(abs(mean + spread), abs(mean - spread))
        return min(100, max(2 * spacing.min(), k > 0 ? 1 / k : 100))
    }

    /// Weighted least-squares quadric height field around point i; nil when singular.
    private func fit(_ i: Int, width s: Double) -> [Double]? {
        let n = normals[i]
        let (eu, ev) = frame(n)
        let origin = points[i]
        var a = [Double](repeating: 0, count: 36)
        var b = [Double](repeating: 0, count: 6)
        let h2 = spacing * spacing
        tree.forEach(within: 2.5 * s, of: origin) { j, d2 in
            guard dot(normals[j], n) > 0.5 else { return }
            let d = points[j] - origin
            let (u, v, w) = (dot(d, eu), dot(d, ev), dot(d, n))
            let component = n[axes[j]]
            let weight = exp(-d2 / (2 * s * s)) / (component * component * h2[axes[j]] / 12 + varianceFloor)
            let basis = [1, u, v, u * u, u * v, v * v]
            for r in 0..<6 {
                b[r] += weight * basis[r] * w
                for c in r..<6 { a[r * 6 + c] += weight * basis[r] * basis[c] }
            }
        }
        for r in 0..<6 { for c in 0..<r { a[r * 6 + c] = a[c * 6 + r] } }
        return solveSymmetric6(a, b)
    }
}

/// Solves the 6 x 6 system by Gaussian elimination with partial pivoting; nil when singular.
func solveSymmetric6(_ matrix: [Double], _ rhs: [Double]) -> [Double]? {
    var m = matrix
    var y = rhs
    let scale = max(1e-300, (0..<6).map { abs(m[$0 * 7]) }.max()!)
    for c in 0..<6 {
        var pivot = c
        for r in c..<6 where abs(m[r * 6 + c]) > abs(m[pivot * 6 + c]) { pivot = r }
        guard abs(m[pivot * 6 + c]) > 1e-12 * scale else { return nil }
        if pivot != c {
            for k in 0..<6 { m.swapAt(c * 6 + k, pivot * 6 + k) }
            y.swapAt(c, pivot)
        }
        for r in (c + 1)..<6 {
            let f = m[r * 6 + c] / m[c * 6 + c]
            for k in c..<6 { m[r * 6 + k] -= f * m[c * 6 + k] }
            y[r] -= f * y[c]
        }
    }
    var x = [Double](repeating: 0, count: 6)
    for r in stride(from: 5, through: 0, by: -1) {
        var sum = y[r]
        for k in (r + 1)..<6 { sum -= m[r * 6 + k] * x[k] }
        x[r] = sum / m[r * 6 + r]
    }
    return x
}
