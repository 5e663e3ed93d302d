import Foundation
import MAMCore
import MAMPhantoms
import MAMRegistration
import MAMTestSupport
import Testing

/// Where a scan's field of view cuts the liver (Docs/registration.md, step 0).
@Suite("Field-of-view cuts")
struct FieldOfViewTests {
    static let grid = ImageGeometry(size: GridSize(100, 80, 60), spacing: SIMD3(2, 2, 2.5), origin: SIMD3(-99, -79, -74))
    static let liver = Shape.ellipsoid(center: SIMD3(0, 0, 0), radii: SIMD3(80, 60, 50), axes: .identity)

    @Test("a liver inside the grid has no cut; its top and bottom slices are small caps")
    func whole() {
        let mask = paint(Self.grid, [Self.liver])
        #expect(FieldOfView(mask: mask, marginMM: 5).cutSides.isEmpty)
    }

    @Test("a liver that reaches the grid's last slices is cut there; samples within the margin are outside the trusted region")
    func gridBorder() {
        // The grid ends at z = 30 mm, inside the liver.
        let g = ImageGeometry(size: GridSize(100, 80, 42), spacing: SIMD3(2, 2, 2.5), origin: SIMD3(-99, -79, -74))
        let fov = FieldOfView(mask: paint(g, [Self.liver]), marginMM: 5)
        #expect(fov.cutSides == ["+z"])
        // The last slice's centre is at z = -74 + 41 x 2.5 = 28.5; the cut face half a slice
        // beyond; trusted up to 5 mm below it.
        #expect(fov.contains(SIMD3(0, 0, 24.5)) && !fov.contains(SIMD3(0, 0, 25.5)))
        #expect(fov.contains(SIMD3(0, 0, -45)))
    }

    @Test("a cut that faces the head or the feet in the world is named cranial or caudal, whatever the grid's orientation; a lateral one is not")
    func cranioCaudal() {
        // Slices from the feet up (identity), cut at the last slice: the cut faces the head.
        let up = ImageGeometry(size: GridSize(100, 80, 42), spacing: SIMD3(2, 2, 2.5), origin: SIMD3(-99, -79, -74))
        let upCut = FieldOfView(mask: paint(up, [Self.liver]), marginMM: 5)
        #expect(upCut.cutSides == ["+z"] && upCut.cranioCaudalCuts == ["cranial"])
        // Slices from the head down: the same index side now faces the feet.
        let down = ImageGeometry(size: GridSize(100, 80, 42), spacing: SIMD3(2, 2, 2.5), origin: SIMD3(-99, -79, 74),
                                 direction: Matrix3(columns: SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, -1)))
        let downCut = FieldOfView(mask: paint(down, [Self.liver]), marginMM: 5)
        #expect(downCut.cutSides == ["+z"] && downCut.cranioCaudalCuts == ["caudal"])
        // Tilted by 30 degrees about the x axis: cos 30 = 0.87 of the normal along the head-foot
        // axis, within 45 degrees of it.
        let (c, s) = (cos(Double.pi / 6), sin(Double.pi / 6))
        let tilted = ImageGeometry(size: GridSize(100, 100, 42), spacing: SIMD3(2, 2, 2.5), origin: SIMD3(-99, -60, -80),
                                   direction: Matrix3(columns: SIMD3(1, 0, 0), SIMD3(0, c, -s), SIMD3(0, s, c)))
        let tiltedCut = FieldOfView(mask: paint(tilted, [Self.liver]), marginMM: 5)
        #expect(tiltedCut.cutSides.contains("+z") && tiltedCut.cranioCaudalCuts == ["cranial"], "\(tiltedCut.cutSides)")
        // Sagittal slices (the third index axis runs to the patient's left): a cut there is
        // lateral.
        let sagittal = ImageGeometry(size: GridSize(80, 60, 30), spacing: SIMD3(2, 2.5, 2), origin: SIMD3(-85, -74, -74),
                                     direction: Matrix3(columns: SIMD3(0, 1, 0), SIMD3(0, 0, 1), SIMD3(1, 0, 0)))
        let sagittalCut = FieldOfView(mask: paint(sagittal, [Self.liver]), marginMM: 5)
        #expect(sagittalCut.cutSides == ["+z"] && sagittalCut.cranioCaudalCuts.isEmpty, "\(sagittalCut.cutSides)")
    }

    @Test("a liver whose mask stops in a large flat face inside the grid (a slab) is cut there, on either side")
    func slab() {
        var mask = paint(Self.grid, [Self.liver])
        // Empty the slices below z = -30 mm and at x >= 40 mm: the field of view ended there.
        for k in 0..<mask.size.z {
            for j in 0..<mask.size.y {
                for i in 0..<mask.size.x {
                    let p = Self.grid.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                    if p.z < -30 || p.x >= 40 { mask[i, j, k] = false }
                }
            }
        }
        let fov = FieldOfView(mask: mask, marginMM: 5)
        #expect(Set(fov.cutSides) == ["-z", "+x"])
        #expect(fov.cranioCaudalCuts == ["caudal"])
    }

    @Test("the deformed-liver phantom's livers: no cut without truncation, the truncated side with it")
    func phantoms() {
        var options = DeformedLiverCase.Options(seed: 7, site: .middle)
        options.preSpacing = SIMD3(1.2, 1.2, 2.5)
        let whole = DeformedLiverCase(options)
        #expect(FieldOfView(mask: whole.preLabels.map { $0 != 0 }, marginMM: 5).cutSides.isEmpty)
        #expect(FieldOfView(mask: whole.postLabels.map { $0 != 0 }, marginMM: 5).cutSides.isEmpty)
        options.truncation = .dome
        let cut = DeformedLiverCase(options)
        #expect(FieldOfView(mask: cut.postLabels.map { $0 != 0 }, marginMM: 5).cutSides == ["+z"])
    }
}
