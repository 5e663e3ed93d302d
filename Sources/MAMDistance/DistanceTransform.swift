import Dispatch
import Foundation
public import MAMImaging

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
        var squared = mask.voxels.withUnsafeBufferPointer {
            squaredDistances(size: mask.size, spacing: mask.geometry.spacing, features: $0, featureValue: true)
        }
        parallelMap(&squared) { $0.squareRoot() }
        return DistanceMap(geometry: mask.geometry, millimetres: squared)
    }

    /// The signed distance map of `mask`, positive inside.
    public static func signedDistance(_ mask: Mask) -> SignedDistanceMap {
        precondition(mask.geometry.isOrthogonal, "DistanceTransform needs perpendicular grid axes")
        let spacing = mask.geometry.spacing
        let (toOutside, toInside) = mask.voxels.withUnsafeBufferPointer { m in
            (squaredDistances(size: mask.size, spacing: spacing, features: m, featureValue: false),
             squaredDistances(size: mask.size, spacing: spacing, features: m, featureValue: true))
        }
        var signed = toOutside
        signed.withUnsafeMutableBufferPointer { out in
            toInside.withUnsafeBufferPointer { inside in
                mask.voxels.withUnsafeBufferPointer { m in
                    let outBase = out.baseAddress!
                    parallelChunks(out.count) { range in
                        for i in range {
                            outBase[i] = m[i] ? outBase[i].squareRoot() : -inside[i].squareRoot()
                        }
                    }
                }
            }
        }
        return SignedDistanceMap(geometry: mask.geometry, insidePositiveMM: signed)
    }

    // MARK: The three passes

    /// Squared distances (mm^2) to the nearest voxel centre whose mask value is `featureValue`.
    static func squaredDistances(size: GridSize, spacing: SIMD3<Double>, features: UnsafeBufferPointer<Bool>,
                                 featureValue: Bool) -> [Float] {
        let count = size.count
        var result = [Float](repeating: 0, count: count)
        guard count > 0 else { return result }
        result.withUnsafeMutableBufferPointer { buffer in
            let data = buffer.baseAddress!
            rowPass(data, size: size, spacing: spacing.x, features: features.baseAddress!, featureValue: featureValue)
            // y: lines of ny samples, stride nx, for each (x, z).
            columnPass(data, lines: size.z, lineStride: size.x * size.y, across: size.x, n: size.y,
                       stride: size.x, spacing: spacing.y)
            // z: lines of nz samples, stride nx*ny, for each (x, y).
            columnPass(data, lines: size.y, lineStride: size.x, across: size.x, n: size.z,
                       stride: size.x * size.y, spacing: spacing.z)
        }
        return result
    }

    /// Along x: the squared distance to the nearest feature in the row, by two sweeps.
    private static func rowPass(_ data: UnsafeMutablePointer<Float>, size: GridSize, spacing: Double,
                                features: UnsafePointer<Bool>, featureValue: Bool) {
        let nx = size.x
        parallelChunks(size.y * size.z) { rows in
            for row in rows {
                let f = features + row * nx
                let out = data + row * nx
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
    }

    /// Lines of `n` samples `stride` apart. For each of `lines` blocks (`lineStride` apart), the
    /// `across` neighbouring lines (consecutive in memory) are processed 16 at a time, so that
    /// each strided read fetches a whole cache line.
    private static func columnPass(_ data: UnsafeMutablePointer<Float>, lines: Int, lineStride: Int, across: Int,
                                   n: Int, stride: Int, spacing: Double) {
        guard n > 1 else { return }
        let group = 16
        let groupsPerLine = (across + group - 1) / group
        let w2 = spacing * spacing
        parallelChunks(lines * groupsPerLine) { tasks in
            let input = UnsafeMutablePointer<Float>.allocate(capacity: n * group)
            let output = UnsafeMutablePointer<Float>.allocate(capacity: n)
            let vertices = UnsafeMutablePointer<Int>.allocate(capacity: n)
            let bounds = UnsafeMutablePointer<Double>.allocate(capacity: n + 1)
            defer { input.deallocate(); output.deallocate(); vertices.deallocate(); bounds.deallocate() }
            for task in tasks {
                let line = task / groupsPerLine
                let first = (task % groupsPerLine) * group
                let width = min(group, across - first)
                let base = data + line * lineStride + first
                for q in 0..<n {
                    let source = base + q * stride
                    for b in 0..<width { input[q * group + b] = source[b] }
                }
                for b in 0..<width {
                    guard lowerEnvelope(input + b, step: group, n: n, w2: w2, output: output,
                                        vertices: vertices, bounds: bounds) else { continue }
                    for q in 0..<n { input[q * group + b] = output[q] }
                }
                for q in 0..<n {
                    let target = base + q * stride
                    for b in 0..<width { target[b] = input[q * group + b] }
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

// MARK: Parallel helpers

/// Splits `0..<count` into chunks (several per core, for balance) and runs them in parallel.
/// `body` must only write to the part of shared memory that belongs to its range.
func parallelChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let chunks = min(count, ProcessInfo.processInfo.activeProcessorCount * 8)
    withoutActuallyEscaping(body) { body in
        let task = DisjointWork(body: body)
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            task.body((count * c / chunks)..<(count * (c + 1) / chunks))
        }
    }
}

/// Work whose parallel calls touch disjoint memory, which the compiler cannot see.
private struct DisjointWork: @unchecked Sendable {
    let body: (Range<Int>) -> Void
}

/// Applies `transform` to every element, in parallel.
func parallelMap(_ values: inout [Float], _ transform: (Float) -> Float) {
    values.withUnsafeMutableBufferPointer { buffer in
        let base = buffer.baseAddress!
        parallelChunks(buffer.count) { range in
            for i in range { base[i] = transform(base[i]) }
        }
    }
}

