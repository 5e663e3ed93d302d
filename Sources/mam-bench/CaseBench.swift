import ArgumentParser
import Foundation
import MAMCore
import MAMCase
import MAMImageIO
import MAMPhantoms

struct CaseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "The whole mam-quantify command on a realistic case: two 512 x 512 x 300 label maps (.nii.gz), "
            + "reading, registration, margins, maps and report."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Tumours in the case: 1 (the 3 cm tumour) or more (radius 6 mm each, on a lattice in the liver, each in a zone of radius 11 mm 1 mm off its centre: MAM 4 mm).")
    var tumours = 1

    /// The patient moved between the scans: 10 degrees and 21 mm.
    static let motion = Affine3D(linear: Matrix3.rotation(axis: SIMD3(1, 2, 3), degrees: 10), translation: SIMD3(12, -15, 8))
    static let bulge = Shape.sphere(center: SIMD3(60, 40, 10), radius: 25)

    /// Writes the case once: pre (liver with a bulge, tumour) and post (the same liver moved, the
    /// ablation zone moved with it). With `tumours` > 1, that many small tumours and zones on a
    /// lattice in the liver instead (issue 20's "twenty tumours in one case").
    static func files(in folder: String, tumours count: Int = 1) throws -> (pre: String, post: String) {
        let name = count == 1 ? "case" : "case-\(count)t"
        let pre = folder + "/\(name)-pre-512x512x300.nii.gz", post = folder + "/\(name)-post-512x512x300.nii.gz"
        let g = RealisticCase.geometry
        var tumourShapes = [RealisticCase.tumour], zoneShapes = [RealisticCase.ablationZone]
        if count > 1 {
            let lattice = [-60.0, -30, 0, 30, 60].flatMap { x in [-40.0, 0, 40].flatMap { y in [-15.0, 15].map { z in SIMD3(x, y, z) } } }
            precondition(count <= lattice.count, "at most \(lattice.count) tumours")
            tumourShapes = lattice.prefix(count).map { .sphere(center: $0, radius: 6) }
            zoneShapes = lattice.prefix(count).map { .sphere(center: $0 + SIMD3(1, 0, 0), radius: 11) }
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: pre) {
            let shapes: [(label: UInt8, shape: Shape)] = [(1, RealisticCase.liver), (1, bulge)] + tumourShapes.map { (2, $0) }
            try NIfTIWriter.write(Phantom.labelMap(geometry: g, shapes: shapes), to: pre, description: "pre: 1 liver, 2 tumour")
        }
        if !FileManager.default.fileExists(atPath: post) {
            let unmoved: [(label: UInt8, shape: Shape)] = [(1, RealisticCase.liver), (1, bulge)] + zoneShapes.map { (2, $0) }
            let shapes = unmoved.map { (label: $0.label, shape: $0.shape.moved(by: motion)) }
            try NIfTIWriter.write(Phantom.labelMap(geometry: g, shapes: shapes), to: post, description: "post: 1 liver, 2 ablation zone")
        }
        return (pre, post)
    }

    struct Timings: Decodable {
        let readSeconds, registrationSeconds, localRefinementSeconds, marginSeconds, uncertaintySeconds, mapsSeconds, totalSeconds: Double
    }

    struct Report: Decodable {
        struct Uncertainty: Decodable { let minimalMarginInterval95MM: [Double] }
        struct Tumour: Decodable { let minimalMarginMM: Double?; let uncertainty: Uncertainty? }
        let tumours: [Tumour]
        let timingsSeconds: Timings
    }

    /// The default protocol with the local refinement and the uncertainty turned off (issue 14's
    /// "with and without them").
    static func protocolWithout(in folder: String) throws -> String {
        let path = folder + "/iamcomplete-without-local-and-uncertainty.yaml"
        var text = AnalysisProtocol.builtInTexts.first { $0.name == AnalysisProtocol.defaultName }!.text
        text = text.replacingOccurrences(of: "    sigma_mm: 30 ", with: "    sigma_mm: null ")
            .replacingOccurrences(of: "  uncertainty: true ", with: "  uncertainty: false ")
            .replacingOccurrences(of: "name: iamcomplete", with: "name: iamcomplete-without")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func run() throws {
        guard (1...30).contains(tumours) else { throw ValidationError("--tumours must be from 1 to 30") }
        let (pre, post) = try Self.files(in: options.data, tumours: tumours)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mam-quantify").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("\(binary) not built: run swift build -c release")
        }
        let without = try Self.protocolWithout(in: options.data)
        let out = options.data + (tumours == 1 ? "/case-out" : "/case-\(tumours)t-out")
        let contenders: [(name: String, arguments: [String])] = [
            ("default (QC page, local fit, uncertainty)", []), ("--no-qc", ["--no-qc"]),
            ("--no-qc, no local fit nor uncertainty", ["--no-qc", "--protocol", without]),
        ]
        // The reference: a competent Python pipeline (Tests/Tools/python_pipeline.py: nibabel,
        // scipy, Open3D), when MAMQ_PYTHON names a Python that has them (scripts/bench does).
        let python = ProcessInfo.processInfo.environment["MAMQ_PYTHON"]
        let pipeline = repositoryRoot.appendingPathComponent("Tests/Tools/python_pipeline.py").path
        // Alternating, so that all see the same machine state.
        var wall = [[Double]](repeating: [], count: contenders.count)
        var reports = [[Report]](repeating: [], count: contenders.count)
        var pythonWall: [Double] = []
        for _ in 0..<options.repeats {
            for (n, contender) in contenders.enumerated() {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = [pre, post, "--out", out, "--quiet"] + contender.arguments
                wall[n].append(try timedRun(process))
                guard process.terminationStatus == 0 else { throw ValidationError("mam-quantify exited with \(process.terminationStatus)") }
                reports[n].append(try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))))
            }
            if let python {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: python)
                process.arguments = [pipeline, pre, post, out + "/python-pipeline.json"]
                pythonWall.append(try timedRun(process))
                guard process.terminationStatus == 0 else { throw ValidationError("python_pipeline.py exited with \(process.terminationStatus)") }
            }
        }
        let analytic = tumours == 1 ? 25 - (length(SIMD3<Double>(2, 3, 2)) + 15) : 4
        // The smallest MAM of the case (the one tumour's, or the lattice's).
        let tumour = reports[0].last!.tumours.min { ($0.minimalMarginMM ?? .infinity) < ($1.minimalMarginMM ?? .infinity) }!
        let interval = tumour.uncertainty.map { String(format: " (95%%: %.2f to %.2f mm)", $0.minimalMarginInterval95MM[0], $0.minimalMarginInterval95MM[1]) } ?? ""
        print("case: two 512 x 512 x 300 label maps (.nii.gz, 0.7 x 0.7 x 1.0 mm), livers 1.5 L, moved 10 degrees and 21 mm, "
              + "\(reports[0].last!.tumours.count) tumour(s); "
              + String(format: "MAM %.2f mm", tumour.minimalMarginMM ?? .nan) + interval
              + String(format: ", without local fit %.2f mm (analytic %.2f)",
                       reports[2].last!.tumours.compactMap(\.minimalMarginMM).min() ?? .nan, analytic))
        let stages: [(String, KeyPath<Timings, Double>)] = [
            ("read, hash, masks, components", \.readSeconds), ("registration", \.registrationSeconds),
            ("local refinement", \.localRefinementSeconds), ("margin engine", \.marginSeconds),
            ("uncertainty", \.uncertaintySeconds), ("margin maps", \.mapsSeconds), ("total inside the process", \.totalSeconds),
        ]
        print("  " + "stage (median ms)".padding(toLength: 44, withPad: " ", startingAt: 0)
              + contenders.map { $0.name.padding(toLength: 14, withPad: " ", startingAt: 0) }.map { String($0.prefix(14)) }.joined(separator: " "))
        func row(_ name: String, _ values: [Double]) {
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + values.map { String(format: "%14.1f", $0 * 1000) }.joined(separator: " "))
        }
        for (name, key) in stages { row(name, reports.map { r in median(r.map { $0.timingsSeconds[keyPath: key] }) }) }
        row("mam-quantify PRE POST, wall time", wall.map(median))
        if !pythonWall.isEmpty {
            struct PythonResult: Decodable { let mam_mm: Double }
            let result = try JSONDecoder().decode(PythonResult.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/python-pipeline.json")))
            print(String(format: "  Python pipeline (nibabel, scipy, Open3D), wall time: %.1f ms, MAM %.2f mm; mam-quantify is %.1fx, %.1fx and %.1fx as fast",
                         median(pythonWall) * 1000, result.mam_mm, median(pythonWall) / median(wall[0]), median(pythonWall) / median(wall[1]),
                         median(pythonWall) / median(wall[2])))
        }
        print(String(format: "  added by the QC page (wall, medians): %.1f ms", (median(wall[0]) - median(wall[1])) * 1000))
        print(String(format: "  added by the local refinement and the uncertainty (wall, medians): %.1f ms", (median(wall[1]) - median(wall[2])) * 1000))
    }
}
