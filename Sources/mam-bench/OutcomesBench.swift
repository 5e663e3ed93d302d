import ArgumentParser
import Foundation

struct OutcomesBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcomes",
        abstract: "The outcome analysis (mam-quantify outcomes) of a simulated trial, 1,000 bootstrap resamples."
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Tumours of the simulated trial (Tests/Tools/outcome_cohort.py, two per patient).")
    var tumours: Int = 1000

    func run() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mam-quantify").path
        let out = options.data + "/outcomes-\(tumours)"
        func launch(_ executable: String, _ arguments: [String]) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.standardOutput = FileHandle.nullDevice
            return process
        }
        if !FileManager.default.fileExists(atPath: out + "/follow_up.csv") {
            let sample = repositoryRoot.appendingPathComponent("SampleCases/two-tumours").path
            let template = try launch(binary, [sample + "/pre.nii.gz", sample + "/post.nii.gz", "--out", out + "/template", "--no-qc", "--quiet"])
            try template.run()
            template.waitUntilExit()
            guard let python = ProcessInfo.processInfo.environment["MAMQ_PYTHON"] else { throw ValidationError("set MAMQ_PYTHON (scripts/bench does)") }
            let simulate = try launch(python, [repositoryRoot.appendingPathComponent("Tests/Tools/outcome_cohort.py").path, out + "/template/report.json",
                                               out, "normal", "--tumours", "\(tumours)"])
            try simulate.run()
            simulate.waitUntilExit()
            guard template.terminationStatus == 0, simulate.terminationStatus == 0 else { throw ValidationError("could not make the trial") }
        }
        var times: [Double] = []
        for _ in 0..<options.repeats {
            let process = try launch(binary, ["outcomes", out + "/results", "--follow-up", out + "/follow_up.csv", "--out", out + "/outcomes",
                                              "--bootstrap", "1000"])
            times.append(try timedRun(process))
            guard process.terminationStatus == 0 else { throw ValidationError("outcomes exited with \(process.terminationStatus)") }
        }
        print("outcomes: a simulated trial of \(tumours) tumours (\(tumours / 2) patients); every analysis, 4 margin figures, "
              + "1,000 patient-bootstrap resamples each, outcomes.json, tables and plots")
        report([("mam-quantify outcomes, wall time", median(times))])
    }
}
