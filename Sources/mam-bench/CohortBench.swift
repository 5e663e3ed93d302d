import ArgumentParser
import Foundation

struct CohortBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort",
        abstract: "Cohort throughput of mam-quantify batch on realistic CT-sized cases, with 1 and 2 workers."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Cases in the cohort (copies of the realistic case).")
    var cases: Int = 8

    func run() throws {
        let (pre, post) = try CaseBench.files(in: options.data)
        let cohort = options.data + "/cohort"
        let manager = FileManager.default
        for i in 0..<cases {
            let folder = cohort + String(format: "/case-%02d", i)
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (source, name) in [(pre, "pre.nii.gz"), (post, "post.nii.gz")] where !manager.fileExists(atPath: folder + "/" + name) {
                try manager.linkItem(atPath: source, toPath: folder + "/" + name)
            }
        }
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mam-quantify").path
        print("cohort: \(cases) cases of two 512 x 512 x 300 label maps (.nii.gz), as in `case`; "
              + "mam-quantify batch --force, one single-threaded worker per case")
        var rates: [Int: Double] = [:]
        // Alternate 1 and 2 workers so that both see the same machine state.
        var times: [Int: [Double]] = [1: [], 2: []]
        for _ in 0..<max(1, options.repeats / 3) {
            for jobs in [1, 2] {
                let out = options.data + "/cohort-out-\(jobs)"
                let process = Process()
                process.executableURL = URL(fileURLWithPath: binary)
                process.arguments = ["batch", cohort, "--out", out, "--jobs", "\(jobs)", "--force"]
                process.standardOutput = FileHandle.nullDevice
                times[jobs]!.append(try timedRun(process))
                guard process.terminationStatus == 0 else { throw ValidationError("batch exited with \(process.terminationStatus)") }
            }
        }
        print("  " + "workers".padding(toLength: 44, withPad: " ", startingAt: 0) + "   median   cases/min   ratio to 1 worker")
        for jobs in [1, 2] {
            let t = median(times[jobs]!)
            rates[jobs] = Double(cases) / t * 60
            print("  " + "\(jobs)".padding(toLength: 44, withPad: " ", startingAt: 0)
                  + String(format: " %7.2f s   %8.1f   %5.2fx", t, rates[jobs]!, rates[jobs]! / (rates[1] ?? rates[jobs]!)))
        }
    }
}
