import Foundation
import MAMCore
import MAMSurface
import MAMTestSupport
import Testing

/// The ablation zone's shape as device studies report it: long axis, perpendicular diameters,
/// sphericity (issue 17).
@Suite("Principal extents of a mask")
struct PrincipalExtentsTests {
    /// Rotated ellipsoids with semi-axes 20, 14 and 9 mm (diameters 40, 28, 18), on an isotropic
    /// 1 mm grid and on a 0.8 x 0.8 x 2.5 mm grid turned 25 degrees.
    @Test("a rotated ellipsoid: each diameter within one voxel width along its axis, each axis within 2 degrees",
          arguments: [(SIMD3(1.0, 1, 1), 0.0), (SIMD3(0.8, 0.8, 2.5), 25.0)])
    func ellipsoid(_ spacing: SIMD3<Double>, _ gridTurn: Double) {
        let axes = Matrix3.rotation(axis: SIMD3(1, 2, 0.5) / length(SIMD3(1, 2, 0.5)), degrees: 37)
        let centre = SIMD3(1.3, -0.4, 0.7)
        let grid = grid(around: centre, extentMM: 50, spacing: spacing,
                        direction: Matrix3.rotation(axis: SIMD3(0, 0, 1), degrees: gridTurn))
        let mask = paint(grid, [.ellipsoid(center: centre, radii: SIMD3(20, 14, 9), axes: axes)])
        guard let shape = PrincipalExtents([mask]) else {
            Issue.record("no shape for a non-empty mask")
            return
        }
        for (n, diameter) in [40.0, 28, 18].enumerated() {
            let u = shape.axes[n]
            // The voxel's width along u bounds how far the outermost voxel centres lie inside
            // the surface (the estimate adds that width once to their spread).
            let l = grid.indexToWorld.linear
            let width = abs(dot(l[0], u)) + abs(dot(l[1], u)) + abs(dot(l[2], u))
            #expect(abs(shape.extentsMM[n] - diameter) <= width, "axis \(n): \(shape.extentsMM[n]) mm against \(diameter) (width \(width))")
            // The solid ellipsoid's covariance has eigenvalues a^2 / 5 = 80, 39.2 and 16.2 mm^2;
            // voxelising perturbs it by about a slice's h^2 / 12 (0.5 mm^2 at 2.5 mm), which turns
            // an axis by about that over the nearest gap (23 mm^2): 0.02 rad, 1.2 degrees.
            let angle = acos(min(1, abs(dot(u, axes[n])))) * 180 / .pi
            #expect(angle <= 2, "axis \(n) off by \(angle) degrees")
        }
    }

    @Test("two parts count as one structure; an empty mask has no shape")
    func parts() {
        let grid = grid(extentMM: 60, spacing: SIMD3(1, 1, 1))
        let a = paint(grid, [.sphere(center: SIMD3(-12, 0, 0), radius: 6)])
        let b = paint(grid, [.sphere(center: SIMD3(12, 0, 0), radius: 6)])
        let shape = PrincipalExtents([a, b])
        // From x = -18 to 18: 36 mm along x, 12 mm across, within the 1 mm voxel.
        #expect(shape.map { abs($0.extentsMM[0] - 36) <= 1 && abs($0.extentsMM[1] - 12) <= 1 } == true, "\(String(describing: shape))")
        #expect(shape.map { abs(abs($0.axes[0].x) - 1) < 1e-6 } == true)
        #expect(PrincipalExtents([Mask(geometry: grid, repeating: false)]) == nil)
    }
}
