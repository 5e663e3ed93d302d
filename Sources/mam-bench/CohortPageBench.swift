import ArgumentParser
import Foundation

struct CohortPageBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cohort-page",
        abstract: "Rebuilding a batch's tables and cohort page (mam-quantify merge) for a cohort of many tumours."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Cases, each a copy of the results of SampleCases/two-tumours (two tumours per case).")
    var cases: Int = 250

    func run() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mam-quantify").path
        let manager = FileManager.default
        let out = options.data + "/cohort-page-\(cases)"
        let first = out + "/case-0000"
        if !manager.fileExists(atPath: first + "/report.json") {
            let sample = repositoryRoot
                .appendingPathComponent("SampleCases/two-tumours").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = [sample + "/pre.nii.gz", sample + "/post.nii.gz", "--out", first, "--case-id", "case-0000", "--quiet"]
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw ValidationError("mam-quantify exited with \(process.terminationStatus)") }
        }
        for n in 1..<cases {
            let folder = out + String(format: "/case-%04d", n)
            if !manager.fileExists(atPath: folder) { try manager.copyItem(atPath: first, toPath: folder) }
        }
        var times: [Double] = []
        for _ in 0..<options.repeats {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["merge", out]
            process.standardOutput = FileHandle.nullDevice
            times.append(try timedRun(process))
            guard process.terminationStatus == 0 else { throw ValidationError("merge exited with \(process.terminationStatus)") }
        }
        let page = (try? manager.attributesOfItem(atPath: out + "/index.html")[.size] as? Int) ?? 0
        print("cohort page: \(cases) cases, \(2 * cases) tumours (copies of two-tumours' results); "
              + "mam-quantify merge rebuilds summary.csv, reports.jsonl, errors.jsonl and index.html (\(page / 1024) KiB)")
        report([("mam-quantify merge, wall time", median(times))])
    }
}
