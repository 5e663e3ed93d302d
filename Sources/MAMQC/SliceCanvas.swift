/// A picture on a slice plane, drawn layer by layer: filled regions, outlines, a marker,
/// then the orientation letters and a scale bar.
public struct SliceCanvas: Sendable {
    public let plane: SlicePlane
    public private(set) var image: RGBImage

    public init(_ plane: SlicePlane, background: RGB) {
        self.plane = plane
        image = RGBImage(width: plane.pixels, height: plane.pixels, fill: background)
    }

    /// Paints each pixel that has a grey level with it (a scan under the outlines).
    public mutating func underlay(_ greys: [UInt8?]) {
        let n = plane.pixels
        for v in 0..<n {
            for u in 0..<n { if let g = greys[u + n * v] { image[u, v] = RGB(g, g, g) } }
        }
    }

    /// Mixes `colour` into every flagged pixel, `opacity` of it (0 to 1): a region that lets
    /// the scan under it show.
    public mutating func tint(_ flags: [Bool], _ colour: RGB, opacity: Double) {
        let n = plane.pixels
        func mix(_ a: UInt8, _ b: UInt8) -> UInt8 { UInt8((Double(a) * (1 - opacity) + Double(b) * opacity).rounded()) }
        for v in 0..<n {
            for u in 0..<n where flags[u + n * v] {
                let p = image[u, v]
                image[u, v] = RGB(mix(p.r, colour.r), mix(p.g, colour.g), mix(p.b, colour.b))
            }
        }
    }

    /// Paints every pixel whose flag is set.
    public mutating func fill(_ flags: [Bool], _ colour: RGB) {
        let n = plane.pixels
        for v in 0..<n {
            for u in 0..<n where flags[u + n * v] { image[u, v] = colour }
        }
    }

    /// Paints the inner outline of the flagged region: flagged pixels with a 4-neighbour that
    /// is not flagged (the image's border does not count as outside).
    public mutating func outline(_ flags: [Bool], _ colour: RGB) {
        let n = plane.pixels
        for v in 0..<n {
            for u in 0..<n where flags[u + n * v] {
                let edge = (u > 0 && !flags[u - 1 + n * v]) || (u < n - 1 && !flags[u + 1 + n * v])
                    || (v > 0 && !flags[u + n * (v - 1)]) || (v < n - 1 && !flags[u + n * (v + 1)])
                if edge { image[u, v] = colour }
            }
        }
    }

    /// A cross centred on the pixel nearest to a world point (which should lie on the plane).
    public mutating func marker(_ pointMM: SIMD3<Double>, _ colour: RGB) {
        guard let p = plane.nearestPixel(of: pointMM) else { return }
        image.crossMarker(x: p.column, y: p.row, arm: max(4, plane.pixels / 40), colour)
    }

    /// The patient direction at the middle of each edge and a scale bar at the bottom left
    /// (5, 10, 20, 50 or 100 mm: the one nearest a fifth of the width), labelled.
    public mutating func annotate(_ colour: RGB) {
        let n = plane.pixels, scale = 2
        let glyphH = Glyphs.height * scale, glyphW = RGBImage.textWidth("R", scale: scale)
        let letters = plane.edgeLetters
        image.text(letters.left, x: 4, y: n / 2 - glyphH / 2, scale: scale, colour)
        image.text(letters.right, x: n - 4 - glyphW, y: n / 2 - glyphH / 2, scale: scale, colour)
        image.text(letters.top, x: n / 2 - glyphW / 2, y: 4, scale: scale, colour)
        image.text(letters.bottom, x: n / 2 - glyphW / 2, y: n - 4 - glyphH, scale: scale, colour)

        let lengthMM = Self.scaleBarMM(widthMM: Double(n) * plane.pixelMM)
        let length = Int((lengthMM / plane.pixelMM).rounded())
        let y = n - 8
        image.fillRect(x: 8, y: y, width: length, height: 3, colour)
        image.fillRect(x: 8, y: y - 4, width: 1, height: 7, colour)
        image.fillRect(x: 8 + length - 1, y: y - 4, width: 1, height: 7, colour)
        image.text("\(Int(lengthMM)) mm", x: 8, y: y - 6 - glyphH, scale: scale, colour)
    }

    /// The scale bar's length for an image `widthMM` wide.
    public static func scaleBarMM(widthMM: Double) -> Double {
        [5.0, 10, 20, 50, 100].min { abs($0 - widthMM / 5) < abs($1 - widthMM / 5) }!
    }
}
