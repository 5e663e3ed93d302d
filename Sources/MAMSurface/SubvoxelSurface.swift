import Foundation
public import MAMCore

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
/// The crossings are then moved onto quadric height fields fitted by weighted least squares
/// (moving least squares): weights are the inverse of that variance times a Gaussian of the
/// distance, of width s. Fits are made at centres about 1.5 voxels apart (one crossing per cell
/// of that size), from about 96 neighbours each: the crossings within reach of a nested sample
/// that keeps about that many (see `FitInputs`), which does not depend on the order in which a
/// search finds them. Every crossing is projected onto the quadric of its nearest centre, along
/// that centre's normal. The width adapts to the surface: a flat cap of a surface with radius
/// of curvature R on slices h apart is about sqrt(2 R h) wide, so s = sqrt(2 R h_n) / 2 (h_n
/// the spacing along the normal), capped at R / 3 where a quadric still fits a sphere, and at
/// least h_max; R comes from a first fit at s = 1.5 h_max (and from the second fit when that
/// one spans more than a hemisphere, see `FitInputs.adaptiveFit`).
/// Neighbours whose normals differ by more than 60 degrees (the other side of a thin part) are
/// left out. Normals come from the gradient of the mask anti-aliased with a Gaussian of one
/// voxel (central differences at the segment's ends), then from the fitted quadric's slope.
///
/// A plane with unit normal n is crossed by segments along axis i with density
/// |n_i| / (h_j h_k) per mm^2, so each point stands for 1 / sum_i(|n_i| / (h_j h_k)) mm^2.
/// Measured accuracy on spheres: Docs/margin-method.md.
public struct SubvoxelSurface: Sendable {
    public let points: [SIMD3<Double>]
    public let normals: [SIMD3<Double>]
    public let areasMM2: [Double]
    /// A thinner sampling of the same surface: one point per fit centre (cells 1.5 voxels
    /// wide), standing for the summed area of the crossings projected through its fit.
    public let samples: [SIMD3<Double>]
    public let sampleAreasMM2: [Double]
    /// The mask anti-aliased with a Gaussian of one voxel (values in [0, 1], > 0.5 inside).
    public let field: Volume<Float>

