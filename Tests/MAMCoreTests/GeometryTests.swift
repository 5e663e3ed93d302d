import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

@Suite("Image geometry")
struct GeometryTests {
    @Test("index <-> world through one matrix, hand-derived")
    func indexWorld() {
        // 90 degrees about z: grid i runs along world +y, j along world -x.
        let direction = Matrix3(columns: SIMD3(0, 1, 0), SIMD3(-1, 0, 0), SIMD3(0, 0, 1))
        let g = ImageGeometry(size: GridSize(10, 20, 30), spacing: SIMD3(0.7, 0.8, 2.5), origin: SIMD3(10, 20, 30),
                              direction: direction)
        // (2, 3, 4) -> origin + 2*0.7*(0,1,0) + 3*0.8*(-1,0,0) + 4*2.5*(0,0,1) = (7.6, 21.4, 40).
        let p = g.world(atIndex: SIMD3(2, 3, 4))
        #expect(length(p - SIMD3(7.6, 21.4, 40)) < 1e-12)
        #expect(length(g.index(atWorld: p) - SIMD3(2, 3, 4)) < 1e-12)
        #expect(length(g.spacing - SIMD3(0.7, 0.8, 2.5)) < 1e-15)
        #expect(g.direction.maxAbsDifference(to: direction) < 1e-15)
        #expect(g.orientationCode == "ALS")
        #expect(g.isOrthogonal)
        // 0.7 * 0.8 * 2.5 mm^3 = 1.4 mm^3 = 0.0014 mL
        #expect(abs(g.voxelVolumeML - 0.0014) < 1e-15)
    }

    @Test("orientation codes as nibabel's aff2axcodes")
    func orientationCodes() {
        #expect(ImageGeometry(size: GridSize(1, 1, 1), spacing: SIMD3(1, 1, 1)).orientationCode == "RAS")
        let lps = Matrix3.diagonal(SIMD3(-1, -1, 1))
        #expect(ImageGeometry(size: GridSize(1, 1, 1), spacing: SIMD3(1, 1, 1), direction: lps).orientationCode == "LPS")
    }

    @Test("same physical space: equal grids within the tolerance, not beyond")
    func samePhysicalSpace() {
        let a = ImageGeometry(size: GridSize(100, 100, 50), spacing: SIMD3(0.7, 0.7, 2.5), origin: SIMD3(-50, 10, 0))
        let nudged = ImageGeometry(size: GridSize(100, 100, 50), spacing: SIMD3(0.7, 0.7, 2.5), origin: SIMD3(-50, 10, 0.00005))
        let shifted = ImageGeometry(size: GridSize(100, 100, 50), spacing: SIMD3(0.7, 0.7, 2.5), origin: SIMD3(-50, 10, 0.5))
        // Spacing off by 1e-5 mm moves the far corner by 99 * 1e-5 ~ 1e-3 mm: beyond 1e-4.
        let stretched = ImageGeometry(size: GridSize(100, 100, 50), spacing: SIMD3(0.70001, 0.7, 2.5), origin: SIMD3(-50, 10, 0))
        let otherSize = ImageGeometry(size: GridSize(100, 100, 51), spacing: SIMD3(0.7, 0.7, 2.5), origin: SIMD3(-50, 10, 0))
        #expect(a.isSamePhysicalSpace(as: a))
        #expect(a.isSamePhysicalSpace(as: nudged))
        #expect(!a.isSamePhysicalSpace(as: shifted))
        #expect(!a.isSamePhysicalSpace(as: stretched))
        #expect(!a.isSamePhysicalSpace(as: otherSize))
    }

    @Test("qform quaternion formula: known rotations")
    func qform() {
        // 90 degrees about z: quaternion (cos 45, 0, 0, sin 45), so b = c = 0, d = sqrt(1/2).
        let a = NIfTIReader.qformAffine(b: 0, c: 0, d: 0.5.squareRoot(), offset: SIMD3(1, 2, 3),
                                        spacing: SIMD3(2, 3, 4), qfac: 1)
        let expected = Matrix3(rows: SIMD3(0, -3, 0), SIMD3(2, 0, 0), SIMD3(0, 0, 4))
        #expect(a.linear.maxAbsDifference(to: expected) < 1e-12)
        #expect(a.translation == SIMD3(1, 2, 3))
        // qfac -1 flips the third axis.
        let flipped = NIfTIReader.qformAffine(b: 0, c: 0, d: 0, offset: .zero, spacing: SIMD3(1, 1, 2), qfac: -1)
        #expect(flipped.linear.maxAbsDifference(to: .diagonal(SIMD3(1, 1, -2))) < 1e-15)
        // 180 degrees about x: a = 0, b = 1 (1 - b^2 < 1e-7: the renormalised branch).
        let half = NIfTIReader.qformAffine(b: 1, c: 0, d: 0, offset: .zero, spacing: SIMD3(1, 1, 1), qfac: 1)
        #expect(half.linear.maxAbsDifference(to: .diagonal(SIMD3(1, -1, -1))) < 1e-12)
    }

    @Test("affine algebra: inverse and composition")
    func affineAlgebra() {
        let r = Matrix3.rotation(axis: SIMD3(1, 2, 3), degrees: 33)
        let a = Affine3D(linear: r * .diagonal(SIMD3(0.5, 2, 3)), translation: SIMD3(4, -5, 6))
        let p = SIMD3(1.5, -2.25, 7.0)
        #expect(length(a.inverse.apply(a.apply(p)) - p) < 1e-12)
        #expect(length((a * a.inverse).apply(p) - p) < 1e-12)
        #expect(length((a * a).apply(p) - a.apply(a.apply(p))) < 1e-12)
        // A rotation's determinant is 1, so this one's is 0.5 * 2 * 3.
        #expect(abs(a.linear.determinant - 3) < 1e-12)
        #expect(Affine3D(matrix4x4: a.matrix4x4) == a)
        #expect(Affine3D(matrix4x4: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1]]) == nil)
    }

    @Test("a singular or non-finite affine is not usable")
    func usable() {
        #expect(!ImageGeometry.isUsable(Affine3D(linear: Matrix3(columns: SIMD3(1, 0, 0), SIMD3(2, 0, 0), SIMD3(0, 0, 1)), translation: .zero)))
        #expect(!ImageGeometry.isUsable(Affine3D(linear: .identity, translation: SIMD3(.nan, 0, 0))))
        #expect(ImageGeometry.isUsable(Affine3D(linear: .diagonal(SIMD3(0.1, 0.1, 5)), translation: .zero)))
    }

    @Test("mask volume in mL")
    func maskVolume() {
        let g = ImageGeometry(size: GridSize(10, 10, 10), spacing: SIMD3(0.5, 0.5, 2))
        var mask = Mask(geometry: g, repeating: false)
        for i in 0..<8 { mask.voxels[i * 3] = true }
        // 8 voxels of 0.5 mm^3 = 4 mm^3 = 0.004 mL
        #expect(mask.count == 8)
        #expect(abs(mask.volumeML - 0.004) < 1e-15)
    }
}
