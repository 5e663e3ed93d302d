import Foundation
import MAMCore
import MAMSurface
import MAMTestSupport
import Testing

/// The sub-voxel surface's bias on flat and curved surfaces, per point (Docs/margin-method.md
/// quotes these figures). Each case prints its numbers; the bounds are what the method must
/// keep.
@Suite("Sub-voxel surface accuracy")
struct SurfaceAccuracyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let spacing: SIMD3<Double>
        /// nil: a tilted plane; else a sphere of this radius.
        let radius: Double?
        let maxMeanMM: Double
        let maxAbsoluteMM: Double
        var testDescription: String { name }
    }

    /// Bounds: the figures measured on 2026-11-22 (Docs/margin-method.md) rounded up, so that
    /// a change that makes the surface worse fails here. The accuracy the issue asks for is
    /// checked on the margins themselves (MarginEngineTests).
    static let cases: [Case] = [
        Case(name: "tilted plane, 1 mm", spacing: SIMD3(1, 1, 1), radius: nil, maxMeanMM: 0.02, maxAbsoluteMM: 0.1),
        Case(name: "tilted plane, 0.7 x 0.7 x 2.5 mm", spacing: SIMD3(0.7, 0.7, 2.5), radius: nil, maxMeanMM: 0.02, maxAbsoluteMM: 0.4),
        Case(name: "sphere r = 5, 1 mm", spacing: SIMD3(1, 1, 1), radius: 5, maxMeanMM: 0.1, maxAbsoluteMM: 0.35),
        Case(name: "sphere r = 10, 1 mm", spacing: SIMD3(1, 1, 1), radius: 10, maxMeanMM: 0.06, maxAbsoluteMM: 0.25),
        Case(name: "sphere r = 25, 1 mm", spacing: SIMD3(1, 1, 1), radius: 25, maxMeanMM: 0.06, maxAbsoluteMM: 0.3),
        Case(name: "sphere r = 10, 0.7 x 0.7 x 2.5 mm", spacing: SIMD3(0.7, 0.7, 2.5), radius: 10, maxMeanMM: 0.15, maxAbsoluteMM: 1.3),
        Case(name: "sphere r = 25, 0.7 x 0.7 x 2.5 mm", spacing: SIMD3(0.7, 0.7, 2.5), radius: 25, maxMeanMM: 0.05, maxAbsoluteMM: 1.0),
    ]

    @Test("per-point error of the recovered surface", arguments: cases)
    func accuracy(_ c: Case) {
        var generator = SeededGenerator(seed: 5)
        var errors: [Double] = []
        for _ in 0..<3 {
            let centre = SIMD3(Double.random(in: -1...1, using: &generator), Double.random(in: -1...1, using: &generator),
                               Double.random(in: -1...1, using: &generator))
            let extent = 2 * (c.radius ?? 15) + 16
            let g = grid(around: centre, extentMM: extent, spacing: c.spacing)
            if let r = c.radius {
                let surface = SubvoxelSurface(mask: paint(g, [.sphere(center: centre, radius: r)]))
                errors += surface.points.map { length($0 - centre) - r }
            } else {
                // A plane tilted about two axes through `centre`, clipped to a slab by a big sphere
                // far away; only points well inside the plane's middle are measured.
                let normal = SIMD3(0.3, -0.2, 1.0) / length(SIMD3(0.3, -0.2, 1.0))
                var mask = Mask(geometry: g, repeating: false)
                for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x {
                    let p = g.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                    mask[i, j, k] = dot(p - centre, normal) < 0 && length(p - centre) < extent / 2 - 2
                } } }
                let surface = SubvoxelSurface(mask: mask)
                errors += zip(surface.points, surface.normals)
                    .filter { length($0.0 - centre) < extent / 4 && dot($0.1, normal) > 0.9 }
                    .map { dot($0.0 - centre, normal) }
            }
        }
        let mean = errors.reduce(0, +) / Double(errors.count)
        let worst = errors.map(abs).max()!
        let sd = (errors.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(errors.count)).squareRoot()
        print(String(format: "surface accuracy, %@: %d points, mean %+.3f mm, sd %.3f mm, largest %.3f mm",
                     c.name, errors.count, mean, sd, worst))
        #expect(abs(mean) <= c.maxMeanMM)
        #expect(worst <= c.maxAbsoluteMM)
    }
}
