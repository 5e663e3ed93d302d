import Dispatch
import Foundation
public import MAMCore

/// Distances in millimetres from each voxel centre to the nearest voxel centre of a mask
/// (0 on the mask). `+infinity` everywhere when the mask is empty; never NaN.
public struct DistanceMap: Sendable {
    public let geometry: ImageGeometry
    public let millimetres: [Float]
}

/// A signed Euclidean distance map with one fixed convention: **positive inside the mask**.
///
/// For a voxel inside the mask, the distance (mm) from its centre to the nearest centre of a
/// voxel outside; for a voxel outside, minus the distance to the nearest centre inside. So
/// `value > 0` exactly on the mask, and the value is never 0. This equals scipy's
/// `edt(mask) - edt(~mask)` with `sampling = spacing`. Where the other class is absent (an
/// empty or a full mask) the values are `-infinity` or `+infinity`; never NaN. The zero level
/// lies between voxel centres; consumers that need the boundary with sub-voxel accuracy use
/// the margin engine's surface, not this map.
public struct SignedDistanceMap: Sendable {
    public let geometry: ImageGeometry
    /// Positive inside, negative outside, millimetres.
    public let insidePositiveMM: [Float]

    public func isInside(_ linearIndex: Int) -> Bool { insidePositiveMM[linearIndex] > 0 }
}

/// Exact Euclidean distance transforms on 3-D grids with anisotropic spacing.
///
/// Felzenszwalb and Huttenlocher's separable algorithm ("Distance transforms of sampled
/// functions", 2012): a 1-D pass along x finds each voxel's nearest feature in its row, then
/// passes along y and z take the lower envelope of parabolas `(p - q)^2 w^2 + f(q)`, w being
/// the spacing in mm. Time and memory are linear in the voxel count; lines run in parallel on
/// all cores. The grid axes must be perpendicular (every scanner grid is); spacing is taken
/// from the geometry. For a region of interest, crop the mask first (`Volume.cropped(to:)`):
/// voxels outside the crop are then neither features nor computed.
public enum DistanceTransform {
    /// Distance from every voxel centre to the nearest centre of a `true` voxel.
    public static func distance(to mask: Mask) -> DistanceMap {
        precondition(mask.geometry.isOrthogonal, "DistanceTransform needs perpendicular grid axes")
        let millimetres = mask.voxels.withUnsafeBufferPointer {
            distances(size: mask.size, spacing: mask.geometry.spacing, features: $0, featureValue: true)
        }
        return DistanceMap(geometry: mask.geometry, millimetres: millimetres)
    }

    /// The signed distance map of `mask`, positive inside.
    ///
    /// Two transforms: to the inside (for the voxels outside) over the whole grid, and to the
    /// outside (for the voxels inside) over the mask's bounding box grown by one voxel only,
    /// which holds the nearest outside voxel of every inside voxel.
    public static func signedDistance(_ mask: Mask) -> SignedDistanceMap {
        precondition(mask.geometry.isOrthogonal, "DistanceTransform needs perpendicular grid axes")
        let spacing = mask.geometry.spacing
        var signed = mask.voxels.withUnsafeBufferPointer {
            distances(size: mask.size, spacing: spacing, features: $0, featureValue: true)
        }
        let box = mask.boundingBox.expanded(by: SIMD3(1, 1, 1), within: mask.size)
        guard !box.isEmpty else {
            return SignedDistanceMap(geometry: mask.geometry, insidePositiveMM: signed.map { -$0 })
        }
        let crop = mask.cropped(to: box)
        let inside = crop.voxels.withUnsafeBufferPointer {
            distances(size: crop.size, spacing: spacing, features: $0, featureValue: false)
        }
        let size = mask.size
        let sub = crop.size
        signed.withUnsafeMutableBufferPointer { (out) -> Void in
            mask.voxels.withUnsafeBufferPointer { (m) -> Void in
                inside.withUnsafeBufferPointer { (d) -> Void in
                    let outBase = out.baseAddress!
                    let m = m.baseAddress!
                    let d = d.baseAddress!
                    // Negate everywhere, then overwrite the inside voxels from the crop.
                    concurrentChunks(out.count) { range in
                        for i in range { outBase[i] = -outBase[i] }
                    }
                    concurrentChunks(sub.y * sub.z) { rows in
                        for row in rows {
                            let (j, k) = (row % sub.y, row / sub.y)
                            let full = size.linearIndex(box.lower.x, j + box.lower.y, k + box.lower.z)
                            let part = sub.linearIndex(0, j, k)
                            for i in 0..<sub.x where m[full + i] { outBase[full + i] = d[part + i] }
                        }
                    }
                }
            }
        }
        return SignedDistanceMap(geometry: mask.geometry, insidePositiveMM: signed)
    }

    // MARK: The three passes

    /// Distances (mm) to the nearest voxel centre whose mask value is `featureValue`.
    static func distances(size: GridSize, spacing: SIMD3<Double>, features: UnsafeBufferPointer<Bool>,
                          featureValue: Bool) -> [Float] {
        let count = size.count
        var result = [Float](repeating: 0, count: count)
        guard count > 0 else { return result }
        result.withUnsafeMutableBufferPointer { buffer in
            let data = buffer.baseAddress!
            let slicesWithFeatures = rowPass(data, size: size, spacing: spacing.x, features: features.baseAddress!,
                                             featureValue: featureValue)
            // y: lines of ny samples, stride nx, for each (x, z); slices without a feature stay infinite.
            columnPass(data, lines: slicesWithFeatures, lineStride: size.x * size.y, across: size.x, n: size.y,
                       stride: size.x, spacing: spacing.y, takeRoot: size.z == 1)
            // z: lines of nz samples, stride nx*ny, for each (x, y). With one slice, the y pass
            // took the roots.
            if size.z > 1 {
                columnPass(data, lines: Array(0..<size.y), lineStride: size.x, across: size.x, n: size.z,
                           stride: size.x * size.y, spacing: spacing.z, takeRoot: true)
            }
        }
        return result
    }

