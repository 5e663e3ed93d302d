import Foundation
import MAMCore
import MAMMargin
import MAMPhantoms
import MAMTestSupport
import Testing

/// The MAM's uncertainty (Docs/uncertainty.md) against numbers known independently: normal
/// quantiles, and the margin engine itself under the transforms the draws stand for.
@Suite("Margin uncertainty")
struct MarginUncertaintyTests {
    /// Tumour r 10 mm, zone r 16 mm centred 1 mm off, on a 1 mm grid.
    static func prepared() throws -> PreparedCase {
        let g = grid(extentMM: 70, spacing: SIMD3(1, 1, 1))
        return try MarginEngine.prepare(MarginCase(tumours: [paint(g, [.sphere(center: .zero, radius: 10)])],
                                                   ablationZone: paint(g, [.sphere(center: SIMD3(1, 0, 0), radius: 16)])))
    }

    @Test("boundary part alone: the interval is the MAM +- 1.96 boundary SDs, the SD 0.1 x sqrt(2) voxels on 1 mm grids")
    func boundaryOnly() throws {
        let prepared = try Self.prepared()
        var settings = UncertaintySettings()
        settings.registrationFloorMM = 0
        let u = try #require(prepared.uncertainty(tumour: 0, preToPost: .identity, alternatives: [], settings: settings))
        let mam = try #require(prepared.measure(preToPost: .identity, figures: .surface).tumours[0].minimalMarginMM)
        // 0.1 of the voxel extent along the normal (1 mm on an isotropic 1 mm grid) per mask.
        #expect(abs(u.boundarySDMM - 0.1 * 2.0.squareRoot()) < 1e-9)
        // The 2.5th percentile of 4000 normal draws has a standard error of 0.042 SD; 0.15 SD
        // is 3.5 of them.
        #expect(abs(u.lowerMM - (mam - 1.959964 * u.boundarySDMM)) <= 0.15 * u.boundarySDMM)
        #expect(abs(u.upperMM - (mam + 1.959964 * u.boundarySDMM)) <= 0.15 * u.boundarySDMM)
        #expect(u.registrationSpreadMM == 0)
        // P(MAM >= 5 mm) for a MAM of 5 +- 0.14 mm: the normal probability, within 0.03 (3.5
        // binomial standard errors at 4000 draws).
        let z = (mam - 5) / u.boundarySDMM
        let normal = 0.5 * (1 + erf(z / 2.0.squareRoot()))
        #expect(abs(u.probabilityAtLeastTarget - normal) <= 0.03, "\(u.probabilityAtLeastTarget) vs \(normal)")
    }

    @Test("registration part: the draws' MAM, linearised and reflected, matches the engine under the transforms they stand for",
          arguments: [SIMD3<Double>(0.5, 0, 0), SIMD3(-0.3, 0.4, 0.2), SIMD3(0, 0, -0.6), SIMD3(0.7, 0, 0.3)])
    func registrationPart(_ deviation: SIMD3<Double>) throws {
        let prepared = try Self.prepared()
        var settings = UncertaintySettings()
        (settings.registrationFloorMM, settings.boundaryFraction, settings.registrationScale) = (0, 0, 1)
        // One alternative: a translation. The draws are z times it, z standard normal: their
        // reflected MAMs' percentiles are computed here with the engine itself at 400 equally
        // probable z (the normal quantiles), without linearisation.
        let shift = Affine3D(linear: .identity, translation: deviation)
        let u = try #require(prepared.uncertainty(tumour: 0, preToPost: .identity, alternatives: [shift], settings: settings))
        let measured = try #require(prepared.measure(preToPost: .identity, figures: .surface).tumours[0].minimalMarginMM)
        let exact = (0..<400).map { k -> Double in
            let z = normalQuantile((Double(k) + 0.5) / 400)
            let moved = prepared.measure(preToPost: Affine3D(linear: .identity, translation: z * deviation), figures: .surface)
            return 2 * measured - moved.tumours[0].minimalMarginMM!
        }.sorted()
        let ends = [exact[9], exact[390]]  // 2.5th and 97.5th percentiles of the 400
        // Linearisation error (second order in a shift of at most 1.5 mm) and Monte-Carlo error
        // of the 4000 draws' percentiles: 0.1 mm.
        #expect(abs(u.lowerMM - ends[0]) <= 0.1, "lower \(u.lowerMM) vs exact \(ends[0])")
        #expect(abs(u.upperMM - ends[1]) <= 0.1, "upper \(u.upperMM) vs exact \(ends[1])")
        #expect(abs(u.registrationSpreadMM - length(deviation)) <= 0.05 * length(deviation))
    }

    /// The standard normal quantile, by bisection of erf (tests only).
    func normalQuantile(_ p: Double) -> Double {
        var (low, high) = (-10.0, 10.0)
        for _ in 0..<100 {
            let mid = (low + high) / 2
            if 0.5 * (1 + erf(mid / 2.0.squareRoot())) < p { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    @Test("the same case twice gives the same interval: the draws are seeded")
    func deterministic() throws {
        let prepared = try Self.prepared()
        let shift = Affine3D(linear: Matrix3.rotation(axis: SIMD3(0, 0, 1), degrees: 1), translation: SIMD3(0.4, 0, 0))
        let a = prepared.uncertainty(tumour: 0, preToPost: .identity, alternatives: [shift])
        let b = prepared.uncertainty(tumour: 0, preToPost: .identity, alternatives: [shift])
        #expect(a == b)
    }
}
