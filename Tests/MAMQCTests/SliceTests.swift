import Foundation
import MAMCore
import MAMPhantoms
import MAMQC
import MAMTestSupport
import Testing

/// Slice pictures: the PNG bytes, where anatomy lands on the image whatever the scan's storage
/// order, the orientation letters, the scale bar, and outlines against analytic shapes.
@Suite("QC slice pictures")
struct SliceTests {
    static let white = RGB(255, 255, 255), black = RGB(0, 0, 0)

    @Test("a PNG decodes (Pillow) to exactly the pixels written: many colours as RGB, a few as a palette; odd sizes",
          arguments: [(1 << 24, "RGB"), (256, "P"), (3, "P")])
    func pngRoundTrip(_ colours: Int, _ mode: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var image = RGBImage(width: 37, height: 23, fill: Self.black)
        var generator = SeededGenerator(seed: 2026)
        // `colours` distinct colours at most (all of them for 256 and 3: 851 pixels).
        let palette = (0..<min(colours, 37 * 23)).map { _ in
            RGB(UInt8(truncatingIfNeeded: generator.next()), UInt8(truncatingIfNeeded: generator.next()), UInt8(truncatingIfNeeded: generator.next()))
        }
        for y in 0..<23 {
            for x in 0..<37 { image[x, y] = palette[(x + 37 * y) % palette.count] }
        }
        let path = folder.file("random.png")
        try image.pngData().write(to: URL(fileURLWithPath: path))
        let decoded = try DecodedPNG(path, in: folder)
        #expect(decoded.mode == mode && decoded.width == 37 && decoded.height == 23)
        #expect(decoded.rgb == image.bytes, "Pillow's pixels differ from the ones written")
    }

    /// A ball of 15 mm with a bump of 7 mm toward the patient's left, anterior and superior
    /// (RAS -x, +y, +z), stored three ways.
    static let bumpDirection = SIMD3<Double>(-1, 1, 1) / 3.0.squareRoot()
    static let storages: [(name: String, direction: Matrix3)] = [
        ("RAS", .identity), ("LPS", .diagonal(SIMD3(-1, -1, 1))),
        ("oblique", .rotation(axis: SIMD3(1, 2, 3), degrees: 30)),
    ]

    static func bumpedBall(_ direction: Matrix3) -> Mask {
        paint(grid(extentMM: 60, spacing: SIMD3(0.8, 0.9, 1.1), direction: direction),
              [.sphere(center: .zero, radius: 15), .sphere(center: bumpDirection * 15, radius: 7)])
    }