    /// Along x: the squared distance to the nearest feature in the row, by two sweeps. Returns
    /// the z-slices that hold at least one feature.
    private static func rowPass(_ data: UnsafeMutablePointer<Float>, size: GridSize, spacing: Double,
                                features: UnsafePointer<Bool>, featureValue: Bool) -> [Int] {
        let nx = size.x
        let hasFeature = UnsafeMutablePointer<Bool>.allocate(capacity: size.z)
        hasFeature.initialize(repeating: false, count: size.z)
        defer { hasFeature.deallocate() }
        let target: Int32 = featureValue ? 1 : 0
        concurrentChunks(size.y * size.z) { rows in
            for row in rows {
                let f = features + row * nx
                let out = data + row * nx
                guard memchr(f, target, nx) != nil else {
                    out.update(repeating: .infinity, count: nx)
                    continue
                }
                // Rows of one slice may be split between chunks; a set flag stays set.
                hasFeature[row / size.y] = true
                var last = -1
                for i in 0..<nx {
                    if f[i] == featureValue { last = i }
                    out[i] = last < 0 ? .infinity : Float(Double(i - last) * spacing)
                }
                last = -1
                for i in stride(from: nx - 1, through: 0, by: -1) {
                    if f[i] == featureValue { last = i }
                    if last >= 0 {
                        let d = Float(Double(last - i) * spacing)
                        if d < out[i] { out[i] = d }
                    }
                    out[i] *= out[i]
                }
            }
        }
        return (0..<size.z).filter { hasFeature[$0] }
    }

    /// Lines of `n` samples `stride` apart. For each block in `lines` (`lineStride` apart), the
    /// `across` neighbouring lines (consecutive in memory) are processed 64 at a time, so that
    /// each strided read fetches whole cache lines. With `takeRoot`, the square roots are
    /// written (the last pass).
    private static func columnPass(_ data: UnsafeMutablePointer<Float>, lines: [Int], lineStride: Int, across: Int,
                                   n: Int, stride: Int, spacing: Double, takeRoot: Bool) {
        let group = 64
        let groupsPerLine = (across + group - 1) / group
        let w2 = spacing * spacing
        lines.withUnsafeBufferPointer { lines in
            concurrentChunks(lines.count * groupsPerLine) { tasks in
                let input = UnsafeMutablePointer<Float>.allocate(capacity: n * group)
                let output = UnsafeMutablePointer<Float>.allocate(capacity: n)
                let vertices = UnsafeMutablePointer<Int>.allocate(capacity: n)
                let bounds = UnsafeMutablePointer<Double>.allocate(capacity: n + 1)
                defer { input.deallocate(); output.deallocate(); vertices.deallocate(); bounds.deallocate() }
                for task in tasks {
                    let line = lines[task / groupsPerLine]
                    let first = (task % groupsPerLine) * group
                    let width = min(group, across - first)
                    let base = data + line * lineStride + first
                    for q in 0..<n {
                        let source = base + q * stride
                        for b in 0..<width { input[q * group + b] = source[b] }
                    }
                    if n > 1 {
                        for b in 0..<width {
                            guard lowerEnvelope(input + b, step: group, n: n, w2: w2, output: output,
                                                vertices: vertices, bounds: bounds) else { continue }
                            for q in 0..<n { input[q * group + b] = output[q] }
                        }
                    }
                    for q in 0..<n {
                        let target = base + q * stride
                        let row = input + q * group
                        if takeRoot {
                            for b in 0..<width { target[b] = row[b].squareRoot() }
                        } else {
                            for b in 0..<width { target[b] = row[b] }
                        }
                    }
                }
            }
        }
    }

    /// One line: `output[p] = min_q (p - q)^2 w2 + f[q]`, f read with `step`. Returns false
    /// (output untouched) when the line needs no change: all values equal (all 0 or all
    /// infinite), the common case away from the mask.
    @inline(__always)
    private static func lowerEnvelope(_ f: UnsafePointer<Float>, step: Int, n: Int, w2: Double,
                                      output: UnsafeMutablePointer<Float>, vertices v: UnsafeMutablePointer<Int>,
                                      bounds z: UnsafeMutablePointer<Double>) -> Bool {
        let first = f[0]
        var uniform = true
        for q in 1..<n where f[q * step] != first { uniform = false; break }
        if uniform { return false }

        var k = -1
        for q in 0..<n {
            let fq = f[q * step]
            guard fq.isFinite else { continue }
            let hq = Double(fq) + w2 * Double(q * q)
            while k >= 0 {
                let r = v[k]
                let s = (hq - (Double(f[r * step]) + w2 * Double(r * r))) / (2 * w2 * Double(q - r))
                if s <= z[k] {
                    k -= 1
                } else {
                    k += 1
                    v[k] = q
                    z[k] = s
                    z[k + 1] = .infinity
                    break
                }
            }
            if k < 0 {
                k = 0
                v[0] = q
                z[0] = -.infinity
                z[1] = .infinity
            }
        }
        if k < 0 {
            for p in 0..<n { output[p] = .infinity }
            return true
        }
        var j = 0
        for p in 0..<n {
            while z[j + 1] < Double(p) { j += 1 }
            let d = Double(p - v[j])
            output[p] = Float(w2 * d * d + Double(f[v[j] * step]))
        }
        return true
    }
}
