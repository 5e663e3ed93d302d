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

    @Test("registration part: the draws' MAM, linearised and reflected (and made to hold the measured MAM), matches the engine under the transforms they stand for",
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
        var ends = [exact[9], exact[390]]  // 2.5th and 97.5th percentiles of the 400
        // Where they leave out the measured MAM (a shift along z lowers it either way), the
        // interval is the measured MAM plus or minus the farther one.
        if !(ends[0] <= measured && measured <= ends[1]) {
            let half = max(measured - ends[0], ends[1] - measured)
            ends = [measured - half, measured + half]
        }
        // Linearisation error (second order in a shift of at most 1.5 mm) and Monte-Carlo error
        // of the 4000 draws' percentiles: 0.1 mm.
        #expect(abs(u.lowerMM - ends[0]) <= 0.1, "lower \(u.lowerMM) vs exact \(ends[0])")
        #expect(abs(u.upperMM - ends[1]) <= 0.1, "upper \(u.upperMM) vs exact \(ends[1])")
        #expect(abs(u.registrationSpreadMM - length(deviation)) <= 0.05 * length(deviation))
    }

    @Test("a registration spread of several millimetres around a centred tumour: the interval holds the measured MAM, symmetric, as wide as the farther tail")
    func centredTumourLargeSpread() throws {
        // Tumour r 10 mm in the middle of a zone r 16 mm: any shift s lowers the MAM, to 6 - |s|
        // (the margin is linear in s, m_i - n_i.s, and its minimum over the sphere is -|s|).
        let g = grid(extentMM: 70, spacing: SIMD3(1, 1, 1))
        let prepared = try MarginEngine.prepare(MarginCase(tumours: [paint(g, [.sphere(center: .zero, radius: 10)])],
                                                           ablationZone: paint(g, [.sphere(center: .zero, radius: 16)])))
        var settings = UncertaintySettings()
        (settings.registrationFloorMM, settings.boundaryFraction) = (0, 0)
        // Three alternatives 3 mm along each axis: a shift with standard deviation sqrt(3) mm per
        // axis, so |s| / sqrt(3) follows a chi distribution with 3 degrees of freedom.
        let alternatives = (0..<3).map { axis -> Affine3D in
            var t = SIMD3<Double>.zero
            t[axis] = 3
            return Affine3D(linear: .identity, translation: t)
        }
        let u = try #require(prepared.uncertainty(tumour: 0, preToPost: .identity, alternatives: alternatives, settings: settings))
        let measured = try #require(prepared.measure(preToPost: .identity, figures: .surface).tumours[0].minimalMarginMM)
        // Every reflected draw lies above the measured MAM (6 + |s|); their 2.5th percentile,
        // 6 + 0.46 sqrt(3), would have left the measured MAM out. The interval is the measured
        // MAM plus or minus the farther percentile: the 97.5th of |s|, sqrt(3) x 3.057 mm (the
        // chi-3 quantile). Monte-Carlo error of 4000 draws 0.06 mm, the sampled sphere's minimum
        // against -|s| a few hundredths: 0.25 mm.
        #expect(u.lowerMM <= measured && measured <= u.upperMM, "\(u.lowerMM)...\(u.upperMM) vs \(measured)")
        #expect(abs((u.upperMM - measured) - (measured - u.lowerMM)) < 1e-9)
        #expect(abs(u.upperMM - measured - 3.0.squareRoot() * 3.057) <= 0.25, "\(u.upperMM - measured)")
        // P(MAM >= target): half the draws and their reflections; the reflections all reach 5 mm,
        // the draws where |s| <= measured - 5. Within 0.03 (3.5 binomial standard errors).
        func chi3(_ x: Double) -> Double { erf(x / 2.0.squareRoot()) - (2 / Double.pi).squareRoot() * x * exp(-x * x / 2) }
        let target = prepared.settings.targetMarginMM
        let expected = 0.5 + 0.5 * chi3(max(0, measured - target) / 3.0.squareRoot())
        #expect(abs(u.probabilityAtLeastTarget - expected) <= 0.03, "\(u.probabilityAtLeastTarget) vs \(expected)")
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
