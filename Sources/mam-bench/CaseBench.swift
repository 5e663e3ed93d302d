import ArgumentParser
import Foundation
import MAMCore
import MAMImageIO
import MAMPhantoms

struct CaseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "The whole mam-quantify command on a realistic case: two 512 x 512 x 300 label maps (.nii.gz), "
            + "reading, registration, margins, maps and report."
    )

    @OptionGroup var options: BenchOptions

    /// The patient moved between the scans: 10 degrees and 21 mm.
    static let motion = Affine3D(linear: Matrix3.rotation(axis: SIMD3(1, 2, 3), degrees: 10), translation: SIMD3(12, -15, 8))
    static let bulge = Shape.sphere(center: SIMD3(60, 40, 10), radius: 25)

    /// Writes the case once: pre (liver with a bulge, tumour) and post (the same liver moved, the
    /// ablation zone moved with it).
    static func files(in folder: String) throws -> (pre: String, post: String) {
        let pre = folder + "/case-pre-512x512x300.nii.gz", post = folder + "/case-post-512x512x300.nii.gz"
        let g = RealisticCase.geometry
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: pre) {
            try NIfTIWriter.write(Phantom.labelMap(geometry: g, shapes: [(1, RealisticCase.liver), (1, bulge), (2, RealisticCase.tumour)]),
                                  to: pre, description: "pre: 1 liver, 2 tumour")
        }
        if !FileManager.default.fileExists(atPath: post) {
            let shapes = [(UInt8(1), RealisticCase.liver), (1, bulge), (2, RealisticCase.ablationZone)].map { ($0.0, $0.1.moved(by: motion)) }
            try NIfTIWriter.write(Phantom.labelMap(geometry: g, shapes: shapes), to: post, description: "post: 1 liver, 2 ablation zone")
        }
        return (pre, post)
    }

    struct Timings: Decodable {
        let readSeconds, registrationSeconds, marginSeconds, mapsSeconds, totalSeconds: Double
    }

    struct Report: Decodable {
        struct Tumour: Decodable { let minimalMarginMM: Double? }
        let tumours: [Tumour]
        let timingsSeconds: Timings
    }

    func run() throws {
        let (pre, post) = try Self.files(in: options.data)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mam-quantify").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("\(binary) not built: run swift build -c release")
        }
        let out = options.data + "/case-out"
        var wall: [Double] = []
        var reports: [Report] = []
        for _ in 0..<options.repeats {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [pre, post, "--out", out, "--quiet"]
            wall.append(try seconds {
                try process.run()
                process.waitUntilExit()
            })
            guard process.terminationStatus == 0 else { throw ValidationError("mam-quantify exited with \(process.terminationStatus)") }
            reports.append(try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))))
        }
        let analytic = 25 - (length(SIMD3<Double>(2, 3, 2)) + 15)
        let mam = reports.last!.tumours[0].minimalMarginMM ?? .nan
        print("case: two 512 x 512 x 300 label maps (.nii.gz, 0.7 x 0.7 x 1.0 mm), livers 1.5 L, moved 10 degrees and 21 mm; "
              + String(format: "MAM %.2f mm (analytic %.2f)", mam, analytic))
        let stages: [(String, KeyPath<Timings, Double>)] = [
            ("read, hash, masks, components", \.readSeconds), ("registration", \.registrationSeconds),
            ("margin engine", \.marginSeconds), ("margin maps", \.mapsSeconds), ("total inside the process", \.totalSeconds),
        ]
        print("  " + "stage".padding(toLength: 44, withPad: " ", startingAt: 0) + "   median")
        for (name, key) in stages {
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %8.1f ms", median(reports.map { $0.timingsSeconds[keyPath: key] }) * 1000))
        }
        print("  " + "mam-quantify PRE POST, wall time".padding(toLength: 44, withPad: " ", startingAt: 0)
              + String(format: " %8.1f ms", median(wall) * 1000))
    }
}