    /// `mask` should be a crop whose border holds no voxel of the structure (grow the box by
    /// a few voxels); a structure cut by the crop would get a surface along the cut. A mask
    /// whose voxels repeat (resampled by nearest neighbour) is fitted on its native grid
    /// (`atNativeResolution`), which `field` then has.
    public init(mask resampled: Mask) {
        let mask = resampled.atNativeResolution()
        let g = mask.geometry
        let field = Self.antialiased(mask, sigma: 1)
        self.field = field
        let size = g.size
        let h = g.spacing
        let gradientToWorld = g.indexToWorld.linear.inverse.transposed

        // Crossings at segment midpoints, with the axis of their segment, found slice by slice
        // in parallel. The normal at a midpoint is the mean of the central-difference
        // gradients of the anti-aliased mask at the segment's two ends.
        let crossings = mask.voxels.withUnsafeBufferPointer { m in
            field.voxels.withUnsafeBufferPointer { f in
                let (m, f) = (m.baseAddress!, f.baseAddress!)
                let (nx, ny, nz) = (size.x, size.y, size.z)
                let slice = nx * ny
                /// One axis of the gradient at voxel v with coordinate c along it (n voxels,
                /// neighbours `stride` apart): central, or one-sided at the edges.
                @inline(__always)
                func difference(_ v: Int, _ c: Int, _ n: Int, _ stride: Int) -> Double {
                    let below = c > 0 ? v - stride : v
                    let above = c < n - 1 ? v + stride : v
                    let span = (c > 0 ? 1 : 0) + (c < n - 1 ? 1 : 0)
                    return Double(f[above] - f[below]) / Double(max(1, span))
                }
                @inline(__always)
                func centralDifference(_ i: Int, _ j: Int, _ k: Int) -> SIMD3<Double> {
                    let v = k * slice + j * nx + i
                    return SIMD3(difference(v, i, nx, 1), difference(v, j, ny, nx), difference(v, k, nz, slice))
                }
                return concurrentFlatMap(nz) { k -> [(SIMD3<Double>, Int, SIMD3<Double>)] in
                    var found: [(SIMD3<Double>, Int, SIMD3<Double>)] = []
                    func add(_ i: Int, _ j: Int, _ k: Int, axis: Int, inside: Bool) {
                        var index = SIMD3(Double(i), Double(j), Double(k))
                        index[axis] += 0.5
                        let next = (axis == 0 ? (i + 1, j, k) : (axis == 1 ? (i, j + 1, k) : (i, j, k + 1)))
                        let gradient = gradientToWorld
                            * ((centralDifference(i, j, k) + centralDifference(next.0, next.1, next.2)) / 2)
                        let norm = length(gradient)
                        // The side with the mask is inside: the normal points away from it.
                        let outward = norm > 0 ? -gradient / norm : (inside ? 1.0 : -1.0) * g.direction[axis]
                        found.append((g.world(atIndex: index), axis, outward))
                    }
                    for j in 0..<ny {
                        let row = k * slice + j * nx
                        for i in 0..<nx {
                            let v = row + i
                            let a = m[v]
                            if i + 1 < nx, m[v + 1] != a { add(i, j, k, axis: 0, inside: a) }
                            if j + 1 < ny, m[v + nx] != a { add(i, j, k, axis: 1, inside: a) }
                            if k + 1 < nz, m[v + slice] != a { add(i, j, k, axis: 2, inside: a) }
                        }
                    }
                    return found
                }
            }
        }
        let start = crossings.map(\.0)
        let axes = crossings.map(\.1)
        let normals = crossings.map(\.2)

        let fit = QuadricFit(points: start, normals: normals, axes: axes, spacing: h)
        let crossingDensity = SIMD3(1 / (h.y * h.z), 1 / (h.x * h.z), 1 / (h.x * h.y))
        var points = start
        var refinedNormals = normals
        var areas = [Double](repeating: 0, count: start.count)
        var owners = [Int](repeating: 0, count: start.count)
        owners.withUnsafeMutableBufferPointer { owner in
            points.withUnsafeMutableBufferPointer { p in
                refinedNormals.withUnsafeMutableBufferPointer { n in
                    areas.withUnsafeMutableBufferPointer { area in
                        let (owner, p, n, area) = (owner.baseAddress!, p.baseAddress!, n.baseAddress!, area.baseAddress!)
                        concurrentChunks(start.count) { range in
                            var hint: Int?
                            for i in range {
                                let (point, normal, centre) = fit.project(i, hint: hint)
                                hint = centre
                                owner[i] = centre
                                p[i] = point
                                n[i] = normal
                                area[i] = 1 / dot(SIMD3(abs(normal.x), abs(normal.y), abs(normal.z)), crossingDensity)
                            }
                        }
                    }
                }
            }
        }
        var sampleAreas = [Double](repeating: 0, count: fit.centres.count)
        for (i, c) in owners.enumerated() { sampleAreas[c] += areas[i] }
        self.samples = fit.centres.map { points[$0] }
        self.sampleAreasMM2 = sampleAreas
        self.points = points
        self.normals = refinedNormals
        self.areasMM2 = areas
    }

    public var areaMM2: Double { areasMM2.reduce(0, +) }

    /// Voxels of background to keep around a structure when cropping it for a surface: the
    /// anti-aliasing kernel's reach (3 voxels) plus one.
    public static let cropMargin = 4

    /// The crop of `mask` a surface wants: `box` (the structure's bounding box) grown by
    /// `cropMargin` voxels, within the grid.
    public static func crop(_ mask: Mask, around box: IndexBox) -> Mask {
        mask.cropped(to: box.expanded(by: SIMD3(repeating: cropMargin), within: mask.size))
    }

