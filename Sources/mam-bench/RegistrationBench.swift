import ArgumentParser
import Foundation
import MAMCore
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
        let truth = Affine3D(linear: Matrix3.rotation(axis: SIMD3(1, 2, 3), degrees: 10), translation: SIMD3(12, -15, 8))
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
        let tumour = RealisticCase.tumour.center
        let error = length(r.preToPost.apply(tumour) - truth.apply(tumour))
        print("registration: \(g.size) voxels at 0.7 x 0.7 x 1.0 mm, livers \(String(format: "%.0f", pre.volumeML)) mL; "
              + "10 degrees, 21 mm; error at the tumour \(String(format: "%.3f", error)) mm, \(r.quality.iterations) iterations")
        var rows = [("mam-quantify register (masks to verdict)", median(times))]
        if let python = ProcessInfo.processInfo.environment["MAMQ_PYTHON"] {
            // Open3D on the same samples, from the same start (centroids aligned).
            let settings = RegistrationSettings()
            let source = SurfaceSample(mask: pre, spacingMM: settings.sourceSpacingMM)
            let target = SurfaceSample(mask: post, spacingMM: settings.targetSpacingMM)
            let targetCentre: SIMD3<Double> = target.points.reduce(.zero, +) / Double(target.points.count)
            let sourceCentre: SIMD3<Double> = source.points.reduce(.zero, +) / Double(source.points.count)
            let shift = targetCentre - sourceCentre
            try FileManager.default.createDirectory(atPath: options.data, withIntermediateDirectories: true)
            func dump(_ points: [SIMD3<Double>], _ name: String) throws -> String {
                let path = options.data + "/" + name
                let values: [Double] = points.flatMap { [$0.x, $0.y, $0.z] }
                try values.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: path))
                return path
            }
            let initPath = options.data + "/open3d-init.json"
            try JSONSerialization.data(withJSONObject: Affine3D(linear: .identity, translation: shift).matrix4x4)
                .write(to: URL(fileURLWithPath: initPath))
            let out = try runPython(python, "Tests/Tools/open3d_icp.py",
                                    [try dump(source.points, "open3d-source.f64"), try dump(target.points, "open3d-target.f64"),
                                     initPath, "\(options.repeats)"])
            let json = try JSONSerialization.jsonObject(with: out) as! [String: Any]
            let m = json["transform"] as! [[Double]]
            let theirs = Affine3D(matrix4x4: m)!
            rows.append(("Open3D point-to-plane ICP (normals + ICP)", json["seconds"] as! Double))
            print(String(format: "  Open3D error at the tumour %.3f mm (same samples, same start)",
                         length(theirs.apply(tumour) - truth.apply(tumour))))
        }
        report(rows)
    }
}

extension Shape {
    var center: SIMD3<Double> {
        switch self {
        case .sphere(let c, _), .ellipsoid(let c, _, _): return c
        }
    }
}

/// Runs a helper from Tests/Tools with the given python and returns its standard output.
func runPython(_ python: String, _ script: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = [repositoryRoot.appendingPathComponent(script).path] + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw ValidationError("\(script) failed") }
    return data
}