    /// The centroid (column, row) of the pixels of `colour`, relative to where the ball's
    /// centre projects onto the image.
    static func offCentre(_ image: RGBImage, _ colour: RGB, _ orientation: SlicePlane.Orientation) -> SIMD2<Double> {
        var sum = SIMD2<Double>.zero, count = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width where image[x, y] == colour {
                sum += SIMD2(Double(x), Double(y))
                count += 1
            }
        }
        let centre = plane(orientation).pixel(of: .zero)
        return sum / count - SIMD2(centre.column, centre.row)
    }

    /// Planes through a point near the bump's base, so that each view cuts ball and bump.
    static func plane(_ orientation: SlicePlane.Orientation) -> SlicePlane {
        SlicePlane(orientation, centreMM: bumpDirection * 12, halfWidthMM: 30, pixels: 160)
    }

    static func render(_ mask: Mask, _ orientation: SlicePlane.Orientation) -> RGBImage {
        let plane = plane(orientation)
        var canvas = SliceCanvas(plane, background: black)
        canvas.fill(MaskLayer(mask).sample(plane), RGB(200, 100, 50))
        canvas.annotate(white)
        return canvas.image
    }

    @Test("the bump lies toward the patient's left, anterior and superior on every view, for RAS, LPS and oblique storage",
          arguments: storages.map(\.name))
    func bumpSide(_ storage: String) throws {
        let mask = Self.bumpedBall(Self.storages.first { $0.name == storage }!.direction)
        let fill = RGB(200, 100, 50)
        // Expected sign of the shift (column, row): radiological axial and coronal views put the
        // patient's left on the image's right; anterior is up (axial) or left (sagittal);
        // superior is up (coronal, sagittal). The shift of a 15 mm ball's centroid by a 7 mm
        // bump is about 1 mm = 2.7 pixels here; 1 pixel is the bound that no noise reaches.
        let expected: [(SlicePlane.Orientation, SIMD2<Double>)] = [(.axial, SIMD2(1, -1)), (.coronal, SIMD2(1, -1)), (.sagittal, SIMD2(-1, -1))]
        for (orientation, sign) in expected {
            let shift = Self.offCentre(Self.render(mask, orientation), fill, orientation)
            #expect(shift.x * sign.x > 1 && shift.y * sign.y > 1, "\(storage) \(orientation): centroid shift \(shift) pixels")
        }
    }

    @Test("the three storages give the same pictures (pixels differ only along the outline)")
    func storageIndependent() {
        let images = Self.storages.map { Self.render(Self.bumpedBall($0.direction), .axial) }
        for other in images.dropFirst() {
            var differing = 0
            for y in 0..<160 { for x in 0..<160 where other[x, y] != images[0][x, y] { differing += 1 } }
            // The outline is about 2 * pi * 60 pixels long; grids of 0.8-1.1 mm voxels sampled at
            // 0.375 mm pixels move it by up to about 3 pixels: at most 1,200 of 25,600.
            #expect(differing < 1200, "\(differing) pixels differ")
        }
    }

    /// The pixels of the `w` x `h` block at (x, y).
    static func block(_ image: RGBImage, _ x: Int, _ y: Int, _ w: Int, _ h: Int) -> [RGB] {
        (y..<(y + h)).flatMap { row in (x..<(x + w)).map { image[$0, row] } }
    }

    @Test("each edge carries the letter of the patient direction that the bump test found there, whatever the storage",
          arguments: [(SlicePlane.Orientation.axial, ["R", "L", "A", "P"]), (.coronal, ["R", "L", "S", "I"]), (.sagittal, ["A", "P", "S", "I"])],
          storages.map(\.name))
    func letters(_ view: (orientation: SlicePlane.Orientation, letters: [String]), _ storage: String) {
        let (orientation, letters) = view
        let image = Self.render(Self.bumpedBall(Self.storages.first { $0.name == storage }!.direction), orientation)
        let n = 160, w = RGBImage.textWidth("R"), h = 14
        let places = [(4, n / 2 - h / 2), (n - 4 - w, n / 2 - h / 2), (n / 2 - w / 2, 4), (n / 2 - w / 2, n - 4 - h)]
        for (letter, (x, y)) in zip(letters, places) {
            // The letter as the font draws it alone, against the block at that edge.
            var alone = RGBImage(width: n, height: n, fill: Self.black)
            alone.text(letter, x: x, y: y, Self.white)
            let drawn = Self.block(image, x, y, w, h).map { $0 == Self.white }
            #expect(drawn == Self.block(alone, x, y, w, h).map { $0 == Self.white }, "\(orientation): no \(letter) at (\(x), \(y))")
            #expect(drawn.contains(true))
        }
    }

    @Test("the scale bar is as long as its label says, within one pixel", arguments: [20.0, 30, 75, 160])
    func scaleBar(_ halfWidthMM: Double) {
        let plane = SlicePlane(.axial, centreMM: .zero, halfWidthMM: halfWidthMM, pixels: 300)
        var canvas = SliceCanvas(plane, background: Self.black)
        canvas.annotate(Self.white)
        let row = 300 - 8
        var length = 0
        while canvas.image[8 + length, row] == Self.white { length += 1 }
        let labelled = SliceCanvas.scaleBarMM(widthMM: 2 * halfWidthMM)
        #expect(abs(Double(length) * plane.pixelMM - labelled) <= plane.pixelMM, "\(length) pixels of \(plane.pixelMM) mm for \(labelled) mm")
        var label = RGBImage(width: 300, height: 300, fill: Self.black)
        label.text("\(Int(labelled)) mm", x: 8, y: row - 6 - 14, Self.white)
        let w = RGBImage.textWidth("\(Int(labelled)) mm")
        #expect(Self.block(canvas.image, 8, row - 20, w, 14) == Self.block(label, 8, row - 20, w, 14))
    }

    @Test("a sphere's outline on the axial slice is the analytic circle (radius within one pixel)",
          arguments: [(SIMD3<Double>(1, 1, 1), Matrix3.identity, 0.0), (SIMD3(0.7, 0.7, 2.5), .identity, 1.25),
                      (SIMD3(0.8, 0.9, 1.1), .rotation(axis: SIMD3(1, 2, 3), degrees: 30), 3.0)])
    func sphereOutline(_ spacing: SIMD3<Double>, _ direction: Matrix3, _ sliceZ: Double) {
        let radius = 10.0
        let tumour = paint(grid(extentMM: 30, spacing: spacing, direction: direction), [.sphere(center: .zero, radius: radius)])
        let layer = DistanceLayer(tumour: tumour, preToPost: .identity, reachMM: 7)
        let plane = SlicePlane(.axial, centreMM: SIMD3(0, 0, sliceZ), halfWidthMM: 25, pixels: CaseQC.pixels)
        let cyan = RGB(0, 229, 255)
        var canvas = SliceCanvas(plane, background: Self.black)
        canvas.outline(layer.sample(plane), cyan)
        // The circle where the plane cuts the sphere, in pixels; the inner outline's pixel
        // centres lie half a pixel inside it.
        let expected = (radius * radius - sliceZ * sliceZ).squareRoot() / plane.pixelMM - 0.5
        let centre = Double(plane.pixels - 1) / 2
        var distances: [Double] = []
        for y in 0..<plane.pixels {
            for x in 0..<plane.pixels where canvas.image[x, y] == cyan {
                distances.append(((Double(x) - centre) * (Double(x) - centre) + (Double(y) - centre) * (Double(y) - centre)).squareRoot())
            }
        }
        let mean = distances.reduce(0, +) / Double(distances.count)
        #expect(abs(mean - expected) <= 1, "outline radius \(mean) pixels, circle \(expected) (pixel \(plane.pixelMM) mm)")
        // Every outline pixel within the voxels' staircase (half the largest voxel side, which
        // the interpolated distance map smooths) of the circle.
        let staircase = spacing.max() / 2 / plane.pixelMM + 1
        #expect(distances.allSatisfy { abs($0 - expected) <= staircase }, "\(distances.min()!)...\(distances.max()!) vs \(expected)")
    }

    /// A mask layer looks only at the pixels near its grid (`SlicePlane.pixels(meeting:)`); every
    /// pixel must still show its nearest voxel. Against a lookup of each pixel's centre on its
    /// own: small grids in every storage, which a plane crosses, grazes at a corner or misses.
    @Test("a mask layer shows each pixel's nearest voxel, on grids a plane crosses, grazes or misses",
          arguments: storages.map(\.name))
    func maskLayerPixels(_ storage: String) {
        let direction = Self.storages.first { $0.name == storage }!.direction
        let g = grid(around: SIMD3(3, -2, 4), extentMM: 14, spacing: SIMD3(0.8, 0.9, 1.1), direction: direction)
        var mask = Mask(geometry: g, repeating: true)
        mask[0, 0, 0] = false
        let halfDiagonal = 0.5 * length(SIMD3(Double(g.size.x), Double(g.size.y), Double(g.size.z)) * g.spacing)
        var shown = 0
        for orientation in SlicePlane.Orientation.allCases {
            let axes = SlicePlane(orientation, centreMM: .zero, halfWidthMM: 1, pixels: 1)
            // Through the grid's centre, then further off it up to where the plane misses it.
            for offset in stride(from: 0.0, through: halfDiagonal + 2, by: 1.7) {
                // The grid off the image's centre too, so that its rows and columns are not the middle ones.
                let centre = SIMD3(3, -2, 4) + offset * cross(axes.right, axes.down) + 5 * axes.right + 3 * axes.down
                let plane = SlicePlane(orientation, centreMM: centre, halfWidthMM: 20, pixels: 90)
                let flags = MaskLayer(mask).sample(plane)
                for v in 0..<plane.pixels {
                    for u in 0..<plane.pixels {
                        let i = g.index(atWorld: plane.world(u, v)) + 0.5
                        // Pixels within a hair of a voxel border may round either way.
                        let fraction = i - i.rounded(.down)
                        if any(fraction .< 1e-6) || any(fraction .> 1 - 1e-6) { continue }
                        let inside = i.x >= 0 && i.y >= 0 && i.z >= 0 && Int(i.x) < g.size.x && Int(i.y) < g.size.y && Int(i.z) < g.size.z
                            && mask[Int(i.x), Int(i.y), Int(i.z)]
                        #expect(flags[u + plane.pixels * v] == inside, "\(orientation) +\(offset) mm, pixel \(u), \(v)")
                        if inside { shown += 1 }
                    }
                }
            }
        }
        #expect(shown > 1000)
    }
}