    // MARK: Field helpers

    /// Gaussian anti-aliasing in voxel units, separable, kernel cut at 3 sigma, edges clamped.
    /// Each pass adds whole rows (x lines) scaled by the kernel's weights, so that the inner
    /// loops run over contiguous memory.
    static func antialiased(_ mask: Mask, sigma: Double) -> Volume<Float> {
        let radius = max(1, Int((3 * sigma).rounded(.up)))
        var kernel = (-radius...radius).map { Float(exp(-Double($0 * $0) / (2 * sigma * sigma))) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let size = mask.size
        let (nx, ny, nz) = (size.x, size.y, size.z)
        let slice = nx * ny
        var a = [Float](repeating: 0, count: size.count)
        var b = [Float](repeating: 0, count: size.count)
        kernel.withUnsafeBufferPointer { w in
            let w = w.baseAddress!
            a.withUnsafeMutableBufferPointer { a in
                b.withUnsafeMutableBufferPointer { b in
                    let (a, b) = (a.baseAddress!, b.baseAddress!)
                    mask.voxels.withUnsafeBufferPointer { m in
                        let m = m.baseAddress!
                        // Along x, into a: each row from its mask values, edges clamped.
                        concurrentChunks(ny * nz) { rows in
                            var line = [Float](repeating: 0, count: nx + 2 * radius)
                            for row in rows {
                                let base = row * nx
                                for i in 0..<(nx + 2 * radius) {
                                    line[i] = m[base + min(max(i - radius, 0), nx - 1)] ? 1 : 0
                                }
                                for i in 0..<nx {
                                    var sum: Float = 0
                                    for t in 0...(2 * radius) { sum += w[t] * line[i + t] }
                                    a[base + i] = sum
                                }
                            }
                        }
                    }
                    // Along y, a into b: row j of each slice from rows j - radius ... j + radius.
                    concurrentChunks(nz) { slices in
                        for k in slices {
                            for j in 0..<ny {
                                let out = b + k * slice + j * nx
                                for i in 0..<nx { out[i] = 0 }
                                for t in 0...(2 * radius) {
                                    let from = a + k * slice + min(max(j + t - radius, 0), ny - 1) * nx
                                    let weight = w[t]
                                    for i in 0..<nx { out[i] += weight * from[i] }
                                }
                            }
                        }
                    }
                    // Along z, b into a: slice k from slices k - radius ... k + radius.
                    concurrentChunks(nz) { slices in
                        for k in slices {
                            let out = a + k * slice
                            for i in 0..<slice { out[i] = 0 }
                            for t in 0...(2 * radius) {
                                let from = b + min(max(k + t - radius, 0), nz - 1) * slice
                                let weight = w[t]
                                for i in 0..<slice { out[i] += weight * from[i] }
                            }
                        }
                    }
                }
            }
        }
        return Volume(geometry: mask.geometry, voxels: a)
    }

    /// Trilinear interpolation at a continuous index; 0 outside the grid.
    public static func interpolate(_ v: Volume<Float>, at index: SIMD3<Double>) -> Double {
        v.voxels.withUnsafeBufferPointer { interpolate($0.baseAddress!, size: v.size, at: index) }
    }

    /// `interpolate` on a volume's voxels (x fastest), for loops that read one volume many
    /// times. Corners outside the grid count as 0; the eight corners are summed in the same
    /// order whether or not the cell lies inside the grid, so the two paths agree to the bit.
    public static func interpolate(_ voxels: UnsafePointer<Float>, size s: GridSize, at index: SIMD3<Double>) -> Double {
        let lo = SIMD3(index.x.rounded(.down), index.y.rounded(.down), index.z.rounded(.down))
        let t = index - lo
        let (i, j, k) = (Int(lo.x), Int(lo.y), Int(lo.z))
        guard i >= -1, j >= -1, k >= -1, i < s.x, j < s.y, k < s.z else { return 0 }
        let (u, v, w) = (1 - t.x, 1 - t.y, 1 - t.z)
        if i >= 0, j >= 0, k >= 0, i + 1 < s.x, j + 1 < s.y, k + 1 < s.z {
            let c = s.linearIndex(i, j, k)
            let (row, slice) = (s.x, s.x * s.y)
            var result = u * v * w * Double(voxels[c])
            result += t.x * v * w * Double(voxels[c + 1])
            result += u * t.y * w * Double(voxels[c + row])
            result += t.x * t.y * w * Double(voxels[c + row + 1])
            result += u * v * t.z * Double(voxels[c + slice])
            result += t.x * v * t.z * Double(voxels[c + slice + 1])
            result += u * t.y * t.z * Double(voxels[c + slice + row])
            result += t.x * t.y * t.z * Double(voxels[c + slice + row + 1])
            return result
        }
        var result = 0.0
        for dz in 0...1 {
            for dy in 0...1 {
                for dx in 0...1 where s.contains(i + dx, j + dy, k + dz) {
                    let weight = (dx == 0 ? u : t.x) * (dy == 0 ? v : t.y) * (dz == 0 ? w : t.z)
                    result += weight * Double(voxels[s.linearIndex(i + dx, j + dy, k + dz)])
                }
            }
        }
        return result
    }
}

/// The weighted quadric fits behind `SubvoxelSurface` (see there for the method).
struct QuadricFit {
    let inputs: FitInputs
    /// Indices of the crossings that carry a fit, their fits (nil: none possible), and a tree
    /// over them.
    let centres: [Int]
    let fits: [[Double]?]
    let centreTree: KDTree

