import ArgumentParser
import Foundation
import MAMCore
import MAMImageIO
import MAMPhantoms

/// Benchmarks, run as `scripts/bench` (release build). Each compares against a reference
/// measured in the same run and prints the ratio; Docs/benchmarks.md records the figures.
@main
struct MAMBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mam-bench",
        abstract: "mam-quantify's benchmarks (build with -c release).",
        subcommands: [NIfTIRead.self, EDTBench.self, MarginBench.self, RegistrationBench.self, CaseBench.self, CohortBench.self, CohortPageBench.self, OutcomesBench.self, AgreementBench.self, TrustBench.self]
    )
}

struct BenchOptions: ParsableArguments {
    @Option(help: "Folder for generated benchmark data (created; reused across runs).")
    var data: String = "bench-data"

    @Option(help: "Timed repetitions per contender; the median is reported.")
    var repeats: Int = 7
}

/// The realistic CT-sized case: 512 x 512 x 300 at 0.7 x 0.7 x 1.0 mm, a 1.5 L liver
/// (ellipsoid 100 x 80 x 45 mm) holding a 3 cm tumour.
enum RealisticCase {
    static let geometry = ImageGeometry(size: GridSize(512, 512, 300), spacing: SIMD3(0.7, 0.7, 1.0),
                                        origin: SIMD3(-179, -179, -150))
    static let liver = Shape.ellipsoid(center: SIMD3(0, 0, 0), radii: SIMD3(100, 80, 45), axes: .identity)
    static let tumour = Shape.sphere(center: SIMD3(20, -10, 5), radius: 15)
    /// A 5 cm ablation zone around the tumour, 4 mm off its centre.
    static let ablationZone = Shape.sphere(center: SIMD3(22, -7, 7), radius: 25)

    /// Writes the pre-ablation label map once and returns its path.
    static func preLabels(in folder: String) throws -> String {
        let path = folder + "/pre-512x512x300.nii.gz"
        if !FileManager.default.fileExists(atPath: path) {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let labels = Phantom.labelMap(geometry: geometry, shapes: [(1, liver), (2, tumour)])
            try NIfTIWriter.write(labels, to: path)
        }
        return path
    }
}

/// Runs `process` and waits for it to end; its wall time in seconds. Foundation's
/// `waitUntilExit` on Linux polls every 50 ms, which added up to 50 ms to a measured command:
/// this waits for the termination handler instead.
func timedRun(_ process: Process) throws -> Double {
    let ended = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in ended.signal() }
    return try seconds {
        try process.run()
        ended.wait()
    }
}

/// The repository's folder (sample cases, Python tools), from this file's place in it.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Times `body` once, in seconds.
func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Prints one line per contender: median time and its ratio to the first row's.
func report(_ rows: [(String, Double)]) {
    let referenceTime = rows[0].1
    print("  " + "contender".padding(toLength: 44, withPad: " ", startingAt: 0) + "   median    ratio to first")
    for (name, time) in rows {
        let label = "  " + name.padding(toLength: 44, withPad: " ", startingAt: 0)
        print(label + String(format: " %8.1f ms   %5.2fx", time * 1000, time / referenceTime))
    }
}
