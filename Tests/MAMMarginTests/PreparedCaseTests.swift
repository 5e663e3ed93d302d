import MAMCore
import MAMMargin
import MAMPhantoms
import MAMTestSupport
import Testing

/// A case prepared once and measured under several transforms.
@Suite("Prepared case, measured under any transform")
struct PreparedCaseTests {
    /// A 10 mm tumour in a 16 mm zone, in a liver, on a 1 mm grid; shells and capsule exclusion on.
    static func phantom() -> (MarginCase, MarginSettings) {
        let g = grid(extentMM: 80, spacing: SIMD3(1, 1, 1))
        let tumour = paint(g, [.sphere(center: .zero, radius: 10)])
        let zone = paint(g, [.sphere(center: SIMD3(1, 0, 0), radius: 16)])
        let liver = paint(g, [.sphere(center: SIMD3(0, 0, 12), radius: 35)])
        var settings = MarginSettings()
        settings.capsuleExclusionMM = 3
        return (MarginCase(tumours: [tumour], ablationZone: zone, preLiver: liver), settings)
    }

    /// Shifts the pre scan by `t` (mm) in post space.
    static func shift(_ t: SIMD3<Double>) -> Affine3D { Affine3D(linear: .identity, translation: t) }

    @Test("measuring a prepared case equals a fresh analysis under the same transform, figure for figure")
    func sameAsFresh() throws {
        let (input, settings) = Self.phantom()
        let prepared = try MarginEngine.prepare(input, settings: settings)
        for t in [SIMD3<Double>(0, 0, 0), SIMD3(2, 0, 0), SIMD3(-1.5, 2, 0.5)] {
            var moved = input
            moved.preToPost = Self.shift(t)
            let fresh = try MarginEngine.analyse(moved, settings: settings)
            let reused = prepared.measure(preToPost: Self.shift(t))
            // Exact: the same code on the same prepared data.
            #expect(reused.tumours == fresh.tumours, "shift \(t)")
            #expect(reused.ablationVolumeML == fresh.ablationVolumeML)
            #expect(reused.surfaceMargins[0]?.marginsMM == fresh.surfaceMargins[0]?.marginsMM)
        }
    }

    @Test("surface figures alone: the same surface statistics as all figures, and no coverage or shells")
    func surfaceOnly() throws {
        let (input, settings) = Self.phantom()
        let prepared = try MarginEngine.prepare(input, settings: settings)
        let shift = Self.shift(SIMD3(0.7, -0.4, 1.1))
        let all = prepared.measure(preToPost: shift).tumours[0]
        let surface = prepared.measure(preToPost: shift, figures: .surface).tumours[0]
        #expect(surface.surface == all.surface && surface.surfaceWithoutCapsule == all.surfaceWithoutCapsule)
        #expect(surface.minimalMarginMM == all.minimalMarginMM && surface.capsuleExcludedSurfaceFraction == all.capsuleExcludedSurfaceFraction)
        #expect(surface.fractionInsideAblation == nil && surface.residualVolumeML == nil && surface.shells.isEmpty)
        #expect(all.fractionInsideAblation != nil && all.shells.count == settings.shellWidthsMM.count)
    }

    @Test("a known shift moves the MAM by its analytic amount", arguments: [SIMD3<Double>(0, 0, 0), SIMD3(-2, 0, 0), SIMD3(0, 1.5, 1)])
    func knownShift(_ t: SIMD3<Double>) throws {
        let (input, settings) = Self.phantom()
        let prepared = try MarginEngine.prepare(input, settings: settings)
        let mam = try #require(prepared.measure(preToPost: Self.shift(t)).tumours[0].minimalMarginMM)
        // Tumour centre at t, zone centre at (1, 0, 0): MAM = 16 - (|t - (1, 0, 0)| + 10);
        // 0.5 mm is the engine's tolerance on 1 mm grids (Docs/margin-method.md).
        let analytic = 16 - (length(t - SIMD3(1, 0, 0)) + 10)
        #expect(abs(mam - analytic) <= 0.5, "MAM \(mam) vs analytic \(analytic)")
    }

    @Test("per-sample surface margins: their minimum is the MAM, their areas the surface area")
    func perSampleMargins() throws {
        let (input, settings) = Self.phantom()
        let analysis = try MarginEngine.analyse(input, settings: settings)
        let t = analysis.tumours[0]
        let samples = try #require(analysis.surfaceMargins[0])
        let statistics = try #require(t.surface)
        #expect(samples.marginsMM.count == samples.postPoints.count && samples.prePoints.count == samples.areasMM2.count)
        #expect(samples.marginsMM.min() == t.minimalMarginMM)
        // Same additions in another order: equal to 1e-9 relative.
        #expect(abs(samples.areasMM2.reduce(0, +) - statistics.surfaceAreaMM2) <= 1e-9 * statistics.surfaceAreaMM2)
        // A sphere of radius 10: area 4 pi r^2 within 3% (a voxelised surface).
        #expect(abs(statistics.surfaceAreaMM2 / (4 * Double.pi * 100) - 1) < 0.03)
    }

    @Test("tumours are separated and cropped by the engine's own rule")
    func separation() throws {
        let g = grid(extentMM: 60, spacing: SIMD3(1, 1, 1))
        let two = paint(g, [.sphere(center: SIMD3(-12, 0, 0), radius: 6), .sphere(center: SIMD3(14, 0, 0), radius: 4)])
        let settings = MarginSettings()
        let parts = MarginEngine.separateTumours(two, settings: settings).tumours
        #expect(parts.map(\.count) == [paint(g, [.sphere(center: SIMD3(-12, 0, 0), radius: 6)]).count,
                                        paint(g, [.sphere(center: SIMD3(14, 0, 0), radius: 4)]).count])
        // Each crop holds the widest shell (10 mm) and two voxels more (12 voxels at 1 mm)
        // around its tumour, unless the whole grid ends first.
        for part in parts {
            let box = part.boundingBox
            let start = g.index(atWorld: part.geometry.world(atIndex: .zero))
            let whole = SIMD3(g.size.x, g.size.y, g.size.z), size = SIMD3(part.size.x, part.size.y, part.size.z)
            for axis in 0..<3 {
                let begin = Int(start[axis].rounded())
                #expect(box.lower[axis] == 12 || (begin == 0 && box.lower[axis] < 12), "axis \(axis)")
                #expect(size[axis] - box.upper[axis] == 12 || (begin + size[axis] == whole[axis] && size[axis] - box.upper[axis] < 12))
            }
        }
    }
}