    /// About this many neighbours enter each fit (see `FitInputs.levels`).
    static let neighboursPerFit = 96

    init(points: [SIMD3<Double>], normals: [SIMD3<Double>], axes: [Int], spacing: SIMD3<Double>) {
        let inputs = FitInputs(points: points, normals: normals, axes: axes, spacing: spacing)
        self.inputs = inputs
        // One centre per occupied cell of 1.5 voxels (the first crossing in it).
        let cell = 1.5 * spacing.max()
        var taken = Set<SIMD3<Int>>()
        var centres: [Int] = []
        for (i, p) in points.enumerated() {
            let key = SIMD3(Int((p.x / cell).rounded(.down)), Int((p.y / cell).rounded(.down)), Int((p.z / cell).rounded(.down)))
            if taken.insert(key).inserted { centres.append(i) }
        }
        self.centres = centres
        centreTree = KDTree(centres.map { points[$0] })
        var fits = [[Double]?](repeating: nil, count: centres.count)
        fits.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(centres.count) { range in
                for c in range { out[c] = inputs.adaptiveFit(centres[c]) }
            }
        }
        self.fits = fits
    }

    /// Crossing i projected onto the quadric of its nearest centre, the quadric's normal there,
    /// and that centre (a hint for the next crossing).
    func project(_ i: Int, hint: Int?) -> (SIMD3<Double>, SIMD3<Double>, Int) {
        let (points, normals) = (inputs.points, inputs.normals)
        let c = centreTree.nearest(to: points[i], hint: hint).index
        guard let q = fits[c] else { return (points[i], normals[i], c) }
        let origin = points[centres[c]]
        let n = normals[centres[c]]
        let (eu, ev) = FitInputs.frame(n)
        let d = points[i] - origin
        let (u, v) = (dot(d, eu), dot(d, ev))
        let w = q[0] + q[1] * u + q[2] * v + q[3] * u * u + q[4] * u * v + q[5] * v * v
        let slope = (q[1] + 2 * q[3] * u + q[4] * v, q[2] + q[4] * u + 2 * q[5] * v)
        let normal = n - slope.0 * eu - slope.1 * ev
        return (origin + u * eu + v * ev + w * n, normal / length(normal), c)
    }
}

