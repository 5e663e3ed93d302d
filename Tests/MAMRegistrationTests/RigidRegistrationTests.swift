import Foundation
import MAMCore
import MAMPhantoms
import MAMRegistration
import MAMTestSupport
import Testing

/// Registration against known transforms, on a phantom liver with no rotational symmetry: an
/// ellipsoid with two bulges of different sizes. Pre and post grids differ in spacing (post
/// with 2.5 mm slices), origin and orientation.
@Suite("Rigid registration with known transforms")
struct RigidRegistrationTests {
    static let tumour = SIMD3<Double>(25, -10, 8)

    /// The liver in its pre-ablation pose: `inside` for a world point.
    static func liver(_ p: SIMD3<Double>) -> Bool {
        let e = (p - SIMD3(0, 0, 0)) / SIMD3(90, 65, 50)
        if dot(e, e) <= 1 { return true }
        if length(p - SIMD3(60, 45, 15)) <= 28 { return true }
        return length(p - SIMD3(-55, -35, -25)) <= 20
    }

    static let preGrid = ImageGeometry(size: GridSize(120, 95, 68), spacing: SIMD3(2, 2, 2), origin: SIMD3(-118, -93, -66))

    static func postGrid(around centre: SIMD3<Double>, slices: Int = 86) -> ImageGeometry {
        let direction = Matrix3.rotation(axis: SIMD3(0.2, 0.1, 1), degrees: 8)
        return .centred(on: centre, size: GridSize(160, 130, slices), spacing: SIMD3(1.6, 1.6, 2.5), direction: direction)
    }

    struct Motion: CustomTestStringConvertible, Sendable {
        let name: String
        let axis: SIMD3<Double>
        let degrees: Double
        let translation: SIMD3<Double>
        var testDescription: String { name }
        var transform: Affine3D {
            Affine3D(linear: Matrix3.rotation(axis: axis, degrees: degrees), translation: translation)
        }
    }

    static let motions: [Motion] = [
        Motion(name: "15 degrees about an oblique axis, 40 mm", axis: SIMD3(1, 2, 3), degrees: 15, translation: SIMD3(24, -28, 16)),
        Motion(name: "12 degrees about z, 35 mm along x", axis: SIMD3(0, 0, 1), degrees: -12, translation: SIMD3(35, 0, 0)),
        Motion(name: "10 degrees about x, 30 mm", axis: SIMD3(1, 0, 0), degrees: 10, translation: SIMD3(0, 18, -24)),
    ]

    /// Error at the tumour (mm) and rotation error (degrees) of an estimate against the truth.
    static func errors(_ estimate: Affine3D, _ truth: Affine3D) -> (tumourMM: Double, degrees: Double) {
        let tumourError = length(estimate.apply(tumour) - truth.apply(tumour))
        let relative = estimate.linear * truth.linear.transposed
        let trace = relative[0, 0] + relative[1, 1] + relative[2, 2]
        let degrees = acos(min(1, max(-1, (trace - 1) / 2))) * 180 / .pi
        return (tumourError, degrees)
    }

    @Test("rotations up to 15 degrees and translations up to 40 mm: tumour error <= 0.5 mm, rotation <= 0.5 degrees",
          arguments: motions)
    func knownTransform(_ motion: Motion) throws {
        let truth = motion.transform
        let inverse = truth.inverse
        let pre = Phantom.mask(geometry: Self.preGrid, inside: Self.liver)
        let post = Phantom.mask(geometry: Self.postGrid(around: truth.apply(.zero))) { Self.liver(inverse.apply($0)) }
        let result = try RigidRegistration.register(preLiver: pre, postLiver: post)
        let (tumourError, degrees) = Self.errors(result.preToPost, truth)
        print(String(format: "registration, %@: tumour %.3f mm, rotation %.3f deg, Dice %.3f, mean %.2f mm, p95 %.2f mm, %d iterations",
                     motion.name, tumourError, degrees, result.quality.liverDice, result.quality.meanSurfaceDistanceMM,
                     result.quality.surfaceDistance95MM, result.quality.iterations))
        #expect(tumourError <= 0.5)
        #expect(degrees <= 0.5)
        #expect(result.verdict == .accepted, "\(result.reasons)")
    }

