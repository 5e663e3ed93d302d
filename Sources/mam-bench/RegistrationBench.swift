import ArgumentParser
import Foundation
import MAMImaging
import MAMPhantoms
import MAMRegistration

struct RegistrationBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registration",
        abstract: "Rigid registration of two 1.5 L livers on 512 x 512 x 300 grids (surface extraction included)."
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        let g = RealisticCase.geometry
        let truth = Affine3D(linear: rotationMatrix(axis: SIMD3(1, 2, 3), degrees: 10), translation: SIMD3(12, -15, 8))
        let inverse = truth.inverse
        let bulge = Shape.sphere(center: SIMD3(60, 40, 10), radius: 25)
        func liver(_ p: SIMD3<Double>) -> Bool { RealisticCase.liver.contains(p) || bulge.contains(p) }
        let pre = Phantom.mask(geometry: g, inside: liver)
        let post = Phantom.mask(geometry: g) { liver(inverse.apply($0)) }
        var times: [Double] = []
        var result: RegistrationResult?
        for _ in 0..<options.repeats {
            times.append(try seconds { result = try RigidRegistration.register(preLiver: pre, postLiver: post) })
        }
        let r = result!
        let error = length(r.preToPost.apply(RealisticCase.tumour.center) - truth.apply(RealisticCase.tumour.center))
        print("registration: \(g.size) voxels at 0.7 x 0.7 x 1.0 mm, livers \(String(format: "%.0f", pre.volumeML)) mL; "
              + "10 degrees, 21 mm; error at the tumour \(String(format: "%.3f", error)) mm, \(r.quality.iterations) iterations")
        report([("RigidRegistration.register (all, incl. quality)", median(times))])
    }
}

func rotationMatrix(axis: SIMD3<Double>, degrees: Double) -> Matrix3 {
    let a = axis / length(axis)
    let t = degrees * .pi / 180
    let k = Matrix3(rows: SIMD3(0, -a.z, a.y), SIMD3(a.z, 0, -a.x), SIMD3(-a.y, a.x, 0))
    let k2 = k * k
    return Matrix3(columns: Matrix3.identity[0] + sin(t) * k[0] + (1 - cos(t)) * k2[0],
                   Matrix3.identity[1] + sin(t) * k[1] + (1 - cos(t)) * k2[1],
                   Matrix3.identity[2] + sin(t) * k[2] + (1 - cos(t)) * k2[2])
}

extension Shape {
    var center: SIMD3<Double> {
        switch self {
        case .sphere(let c, _), .ellipsoid(let c, _, _): return c
        }
    }
}
