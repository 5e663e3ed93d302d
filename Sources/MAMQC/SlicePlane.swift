import MAMCore

/// A square picture plane through the post-ablation world (RAS, mm), perpendicular to one
/// world axis, displayed as radiologists read it: axial and coronal images show the patient's
/// right on the image's left (looking from the feet, and from the front); axial images put
/// anterior at the top, coronal and sagittal superior; sagittal images put anterior on the
/// left. Pixels sample the world at their centres, so images do not depend on how a scan
/// stores its voxels (RAS, LPS or oblique grids give the same picture).
public struct SlicePlane: Sendable, Equatable {
    public enum Orientation: String, Sendable, CaseIterable {
        case axial, coronal, sagittal
    }

    public let orientation: Orientation
    /// The world point at the image's centre.
    public let centreMM: SIMD3<Double>
    public let pixelMM: Double
    /// Width and height in pixels.
    public let pixels: Int

    public init(_ orientation: Orientation, centreMM: SIMD3<Double>, halfWidthMM: Double, pixels: Int) {
        precondition(halfWidthMM > 0 && pixels > 0, "SlicePlane: half width \(halfWidthMM) mm, \(pixels) pixels")
        self.orientation = orientation
        self.centreMM = centreMM
        self.pixelMM = 2 * halfWidthMM / Double(pixels)
        self.pixels = pixels
    }

    /// The world direction (RAS) of increasing column.
    public var right: SIMD3<Double> {
        switch orientation {
        case .axial, .coronal: SIMD3(-1, 0, 0)  // toward the patient's left
        case .sagittal: SIMD3(0, -1, 0)         // toward posterior
        }
    }

    /// The world direction (RAS) of increasing row.
    public var down: SIMD3<Double> {
        switch orientation {
        case .axial: SIMD3(0, -1, 0)            // toward posterior
        case .coronal, .sagittal: SIMD3(0, 0, -1)  // toward inferior
        }
    }

    /// The patient directions at the image's left, right, top and bottom edges.
    public var edgeLetters: (left: String, right: String, top: String, bottom: String) {
        switch orientation {
        case .axial: ("R", "L", "A", "P")
        case .coronal: ("R", "L", "S", "I")
        case .sagittal: ("A", "P", "S", "I")
        }
    }

    /// The world point at the centre of pixel (column `u`, row `v`).
    public func world(_ u: Int, _ v: Int) -> SIMD3<Double> {
        let half = Double(pixels) / 2
        return centreMM + right * ((Double(u) + 0.5 - half) * pixelMM) + down * ((Double(v) + 0.5 - half) * pixelMM)
    }

    /// Where a world point falls on the image, in pixels (column, row; pixel centres at whole
    /// numbers), and its distance from the plane (mm, along the plane's normal).
    public func pixel(of point: SIMD3<Double>) -> (column: Double, row: Double, offPlaneMM: Double) {
        let d = point - centreMM
        let half = Double(pixels) / 2
        let normal = cross(right, down)
        return (dot(d, right) / pixelMM + half - 0.5, dot(d, down) / pixelMM + half - 0.5, dot(d, normal))
    }

    /// The nearest pixel to a world point, nil off the image.
    public func nearestPixel(of point: SIMD3<Double>) -> (column: Int, row: Int)? {
        let p = pixel(of: point)
        let (u, v) = (Int(p.column.rounded()), Int(p.row.rounded()))
        return (0..<pixels).contains(u) && (0..<pixels).contains(v) ? (u, v) : nil
    }

    /// For each pixel, `body(n, i)` with `n` the pixel's number (rows top to bottom) and `i` its
    /// centre mapped by `affine` (a world-to-index map, say): the first pixel of each row mapped
    /// once, then stepped by the column step, which an affine map keeps constant.
    func forEachPixel(mappedBy affine: Affine3D, _ body: (Int, SIMD3<Double>) -> Void) {
        forEachPixel(mappedBy: affine, rows: 0..<pixels, columns: 0..<pixels, body)
    }

    /// `forEachPixel`, only over the pixels that may fall in the convex hull of `corners`
    /// (`pixels(meeting:)`).
    func forEachPixel(mappedBy affine: Affine3D, meeting corners: [SIMD3<Double>], _ body: (Int, SIMD3<Double>) -> Void) {
        guard let (rows, columns) = pixels(meeting: corners) else { return }
        forEachPixel(mappedBy: affine, rows: rows, columns: columns, body)
    }

    /// `forEachPixel` over a block of rows and columns, each pixel at the position the whole
    /// row's stepping gives it (the same whichever block it is visited in).
    private func forEachPixel(mappedBy affine: Affine3D, rows: Range<Int>, columns: Range<Int>,
                              _ body: (Int, SIMD3<Double>) -> Void) {
        let step = affine.linear * (right * pixelMM)
        for v in rows {
            var i = affine.apply(world(0, v))
            for _ in 0..<columns.lowerBound { i += step }
            for u in columns {
                body(u + pixels * v, i)
                i += step
            }
        }
    }

    /// The rows and columns of pixels that may fall in the convex hull of `corners` (world
    /// points): those within a pixel of its projection, nil when the plane misses it (every
    /// corner more than a micrometre on the same side).
    func pixels(meeting corners: [SIMD3<Double>]) -> (rows: Range<Int>, columns: Range<Int>)? {
        let projected = corners.map(pixel(of:))
        guard projected.contains(where: { $0.offPlaneMM <= 1e-3 }), projected.contains(where: { $0.offPlaneMM >= -1e-3 }) else { return nil }
        func range(_ values: [Double]) -> Range<Int>? {
            let lower = max(0, Int(max(-1, (values.min()! - 1).rounded(.down))))
            let upper = min(pixels, Int(min(Double(pixels), (values.max()! + 1).rounded(.up))) + 1)
            return lower < upper ? lower..<upper : nil
        }
        guard let rows = range(projected.map(\.row)), let columns = range(projected.map(\.column)) else { return nil }
        return (rows, columns)
    }

    /// What pages record of the plane, so that a reader (or a test) can map a world point to
    /// a pixel: the world position of the first pixel's centre and the steps per column and row.
    public var mapping: [String: [Double]] {
        let first = world(0, 0)
        return ["firstPixelCentreMM": [first.x, first.y, first.z], "columnStepMM": [right.x, right.y, right.z].map { $0 * pixelMM },
                "rowStepMM": [down.x, down.y, down.z].map { $0 * pixelMM }]
    }
}