/// What the quadric fits read: the crossings, their normals and segment axes, the spacing,
/// nested samples of the crossings with a tree each, and the variance floor that keeps weights
/// finite for segments exactly tangent to the surface.
struct FitInputs: Sendable {
    let points: [SIMD3<Double>]
    let normals: [SIMD3<Double>]
    let axes: [Int]
    let spacing: SIMD3<Double>
    let varianceFloor: Double
    /// Nested samples of the crossings: level k holds those with `rank` below 2^-k (level 0
    /// all of them), as a tree and the positions, normals and segment axes of its points in
    /// the tree's order (read almost in sequence by a search). Crossings are numbered in scan
    /// order, so each level's members are spread evenly along every row of voxels; a fit reads
    /// the level that leaves about `QuadricFit.neighboursPerFit` within reach.
    let levels: [Level]

    struct Level: Sendable {
        let tree: KDTree
        let points: [SIMD3<Double>]
        let normals: [SIMD3<Double>]
        let axes: [Int]
    }

    static let levelCount = 6

    init(points: [SIMD3<Double>], normals: [SIMD3<Double>], axes: [Int], spacing: SIMD3<Double>) {
        self.points = points
        self.normals = normals
        self.axes = axes
        self.spacing = spacing
        varianceFloor = (0.05 * spacing.min()) * (0.05 * spacing.min())
        levels = concurrentMap(Array(0..<Self.levelCount)) { k in
            let members = k == 0 ? Array(points.indices) : points.indices.filter { Self.rank($0) < 0x1p0 / Double(1 << k) }
            let tree = KDTree(members.map { points[$0] })
            let order = tree.inputIndexByPosition.map { members[$0] }
            return Level(tree: tree, points: order.map { points[$0] }, normals: order.map { normals[$0] },
                         axes: order.map { axes[$0] })
        }
    }

    /// A first fit at width 1.5 h_max gives the radius of curvature R; the second is made at
    /// sqrt(2 R h_n) / 2, capped at R / 3, and never narrower than h_max: a narrower fit would
    /// see little more than one row of crossings (with 2.5 mm slices, one slice), which does
    /// not determine a quadric. A first fit that sees only the flat cap of a curved surface
    /// takes it for a plane and asks for a wide second fit; when that one finds a radius of
    /// curvature smaller than its own width (it spans more than a hemisphere: a 10 mm sphere
    /// on a 1 mm grid, fitted 7 mm wide, put the cap 1 mm off), a third fit at the width that
    /// radius asks for replaces it.
    func adaptiveFit(_ i: Int) -> [Double]? {
        let h = spacing
        guard let first = fit(i, width: 1.5 * h.max()) else { return nil }
        let n = normals[i]
        let along = abs(n.x) >= abs(n.y) && abs(n.x) >= abs(n.z) ? h.x : (abs(n.y) >= abs(n.z) ? h.y : h.z)
        func width(_ quadric: [Double]) -> (width: Double, radius: Double) {
            let r = radius(quadric)
            return (max(h.max(), min((2 * r * along).squareRoot() / 2, r / 3)), r)
        }
        let wide = width(first).width
        guard let second = fit(i, width: wide) else { return first }
        let (narrower, r) = width(second)
        guard r < wide else { return second }
        return fit(i, width: narrower) ?? second
    }

    /// frac(j * golden ratio), in [0, 1): consecutive j are spread as evenly as can be.
    static func rank(_ j: Int) -> Double {
        Double((UInt64(j) &* 0x9E37_79B9_7F4A_7C15) >> 11) * 0x1p-53
    }