    @Test("a quarter of the liver cut off by the field of view, and a smooth 3 mm deformation away from the tumour: tumour error <= 1.5 mm")
    func truncatedAndDeformed() throws {
        let truth = Self.motions[0].transform
        let inverse = truth.inverse
        let pre = Phantom.mask(geometry: Self.preGrid, inside: Self.liver)
        // Displacement (post world) up to 3 mm, vanishing within 30 mm of the tumour.
        let tumourPost = truth.apply(Self.tumour)
        func displacement(_ p: SIMD3<Double>) -> SIMD3<Double> {
            let fade = min(1, max(0, (length(p - tumourPost) - 30) / 40))
            return 3 * fade * SIMD3(sin(p.y / 25), cos(p.z / 30), sin(p.x / 35)) / 1.7320508
        }
        // Fewer slices: the post field of view misses the liver's top.
        let full = Self.postGrid(around: truth.apply(.zero))
        let cut = ImageGeometry(size: GridSize(160, 130, 50), indexToWorld: full.indexToWorld)
        let post = Phantom.mask(geometry: cut) { Self.liver(inverse.apply($0 - displacement($0))) }
        let missing = 1 - post.volumeML / Phantom.mask(geometry: full) { Self.liver(inverse.apply($0)) }.volumeML
        #expect(missing >= 0.2, "the field of view removes \(missing) of the liver")
        let result = try RigidRegistration.register(preLiver: pre, postLiver: post)
        let (tumourError, degrees) = Self.errors(result.preToPost, truth)
        print(String(format: "registration, truncated %.0f%% and deformed: tumour %.3f mm, rotation %.3f deg, Dice %.3f, p95 %.2f mm",
                     100 * missing, tumourError, degrees, result.quality.liverDice, result.quality.surfaceDistance95MM))
        #expect(tumourError <= 1.5)
    }

    /// Found measuring memory on the largest grid (issue 20): identical livers 2 mm apart on a
    /// fine grid, where the trimmed ICP's kept pairs trade places every iteration (each update
    /// undoing the last by 0.03 mm), so that neither stopping rule held and 150 iterations ran
    /// out ("did not converge", exit 3). The liver (an ellipsoid and a bulge) and the grid are
    /// those of that case scaled by 0.3. Bound: the tumour within 0.2 mm of the truth (0.7 mm
    /// voxels; the module's rigid accuracy on phantoms).
    @Test("two sets of kept pairs trading places (identical livers 2 mm apart, 0.7 mm voxels): stops, within 0.2 mm")
    func cycleOfTwo() throws {
        func liver(_ p: SIMD3<Double>) -> Bool {
            let e = p / SIMD3(39, 30, 19.8)
            return dot(e, e) <= 1 || length(p - SIMD3(18, 12, 3)) <= 9
        }
        let extent = SIMD3<Double>(110, 89, 65)
        let grid = ImageGeometry(size: GridSize(157, 127, 92), spacing: SIMD3(0.7, 0.7, 0.7), origin: -extent / 2)
        let truth = Affine3D(linear: .identity, translation: SIMD3(2, 0, 0))
        let pre = Phantom.mask(geometry: grid, inside: liver)
        let post = Phantom.mask(geometry: grid) { liver($0 - truth.translation) }
        let result = try RigidRegistration.register(preLiver: pre, postLiver: post)
        let error = length(result.preToPost.apply(SIMD3(3, 0, 0)) - truth.apply(SIMD3(3, 0, 0)))
        print(String(format: "registration, kept pairs trading places: %.3f mm off, %d iterations", error, result.quality.iterations))
        #expect(error <= 0.2)
        #expect(result.verdict == .accepted, "\(result.reasons)")
    }

    @Test("clear errors: empty liver, livers that cannot be matched")
    func errors() {
        let pre = Phantom.mask(geometry: Self.preGrid, inside: Self.liver)
        let empty = Mask(geometry: Self.preGrid, repeating: false)
        #expect(throws: RegistrationError.emptyLiver(which: "post-ablation")) {
            try RigidRegistration.register(preLiver: pre, postLiver: empty)
        }
        let small = Phantom.mask(geometry: Self.preGrid) { length($0) < 30 }
        #expect(throws: RegistrationError.self) { try RigidRegistration.register(preLiver: pre, postLiver: small) }
        // Two iterations cannot finish a 15-degree, 40 mm registration.
        var settings = RegistrationSettings()
        settings.maxIterations = 2
        let truth = Self.motions[0].transform.inverse
        let moved = Phantom.mask(geometry: Self.postGrid(around: Self.motions[0].transform.apply(.zero))) { Self.liver(truth.apply($0)) }
        #expect(throws: RegistrationError.didNotConverge(iterations: 2)) {
            try RigidRegistration.register(preLiver: pre, postLiver: moved, settings: settings)
        }
    }
}
