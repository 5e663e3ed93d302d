import ArgumentParser
import Foundation
import MAMAgreement
import MAMImageIO
import MAMPhantoms

struct AgreementBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "All segmentation-agreement metrics of two 1.5 L livers on 512 x 512 x 300 anisotropic grids; "
            + "SimpleITK's HausdorffDistance on the same masks as the reference (MAMQ_PYTHON)."
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        let g = RealisticCase.geometry
        // Observer 2's liver: 2 mm larger along one axis, 1.5 mm shifted, with the same bulge.
        let bulge = CaseBench.bulge
        let a = Phantom.labelMap(geometry: g, shapes: [(1, RealisticCase.liver), (1, bulge)]).map { $0 == 1 }
        let b = Phantom.labelMap(geometry: g, shapes: [
            (1, .ellipsoid(center: SIMD3(1.5, 0, 0), radii: SIMD3(102, 80, 45), axes: .identity)), (1, bulge),
        ]).map { $0 == 1 }
        var times: [Double] = []
        var metrics: SegmentationMetrics?
        for _ in 0..<options.repeats {
            times.append(seconds { metrics = SegmentationAgreement.compare(a, b) })
        }
        let m = metrics!
        print(String(format: "agreement: two livers of %.0f and %.0f mL on 512 x 512 x 300 at 0.7 x 0.7 x 1.0 mm; Dice %.4f, "
                     + "HD %.2f mm, HD95 %.2f mm, ASSD %.3f mm, surface Dice (2 mm) %.4f", m.volumeAML, m.volumeBML, m.dice,
                     m.hausdorffMM!, m.hausdorff95MM!, m.averageSymmetricSurfaceDistanceMM!, m.surfaceDice!))
        var rows = [("mam-quantify, all metrics", median(times))]
        if let python = ProcessInfo.processInfo.environment["MAMQ_PYTHON"] {
            try FileManager.default.createDirectory(atPath: options.data, withIntermediateDirectories: true)
            let (pathA, pathB) = (options.data + "/agreement-a.nii.gz", options.data + "/agreement-b.nii.gz")
            try NIfTIWriter.write(a, to: pathA)
            try NIfTIWriter.write(b, to: pathB)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            let script = repositoryRoot.appendingPathComponent("Tests/Tools/sitk_hausdorff_timing.py").path
            process.arguments = [script, pathA, pathB, "\(max(1, options.repeats / 3))"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let parts = text.split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            guard parts.count == 2 else { throw ValidationError("sitk_hausdorff_timing.py failed") }
            print(String(format: "  SimpleITK Hausdorff distance: %.3f mm", parts[1]))
            rows.append(("SimpleITK HausdorffDistance only", parts[0]))
        }
        report(rows)
    }
}