    static func frame(_ n: SIMD3<Double>) -> (SIMD3<Double>, SIMD3<Double>) {
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

    /// Weighted least-squares quadric height field around crossing i, in its frame; nil when
    /// singular. The neighbours within 2 s come from the sample level that leaves about
    /// `QuadricFit.neighboursPerFit` of them: a plane with normal n is crossed by
    /// sum_a |n_a| / (h_b h_c) segments per mm^2, so about pi (2 s)^2 times that lie within reach.
    private func fit(_ i: Int, width s: Double) -> [Double]? {
        let n = normals[i]
        let (eu, ev) = Self.frame(n)
        let origin = points[i]
        let h = spacing
        let h2 = h * h
        let density = abs(n.x) / (h.y * h.z) + abs(n.y) / (h.x * h.z) + abs(n.z) / (h.x * h.y)
        let expected = Double.pi * 4 * s * s * density
        let level = min(Self.levelCount - 1, max(0, Int(log2(expected / Double(QuadricFit.neighboursPerFit)).rounded())))
        let data = levels[level]
        // Inverse variance along the normal of a crossing on each axis's segments.
        let inverseVariance = 1 / (n * n * h2 / 12 + varianceFloor)
        let spread = 1 / (2 * s * s)
        // Rows of the normal equations and their right-hand side, each as lanes 0-3 and 4-5.
        var low = (SIMD4<Double>.zero, SIMD4<Double>.zero, SIMD4<Double>.zero,
                   SIMD4<Double>.zero, SIMD4<Double>.zero, SIMD4<Double>.zero)
        var high = (SIMD2<Double>.zero, SIMD2<Double>.zero, SIMD2<Double>.zero,
                    SIMD2<Double>.zero, SIMD2<Double>.zero, SIMD2<Double>.zero)
        var rhsLow = SIMD4<Double>.zero
        var rhsHigh = SIMD2<Double>.zero
        data.points.withUnsafeBufferPointer { points in
            data.normals.withUnsafeBufferPointer { normals in
                data.axes.withUnsafeBufferPointer { axes in
                    data.tree.forEachPosition(within: 2 * s, of: origin) { j, d2 in
                        guard dot(normals[j], n) > 0.5 else { return }
                        let d = points[j] - origin
                        let (u, v, w) = (dot(d, eu), dot(d, ev), dot(d, n))
                        let axis = axes[j]
                        let variance = axis == 0 ? inverseVariance.x : (axis == 1 ? inverseVariance.y : inverseVariance.z)
                        let weight = exp(-d2 * spread) * variance
                        let (e, f) = (SIMD4<Double>(1, u, v, u * u), SIMD2<Double>(u * v, v * v))
                        let (we, wf) = (weight * e, weight * f)
                        low.0 += we[0] * e; high.0 += we[0] * f
                        low.1 += we[1] * e; high.1 += we[1] * f
                        low.2 += we[2] * e; high.2 += we[2] * f
                        low.3 += we[3] * e; high.3 += we[3] * f
                        low.4 += wf[0] * e; high.4 += wf[0] * f
                        low.5 += wf[1] * e; high.5 += wf[1] * f
                        rhsLow += w * we
                        rhsHigh += w * wf
                    }
                }
            }
        }
        var matrix = [Double](repeating: 0, count: 36)
        let rows = [(low.0, high.0), (low.1, high.1), (low.2, high.2), (low.3, high.3), (low.4, high.4), (low.5, high.5)]
        for (r, (a, b)) in rows.enumerated() {
            for c in 0..<4 { matrix[r * 6 + c] = a[c] }
            for c in 0..<2 { matrix[r * 6 + 4 + c] = b[c] }
        }
        let rhs = [rhsLow[0], rhsLow[1], rhsLow[2], rhsLow[3], rhsHigh[0], rhsHigh[1]]
        return solveSymmetric6(matrix, rhs)
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

extension SubvoxelSurface {
    /// Trilinear interpolation at a continuous index, clamped to the grid.
    public static func interpolateClamped(_ v: Volume<Float>, at index: SIMD3<Double>) -> Double {
        let s = v.size
        let clamped = SIMD3(min(max(index.x, 0), Double(s.x - 1)), min(max(index.y, 0), Double(s.y - 1)),
                            min(max(index.z, 0), Double(s.z - 1)))
        return interpolate(v, at: clamped)
    }
}
