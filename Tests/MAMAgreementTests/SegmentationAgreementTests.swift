import Foundation
import MAMAgreement
import MAMCore
import MAMPhantoms
import MAMTestSupport
import Testing

/// A box of voxels [lower, upper) in a grid of `size` with `spacing`.
func box(_ size: GridSize, spacing: SIMD3<Double>, _ lower: SIMD3<Int>, _ upper: SIMD3<Int>) -> Mask {
    var mask = Mask(geometry: ImageGeometry(size: size, spacing: spacing), repeating: false)
    for k in lower.z..<upper.z { for j in lower.y..<upper.y { for i in lower.x..<upper.x { mask[i, j, k] = true } } }
    return mask
}

@Suite("Segmentation agreement on hand-derived phantoms")
struct SegmentationAgreementTests {
    /// Floating-point sums of a few dozen terms: 1e-9 is far below any meaningful difference.
    static let exact = 1e-9

    @Test("identical masks: Dice 1, every distance 0")
    func identical() {
        let a = box(GridSize(12, 10, 8), spacing: SIMD3(0.7, 0.7, 2.5), SIMD3(2, 3, 1), SIMD3(9, 8, 6))
        let m = SegmentationAgreement.compare(a, a)
        #expect(m.dice == 1 && m.jaccard == 1 && m.volumeDifferenceML == 0 && m.volumeDifferencePercent == 0)
        #expect(m.hausdorffMM == 0 && m.hausdorff95MM == 0 && m.averageSymmetricSurfaceDistanceMM == 0 && m.surfaceDice == 1)
    }

    /// A 3 x 3 x 3 cube and the same cube shifted one voxel along x. Every voxel but the centre
    /// is on the surface (26 per cube). From A's surface to B's: the 9 voxels of A's x = 0 face
    /// are one x-step (h_x) from B's x = 1 face; A's face-centre voxel (2,1,1) is B's centre,
    /// not on B's surface, and its nearest B surface voxel is one step along the axis of
    /// smallest spacing; the other 16 lie on B's surface (0). B to A is the mirror image.
    @Test("3-voxel cube shifted by one voxel along x, spacing (2, 1, 1) and (3, 2, 1)",
          arguments: [(SIMD3<Double>(2, 1, 1), 2.0, 1.0), (SIMD3<Double>(3, 2, 1), 3.0, 1.0)])
    func shiftedCube(_ spacing: SIMD3<Double>, _ step: Double, _ nearest: Double) {
        let size = GridSize(8, 7, 7)
        let a = box(size, spacing: spacing, SIMD3(2, 2, 2), SIMD3(5, 5, 5))
        let b = box(size, spacing: spacing, SIMD3(3, 2, 2), SIMD3(6, 5, 5))
        let voxelML = spacing.x * spacing.y * spacing.z / 1000
        for (x, y) in [(a, b), (b, a)] {  // symmetric
            let m = SegmentationAgreement.compare(x, y, toleranceMM: 2)
            #expect(abs(m.dice - 2.0 / 3) < Self.exact)             // 2 * 18 / 54
            #expect(abs(m.jaccard - 0.5) < Self.exact)              // 18 / 36
            #expect(abs(m.volumeAML - 27 * voxelML) < Self.exact && m.volumeDifferenceML == 0)
            #expect(m.hausdorffMM == step)                          // the x = 0 face is one x-step from B
            #expect(m.hausdorff95MM == step)                        // position 0.95 * 25 = 23.75 lies among the 9 largest
            let assd = (9 * step + nearest) * 2 / 52
            #expect(abs(m.averageSymmetricSurfaceDistanceMM! - assd) < Self.exact)
            // Within 2 mm: everything for step 2; for step 3 the 9 face voxels each way are not.
            #expect(abs(m.surfaceDice! - (step <= 2 ? 1 : 34.0 / 52)) < Self.exact)
        }
    }

    @Test("disjoint masks: Dice 0; single voxels 4 voxels apart at spacing 2 mm: every distance 8 mm")
    func disjoint() {
        let size = GridSize(10, 3, 3)
        let a = box(size, spacing: SIMD3(2, 1, 1), SIMD3(1, 1, 1), SIMD3(2, 2, 2))
        let b = box(size, spacing: SIMD3(2, 1, 1), SIMD3(5, 1, 1), SIMD3(6, 2, 2))
        let m = SegmentationAgreement.compare(a, b)
        #expect(m.dice == 0 && m.jaccard == 0)
        #expect(m.hausdorffMM == 8 && m.hausdorff95MM == 8 && m.averageSymmetricSurfaceDistanceMM == 8 && m.surfaceDice == 0)
    }

    @Test("one empty mask: Dice 0, distances undefined with the reason; both empty: perfect agreement")
    func empty() {
        let size = GridSize(6, 6, 6)
        let a = box(size, spacing: SIMD3(1, 1, 1), SIMD3(1, 1, 1), SIMD3(4, 4, 4))
        let none = Mask(geometry: a.geometry, repeating: false)
        let one = SegmentationAgreement.compare(a, none)
        #expect(one.dice == 0 && one.jaccard == 0 && abs(one.volumeDifferencePercent! + 100) < Self.exact)
        #expect(one.hausdorffMM == nil && one.averageSymmetricSurfaceDistanceMM == nil && one.surfaceDice == nil)
        #expect(one.distancesUndefinedReason == "mask B is empty: surface distances are undefined")
        let other = SegmentationAgreement.compare(none, a)
        #expect(other.volumeDifferencePercent == nil && other.distancesUndefinedReason == "mask A is empty: surface distances are undefined")
        let both = SegmentationAgreement.compare(none, none)
        #expect(both.dice == 1 && both.hausdorffMM == 0 && both.surfaceDice == 1 && both.distancesUndefinedReason == nil)
    }

    @Test("a mask touching the grid's edge has its surface there")
    func gridEdge() {
        // A fills x = 0...2 from the grid's first slice; B is A without that slice. A's x = 0
        // face is surface (the grid's edge counts as outside) and one 2 mm step from B.
        let size = GridSize(5, 5, 5)
        let a = box(size, spacing: SIMD3(2, 1, 1), SIMD3(0, 1, 1), SIMD3(3, 4, 4))
        let b = box(size, spacing: SIMD3(2, 1, 1), SIMD3(1, 1, 1), SIMD3(3, 4, 4))
        #expect(SegmentationAgreement.compare(a, b).hausdorffMM == 2)
    }

    @Test("nearest-neighbour resampling onto another grid keeps world positions")
    func resampling() {
        let a = box(GridSize(10, 10, 10), spacing: SIMD3(1, 1, 1), SIMD3(2, 2, 2), SIMD3(6, 7, 8))
        // A grid of 2 mm voxels whose centres are every other centre of a's grid.
        let coarse = ImageGeometry(size: GridSize(5, 5, 5), spacing: SIMD3(2, 2, 2))
        let r = a.resampled(onto: coarse, outside: false)
        #expect(r.count == 2 * 3 * 3)  // even indices 2, 4 | 2, 4, 6 | 2, 4, 6
        // Shifted by 1 mm along x through a transform: the voxels move by one.
        let shifted = a.resampled(onto: a.geometry, transform: Affine3D(linear: .identity, translation: SIMD3(1, 0, 0)), outside: false)
        #expect(shifted[1, 2, 2] && !shifted[5, 2, 2] && shifted.count == a.count)
    }
}
