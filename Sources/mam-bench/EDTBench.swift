import ArgumentParser
import Foundation
import MAMSurface
import MAMPhantoms

struct EDTBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edt",
        abstract: "Full-volume signed EDT on 512 x 512 x 300 at 0.7 x 0.7 x 1.0 mm vs the Python package edt (unsigned, one thread)."
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        guard let python = ProcessInfo.processInfo.environment["MAMQ_PYTHON"] else {
            throw ValidationError("set MAMQ_PYTHON to a python with the package edt (scripts/bench does)")
        }
        let g = RealisticCase.geometry
        let masks: [(String, Shape)] = [("liver 1.5 L", RealisticCase.liver), ("ablation zone 5 cm", RealisticCase.ablationZone)]
        print("edt: \(g.size) voxels, spacing 0.7 x 0.7 x 1.0 mm, \(ProcessInfo.processInfo.activeProcessorCount) cores")
        try FileManager.default.createDirectory(atPath: options.data, withIntermediateDirectories: true)
        for (name, shape) in masks {
            let mask = Phantom.labelMap(geometry: g, shapes: [(1, shape)]).map { $0 == 1 }
            let raw = options.data + "/edt-mask.u8"
            try Data(mask.voxels.map { $0 ? 1 : 0 }).write(to: URL(fileURLWithPath: raw))
            let reference = try edtSeconds(python: python, raw: raw, spacing: g.spacing)
            var ours: [Double] = []
            var unsigned: [Double] = []
            for _ in 0..<options.repeats {
                ours.append(seconds { _ = DistanceTransform.signedDistance(mask) })
                unsigned.append(seconds { _ = DistanceTransform.distance(to: mask) })
            }
            print("\(name) mask (\(mask.count) voxels):")
            report([("Python edt.edt, unsigned, parallel=1", reference),
                     ("mam-quantify signedDistance (2 transforms)", median(ours)),
                     ("mam-quantify distance (unsigned)", median(unsigned))])
        }
    }

    func edtSeconds(python: String, raw: String, spacing: SIMD3<Double>) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        let script = repositoryRoot.appendingPathComponent("Tests/Tools/edt_timing.py").path
        let s = RealisticCase.geometry.size
        process.arguments = [script, raw, "\(s.x)", "\(s.y)", "\(s.z)", "\(spacing.x)", "\(spacing.y)", "\(spacing.z)",
                             "\(options.repeats)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0, let value = Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw ValidationError("edt_timing.py failed")
        }
        return value
    }
}
