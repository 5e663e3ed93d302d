import Foundation
import MAMAgreement
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

@Suite("Segmentation agreement against SimpleITK")
struct SimpleITKCrossCheckTests {
    struct Reference: Decodable {
        let dice, jaccard, hausdorff, hausdorff95, assd: Double
        let surface_dice: Double
    }

    /// Random-ish shapes: unions of seeded ellipsoids; B is A's ellipsoids moved, grown or
    /// shrunk by a few millimetres, so the surfaces differ by various amounts in places.
    static func shapes(seed: UInt64) -> ([Shape], [Shape]) {
        var g = SeededGenerator(seed: seed)
        func r(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &g) }
        var a: [Shape] = [], b: [Shape] = []
        for _ in 0..<4 {
            let centre = SIMD3(r(-15...15), r(-12...12), r(-10...10))
            let radii = SIMD3(r(6...14), r(5...12), r(4...10))
            let axes = Matrix3.rotation(axis: SIMD3(r(-1...1), r(-1...1), r(0.1...1)), degrees: r(0...90))
            a.append(.ellipsoid(center: centre, radii: radii, axes: axes))
            b.append(.ellipsoid(center: centre + SIMD3(r(-3...3), r(-3...3), r(-3...3)), radii: radii + r(-2...2), axes: axes))
        }
        return (a, b)
    }

    @Test("Dice within 1e-6, distances within half the smallest spacing, on anisotropic oblique grids",
          arguments: [UInt64(1), 2, 3])
    func crossCheck(_ seed: UInt64) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let grid = ImageGeometry.centred(on: SIMD3(1, -2, 0.5), size: GridSize(70, 60, 26), spacing: SIMD3(0.8, 1.1, 2.5),
                                         direction: Matrix3.rotation(axis: SIMD3(0.2, 0.4, 1), degrees: 12))
        let (shapesA, shapesB) = Self.shapes(seed: seed)
        let a = Phantom.labelMap(geometry: grid, shapes: shapesA.map { (1, $0) }).map { $0 == 1 }
        let b = Phantom.labelMap(geometry: grid, shapes: shapesB.map { (1, $0) }).map { $0 == 1 }
        try NIfTIWriter.write(a, to: folder.file("a.nii.gz"))
        try NIfTIWriter.write(b, to: folder.file("b.nii.gz"))
        let reference = try JSONDecoder().decode(Reference.self, from: ReferenceTools.run(
            "sitk_agreement.py", [folder.file("a.nii.gz"), folder.file("b.nii.gz"), "2"]))
        let m = SegmentationAgreement.compare(a, b, toleranceMM: 2)
        let half = 0.8 / 2
        #expect(abs(m.dice - reference.dice) < 1e-6)
        #expect(abs(m.jaccard - reference.jaccard) < 1e-6)
        #expect(abs(m.hausdorffMM! - reference.hausdorff) < half, "HD \(m.hausdorffMM!) vs \(reference.hausdorff)")
        #expect(abs(m.hausdorff95MM! - reference.hausdorff95) < half, "HD95 \(m.hausdorff95MM!) vs \(reference.hausdorff95)")
        #expect(abs(m.averageSymmetricSurfaceDistanceMM! - reference.assd) < half, "ASSD \(m.averageSymmetricSurfaceDistanceMM!) vs \(reference.assd)")
        // Surface Dice counts voxels: the same surfaces and distances give the same share.
        #expect(abs(m.surfaceDice! - reference.surface_dice) < 1e-6, "\(m.surfaceDice!) vs \(reference.surface_dice)")
        #expect(m.dice > 0.3 && m.dice < 0.95, "the shapes should differ, but overlap (Dice \(m.dice))")
    }
}
