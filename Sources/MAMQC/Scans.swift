import Foundation
public import MAMCore
import MAMImageIO

/// The CT (or MR) scans a case's QC page may draw under the outlines, and their display window.
public struct ScanFiles: Sendable, Equatable {
    public var pre: String?
    public var post: String?
    /// The grey-level window (the protocol's `outputs.qc_window_level_hu` and `_width_hu`).
    public var levelHU: Double
    public var widthHU: Double

    public init(pre: String?, post: String?, levelHU: Double, widthHU: Double) {
        (self.pre, self.post, self.levelHU, self.widthHU) = (pre, post, levelHU, widthHU)
    }

    public var isEmpty: Bool { pre == nil && post == nil }

    /// Before a case runs: each scan is readable (its header) and overlaps the segmentation it
    /// goes with (`preSegmentation`, `postSegmentation`: the files whose grids the masks are on).
    /// A scan on another grid is fine; one that shares no volume with its segmentation's grid is
    /// an error naming both files.
    public func check(preSegmentation: String, postSegmentation: String) throws(QCError) {
        for (scan, segmentation) in [(pre, preSegmentation), (post, postSegmentation)] {
            guard let scan else { continue }
            let scanGrid: ImageGeometry, maskGrid: ImageGeometry
            do {
                scanGrid = try ImageReaders.geometry(scan)
                maskGrid = try ImageReaders.geometry(segmentation)
            } catch {
                throw .scan(error.description)
            }
            guard Self.overlaps(maskGrid, scanGrid) else {
                throw .scan("\(scan): the scan does not overlap its segmentation \(segmentation) (no point of the one lies in the other)")
            }
        }
    }

    /// Whether the box of `a`'s voxels (corners mapped into `b`'s index space) meets `b`'s grid.
    static func overlaps(_ a: ImageGeometry, _ b: ImageGeometry) -> Bool {
        let corners = a.cornerPoints.map(b.index(atWorld:))
        let lower = corners.reduce(SIMD3(repeating: Double.infinity)) { pointwiseMin($0, $1) }
        let upper = corners.reduce(SIMD3(repeating: -Double.infinity)) { pointwiseMax($0, $1) }
        let size = SIMD3(Double(b.size.x), Double(b.size.y), Double(b.size.z))
        return all(upper .>= SIMD3(repeating: -0.5)) && all(lower .<= size - 0.5)
    }

    /// Reads a scan and maps it to grey levels through the window (the raw voxels are let go at
    /// once: a 512 x 512 x 300 CT becomes 79 MB of bytes).
    func grey(_ path: String) throws(QCError) -> Volume<UInt8> {
        let image: LabelImage
        do {
            image = try ImageReaders.read(path)
        } catch {
            throw .scan(error.description)
        }
        let low = levelHU - widthHU / 2, width = widthHU
        let scaling = image.scaling
        func grey(_ stored: Double) -> UInt8 {
            let v = scaling?.apply(stored) ?? stored
            return UInt8((min(max((v - low) / width, 0), 1) * 255).rounded())
        }
        // CTs are stored as 16-bit integers: one table of every stored value's grey level, then
        // a lookup per voxel on all cores.
        func lookUp<T: FixedWidthInteger>(_ stored: [T]) -> [UInt8] {
            let table = (0..<65536).map { grey(Double(T(truncatingIfNeeded: $0))) }
            var out = [UInt8](repeating: 0, count: stored.count)
            out.withUnsafeMutableBufferPointer { o in
                let o = o.baseAddress!
                stored.withUnsafeBufferPointer { s in
                    let s = s.baseAddress!
                    concurrentChunks(stored.count) { range in
                        for n in range { o[n] = table[Int(UInt16(truncatingIfNeeded: s[n]))] }
                    }
                }
            }
            return out
        }
        let voxels: [UInt8] = switch image.voxels {
        case .int16(let stored): lookUp(stored)
        case .uint16(let stored): lookUp(stored)
        default: image.voxels.mapScaled(nil, grey)
        }
        return Volume(geometry: image.geometry, voxels: voxels)
    }
}

/// A scan seen from post-ablation world points: trilinear grey levels, through a rigid
/// transform for the pre scan; nil off the scan.
public struct ScanLayer: Sendable {
    let grey: Volume<UInt8>
    let postToIndex: Affine3D

    public init(_ grey: Volume<UInt8>, preToPost: Affine3D = .identity) {
        self.grey = grey
        postToIndex = grey.geometry.worldToIndex * preToPost.inverse
    }

    /// The grey level at the continuous index `i`, nil off the scan.
    func value(index i: SIMD3<Double>) -> UInt8? {
        let s = grey.size
        guard i.x >= -0.5, i.y >= -0.5, i.z >= -0.5, i.x <= Double(s.x) - 0.5, i.y <= Double(s.y) - 0.5, i.z <= Double(s.z) - 0.5 else {
            return nil
        }
        // Trilinear between the 8 voxels around, edges clamped.
        let c = pointwiseMin(pointwiseMax(i, .zero), SIMD3(Double(s.x - 1), Double(s.y - 1), Double(s.z - 1)))
        let f = c.rounded(.down)
        let (x0, y0, z0) = (Int(f.x), Int(f.y), Int(f.z))
        let (x1, y1, z1) = (min(x0 + 1, s.x - 1), min(y0 + 1, s.y - 1), min(z0 + 1, s.z - 1))
        let t = c - f
        func v(_ x: Int, _ y: Int, _ z: Int) -> Double { Double(grey.voxels[s.linearIndex(x, y, z)]) }
        let a = (v(x0, y0, z0) * (1 - t.x) + v(x1, y0, z0) * t.x) * (1 - t.y) + (v(x0, y1, z0) * (1 - t.x) + v(x1, y1, z0) * t.x) * t.y
        let b = (v(x0, y0, z1) * (1 - t.x) + v(x1, y0, z1) * t.x) * (1 - t.y) + (v(x0, y1, z1) * (1 - t.x) + v(x1, y1, z1) * t.x) * t.y
        return UInt8((a * (1 - t.z) + b * t.z).rounded())
    }

    /// The scan on a plane: one grey level per pixel (nil off the scan), rows top to bottom.
    public func sample(_ plane: SlicePlane) -> [UInt8?] {
        var values = [UInt8?](repeating: nil, count: plane.pixels * plane.pixels)
        plane.forEachPixel(mappedBy: postToIndex) { n, i in values[n] = value(index: i) }
        return values
    }
}
