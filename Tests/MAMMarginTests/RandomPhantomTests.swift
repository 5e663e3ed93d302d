import Foundation
import MAMCore
import MAMMargin
import MAMSurface
import MAMTestSupport
import Testing

/// Sphere-in-sphere cases drawn at random (fixed seed): radii, margins from -3 to +6 mm,
/// centre offsets up to 3 mm per axis and sub-voxel positions, so that no hand-picked case
/// hides a weakness of the surface fits (a 2 mm error on one such case led to the fit-width
/// rules in `FitInputs.adaptiveFit`).
@Suite("Margin engine on random sphere-in-sphere phantoms")
struct RandomPhantomTests {
    @Test("every MAM within the issue's tolerance (0.5 mm at 1 mm, 0.6 mm with 2.5 mm slices)",
          arguments: [(SIMD3<Double>(1, 1, 1), 0.5), (SIMD3<Double>(0.7, 0.7, 2.5), 0.6)])
    func randomCases(_ spacing: SIMD3<Double>, _ toleranceMM: Double) throws {
        var generator = SeededGenerator(seed: 99)
        var errors: [Double] = []
        for _ in 0..<16 {
            let c = SIMD3(Double.random(in: -1...1, using: &generator), Double.random(in: -1...1, using: &generator),
                          Double.random(in: -1...1, using: &generator))
            let rt = Double.random(in: 5...12, using: &generator)
            let ra = rt + Double.random(in: -3...6, using: &generator)
            let offset = SIMD3(Double.random(in: -3...3, using: &generator), Double.random(in: -3...3, using: &generator),
                               Double.random(in: -3...3, using: &generator))
            let g = grid(around: c, extentMM: 2 * (max(ra, rt) + length(offset)) + 30, spacing: spacing)
            let tumour = paint(g, [.sphere(center: c, radius: rt)])
            let zone = paint(g, [.sphere(center: c + offset, radius: ra)])
            let mam = try #require(try MarginEngine.analyse(MarginCase(tumours: [tumour], ablationZone: zone)).tumours[0].minimalMarginMM)
            errors.append(mam - (ra - (length(offset) + rt)))
        }
        let rms = (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        print(String(format: "random phantoms, spacing %.1f x %.1f x %.1f mm: mean error %+.3f mm, rms %.3f mm, largest %.3f mm",
                     spacing.x, spacing.y, spacing.z, errors.reduce(0, +) / Double(errors.count), rms, errors.map(abs).max()!))
        for error in errors { #expect(abs(error) <= toleranceMM) }
    }
}
