import ArgumentParser
import Foundation
import MAMPipeline

struct AgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Agreement of two segmentations of the same structures: Dice, Jaccard, volumes, Hausdorff, HD95, ASSD, surface Dice.",
        discussion: """
            A and B are masks or label maps (two observers, or one observer twice). Label maps \
            are compared label by label; two binary masks as one structure. Distances are in mm \
            with each grid's spacing. When the grids differ, B is resampled onto A's grid by \
            nearest neighbour in world coordinates (Docs/agreement.md).

            Example:
              mam-quantify agreement observer1/tumour.nii.gz observer2/tumour.nii.gz --out agreement.json

            Exit status: 0 done; 64 bad usage; 65 a file is missing, unreadable or not NIfTI, or \
            both are empty; 73 the report cannot be written.
            """
    )

    @Argument(help: ArgumentHelp("First segmentation (.nii or .nii.gz).", valueName: "a"))
    var a: String

    @Argument(help: ArgumentHelp("Second segmentation.", valueName: "b"))
    var b: String

    @Option(name: .customLong("label"), help: ArgumentHelp("Compare only this label value (repeatable).", valueName: "value"))
    var labels: [Int] = []

    @Option(help: ArgumentHelp("Tolerance of the surface Dice, mm.", valueName: "mm"))
    var toleranceMM: Double = 2

    @Option(help: ArgumentHelp("Write the JSON report to this file.", valueName: "file"))
    var out: String?

    @Flag(help: "Print the JSON report on standard output (instead of the summary).")
    var json = false

    func validate() throws {
        guard toleranceMM >= 0, toleranceMM.isFinite else { throw ValidationError("--tolerance-mm must be a number >= 0") }
    }

    func run() throws {
        do {
            let report = try AgreementPair.run(a: a, b: b, labels: labels.isEmpty ? nil : labels, toleranceMM: toleranceMM)
            let data = try report.jsonData()
            if let out {
                do {
                    try CohortSummary.writeAtomically(data, to: out)
                } catch {
                    printError("\(out): cannot be written (\(error))")
                    throw ExitCode(ExitStatus.cannotWrite)
                }
            }
            if json {
                FileHandle.standardOutput.write(data)
            } else {
                print(Self.summary(report))
            }
        } catch let error as PipelineError {
            printError(error.message)
            throw ExitCode(error.exitStatus)
        }
    }

    static func summary(_ r: AgreementReport) -> String {
        var lines = ["A \(r.inputs[0].path)", "B \(r.inputs[1].path)" + (r.bResampledOntoA ? " (resampled onto A's grid)" : "")]
        func mm(_ x: Double?) -> String { x.map { String(format: "%.2f mm", $0) } ?? "undefined" }
        for m in r.labels {
            var line = String(format: "label %d: Dice %.4f, Jaccard %.4f, volumes %.2f / %.2f mL", m.label, m.dice, m.jaccard,
                              m.volumeAML, m.volumeBML)
            if let p = m.volumeDifferencePercent { line += String(format: " (%+.1f%%)", p) }
            line += "; Hausdorff \(mm(m.hausdorffMM)), HD95 \(mm(m.hausdorff95MM)), ASSD \(mm(m.averageSymmetricSurfaceDistanceMM))"
            if let s = m.surfaceDice { line += String(format: ", surface Dice at %g mm %.4f", m.toleranceMM, s) }
            if let reason = m.distancesUndefinedReason { line += " (\(reason))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
