import MAMCore
import MAMMargin
import MAMPhantoms
import MAMSurface
import MAMTestSupport
import Testing

/// Masks resampled by nearest neighbour onto a finer grid, and one-voxel bumps: the MAM stays
/// what the native masks give (issue 14; before the fix, slices repeated twice moved the sphere's
/// MAM from 5.16 to 2.81 mm).
@Suite("Resampled masks and bumps")
struct ResampledMaskTests {
    /// Tumour r 10 mm at the origin, zone r 17 mm centred 1.87 mm off: analytic MAM 5.13 mm.
    static let tumour = Shape.sphere(center: .zero, radius: 10)
    static let zone = Shape.sphere(center: SIMD3(1.1, -0.9, 1.2), radius: 17)
    static var analyticMAM: Double { 17 - 10 - length(SIMD3(1.1, -0.9, 1.2)) }
    static let native = grid(extentMM: 50, spacing: SIMD3(0.7, 0.7, 1.0))

    /// Each voxel of `mask` repeated `factor` times along each axis (nearest-neighbour
    /// upsampling: the fine voxels of a coarse one are centred on it).
    static func repeated(_ mask: Mask, _ factor: SIMD3<Int>) -> Mask {
        let g = mask.geometry
        let f = SIMD3(Double(factor.x), Double(factor.y), Double(factor.z))
        let a = g.indexToWorld
        let linear = Matrix3(columns: a.linear[0] / f.x, a.linear[1] / f.y, a.linear[2] / f.z)
        // Fine index 0 lies (f - 1) / 2 fine voxels before coarse centre 0.
        let origin = a.apply(-(f - 1) / (2 * f))
        let size = GridSize(g.size.x * factor.x, g.size.y * factor.y, g.size.z * factor.z)
        var out = Mask(geometry: ImageGeometry(size: size, indexToWorld: Affine3D(linear: linear, translation: origin)), repeating: false)
        for k in 0..<size.z {
            for j in 0..<size.y {
                for i in 0..<size.x { out[i, j, k] = mask[i / factor.x, j / factor.y, k / factor.z] }
            }
        }
        return out
    }

    static func mam(_ tumour: Mask, _ zone: Mask) throws -> Double {
        try #require(try MarginEngine.analyse(MarginCase(tumours: [tumour], ablationZone: zone)).tumours[0].minimalMarginMM)
    }

    @Test("the repeat factors of a resampled mask are found, and none in a native one",
          arguments: [SIMD3(1, 1, 2), SIMD3(1, 1, 3), SIMD3(2, 2, 1), SIMD3(2, 2, 2)])
    func factors(_ factor: SIMD3<Int>) {
        let mask = paint(Self.native, [Self.tumour])
        #expect(mask.repeatFactors.factor == SIMD3(1, 1, 1))
        #expect(Self.repeated(mask, factor).repeatFactors.factor == factor)
    }

    @Test("masks resampled by nearest neighbour give the MAM of the masks they came from",
          arguments: [SIMD3(1, 1, 2), SIMD3(1, 1, 3), SIMD3(2, 2, 1), SIMD3(2, 2, 2)])
    func resampled(_ factor: SIMD3<Int>) throws {
        let tumour = paint(Self.native, [Self.tumour]), zone = paint(Self.native, [Self.zone])
        let native = try Self.mam(tumour, zone)
        let fine = try Self.mam(Self.repeated(tumour, factor), Self.repeated(zone, factor))
        // The engine's bound on these grids is 0.5 mm from the analytic MAM; the resampled masks
        // hold the same information, so the same bound applies to them, and they should agree
        // with the native masks far better than that (0.1 mm).
        #expect(abs(native - Self.analyticMAM) <= 0.5, "native \(native), analytic \(Self.analyticMAM)")
        #expect(abs(fine - Self.analyticMAM) <= 0.5, "factor \(factor): \(fine), analytic \(Self.analyticMAM)")
        #expect(abs(fine - native) <= 0.1, "factor \(factor): \(fine) vs native \(native)")
    }

    @Test("a one-voxel bump on the tumour or the zone moves the MAM by at most its height plus 0.5 mm")
    func bumps() throws {
        let tumour = paint(Self.native, [Self.tumour]), zone = paint(Self.native, [Self.zone])
        let base = try Self.mam(tumour, zone)
        // A tumour bump toward the zone's nearest point (the MAM's location), and a zone dent
        // there: one voxel each, on the surface along each axis.
        let direction = -SIMD3(1.1, -0.9, 1.2) / length(SIMD3(1.1, -0.9, 1.2))
        for axis in 0..<3 {
            var bumped = tumour
            var dented = zone
            var e = SIMD3<Double>.zero
            e[axis] = direction[axis] < 0 ? -1 : 1
            // The first voxel outside the tumour along the axis, and the last inside the zone.
            let h = Self.native.spacing[axis]
            let outside = Self.native.index(atWorld: e * (10 + h / 2))
            let i = SIMD3(Int(outside.x.rounded()), Int(outside.y.rounded()), Int(outside.z.rounded()))
            bumped[i.x, i.y, i.z] = true
            let zoneEdge = Self.native.index(atWorld: SIMD3(1.1, -0.9, 1.2) + e * (17 - h / 2))
            let z = SIMD3(Int(zoneEdge.x.rounded()), Int(zoneEdge.y.rounded()), Int(zoneEdge.z.rounded()))
            dented[z.x, z.y, z.z] = false
            // Height of the bump: one voxel along the axis.
            for (t, zn, what) in [(bumped, zone, "tumour bump"), (tumour, dented, "zone dent")] {
                let moved = try Self.mam(t, zn)
                #expect(abs(moved - base) <= h + 0.5, "\(what) along axis \(axis): \(moved) vs \(base)")
            }
        }
    }
}
