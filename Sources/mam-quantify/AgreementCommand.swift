import ArgumentParser
import Foundation
import MAMCase
import MAMCohort
import MAMImageIO

struct AgreementCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement",
        abstract: "Agreement of two segmentations of the same structures: Dice, Jaccard, volumes, Hausdorff, HD95, ASSD, surface Dice.",
        discussion: """
            A and B are masks or label maps (two observers, or one observer twice). Label maps \
            are compared label by label; two binary masks as one structure. Distances are in mm \
            with each grid's spacing. When the grids differ, B is resampled onto A's grid by \
            nearest neighbour in world coordinates (through --transform when they come from two \
            scans; Docs/agreement.md).

            --out takes a folder, like every other command, and writes agreement.json into it; \
            a name ending in .json is taken for the file itself.

            Examples:
              mam-quantify agreement observer1/tumour.nii.gz observer2/tumour.nii.gz \\
                  --out agreement/
              mam-quantify agreement a.nii.gz b.nii.gz --out results/p07-agreement.json

            Exit status: 0 done; 64 bad usage; 65 a file is missing, unreadable or not an image, or \
            both are empty; 73 the report cannot be written.
            """
    )

    @Argument(help: ArgumentHelp("First segmentation (NIfTI, NRRD, MetaImage, DICOM-SEG or RTSTRUCT).", valueName: "a"))
    var a: String

    @Argument(help: ArgumentHelp("Second segmentation.", valueName: "b"))
    var b: String

    @Option(name: .customLong("label"), help: ArgumentHelp("Compare only this label value (repeatable).", valueName: "value"))
    var labels: [Int] = []

    @Option(help: ArgumentHelp("Tolerance of the surface Dice, mm.", valueName: "mm"))
    var toleranceMM: Double = 2

    @Option(help: ArgumentHelp("A and B come from two scans: this ITK .tfm maps A's world to B's (as pre_to_post.tfm does for A = pre, B = post).",
                               valueName: "file"))
    var transform: String?

    @Option(help: ArgumentHelp("Output folder for agreement.json (or a file name ending in .json).", valueName: "folder"))
    var out: String?

    @Flag(help: "Print the JSON report on standard output (instead of the summary).")
    var json = false

    func validate() throws {
        try Self.checkTolerance(toleranceMM)
    }

    /// The surface Dice's tolerance: 0 to 100 mm (Docs/limits.md).
    static func checkTolerance(_ mm: Double) throws {
        guard (0...100).contains(mm) else { throw ValidationError("--tolerance-mm must be from 0 to 100 mm") }
    }

    func run() throws {
        do {
            let report = try AgreementPair.run(a: a, b: b, labels: labels.isEmpty ? nil : labels, toleranceMM: toleranceMM,
                                               transformFile: transform)
            let data = try report.jsonData()
            if let out {
                var file = out
                if !out.hasSuffix(".json") {
                    do {
                        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                    } catch {
                        printError("\(out): cannot create the output folder (\(fileSystemReason(error)))")
                        throw ExitCode(ExitStatus.cannotWrite)
                    }
                    file = out + "/agreement.json"
                }
                do {
                    try AtomicFile.write(data, to: file)
                } catch {
                    printError("\(error)")  // "OUT: could not be written (reason)"
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
            throw ExitCode(error.kind.exitStatus)
        }
    }

    static func summary(_ r: AgreementReport) -> String {
        var lines = ["A \(r.inputs[0].path)", "B \(r.inputs[1].path)" + (r.bResampledOntoA ? " (resampled onto A's grid)" : "")]
        func mm(_ x: Double?) -> String { x.map { String(format: "%.2f mm", $0) } ?? "undefined" }
        for m in r.labels {
            // A segment paired by name: "liver" (A's label 1, B's label 2).
            let name = m.segment.map { "\"\($0)\" (label \(m.label) / \(m.labelB.map(String.init) ?? "none"))" } ?? "label \(m.label)"
            var line = name + String(format: ": Dice %.4f, Jaccard %.4f, volumes %.2f / %.2f mL", m.dice, m.jaccard, m.volumeAML, m.volumeBML)
            if let p = m.volumeDifferencePercent { line += String(format: " (%+.1f%%)", p) }
            line += "; Hausdorff \(mm(m.hausdorffMM)), HD95 \(mm(m.hausdorff95MM)), ASSD \(mm(m.averageSymmetricSurfaceDistanceMM))"
            if let s = m.surfaceDice { line += String(format: ", surface Dice at %g mm %.4f", m.toleranceMM, s) }
            if let reason = m.distancesUndefinedReason { line += " (\(reason))" }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}

struct AgreementCohortCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agreement-cohort",
        abstract: "Observer agreement over a cohort: metric summaries, and for full cases ICC, Bland-Altman and kappa of the MAM.",
        discussion: """
            COHORT holds one sub-folder per case with a.nii.gz and b.nii.gz (two segmentations of \
            one scan) or a_pre, a_post, b_pre, b_post (.nii.gz). Or --manifest pairs observer A \
            with observer B (or session 1 with session 2) per case: a CSV with the columns case_id, a, b (two segmentations of one scan) or case_id, a_pre, \
            a_post, b_pre, b_post (each observer's full case: their pre and post label maps). \
            Full cases also go through the margin pipeline for each observer; a case's MAM is its \
            smallest tumour margin. Writes into the output folder: agreement-cohort.json (mean, \
            SD, median, range of each metric per structure; ICC(2,1) and ICC(3,1) with 95% \
            confidence intervals, Bland-Altman bias and limits of agreement, Cohen's kappa of \
            the protocol's margin categories), agreement-cohort.csv (one row per case and \
            structure), dice.svg and, for full cases, bland-altman.svg and cases/<case>/a|b/.

            Example:
              mam-quantify agreement-cohort observers/ --out agreement/
              mam-quantify agreement-cohort --manifest observers.csv --out agreement/

            Exit status: 0 done; 4 some pairs failed (listed in the JSON); 66 nothing could run; \
            64 bad usage; 78 invalid protocol.
            """
    )

    @Argument(help: ArgumentHelp("Cohort folder: one sub-folder per case with a.nii.gz and b.nii.gz, or a_pre, a_post, b_pre, b_post.",
                                 valueName: "cohort"))
    var cohort: String?

    @Option(help: ArgumentHelp("CSV pairing the observers' files, instead of a cohort folder.", valueName: "file"))
    var manifest: String?

    func validate() throws {
        guard (cohort == nil) != (manifest == nil) else { throw ValidationError("give a cohort folder or --manifest, one of them") }
        try AgreementCommand.checkTolerance(toleranceMM)
    }

    @Option(help: ArgumentHelp("Output folder.", valueName: "folder"))
    var out: String

    @Option(help: ArgumentHelp("Analysis protocol for the margins: a built-in name or a YAML file.", valueName: "name|file"))
    var `protocol` = AnalysisProtocol.defaultName

    @Option(help: ArgumentHelp("Tolerance of the surface Dice, mm.", valueName: "mm"))
    var toleranceMM: Double = 2

    func run() throws {
        let analysisProtocol = try resolveProtocol(self.protocol)
        let pairs: [AgreementCase]
        do {
            pairs = try manifest.map { try AgreementCohort.manifest($0) } ?? AgreementCohort.discover(cohort!)
        } catch {
            printError("\(error)")
            throw ExitCode(BatchExit.nothingRan)
        }
        let result = AgreementCohort.run(pairs, analysisProtocol: analysisProtocol, toleranceMM: toleranceMM,
                                         casesFolder: out + "/cases") { id, failure in
            print(failure.map { "\(id): FAILED: \($0)" } ?? "\(id): done")
        }
        try AgreementCohort.write(result, to: out)
        let report = result.report
        print(Self.summary(report))
        if report.pairs == 0 { throw ExitCode(BatchExit.nothingRan) }
        if !report.failures.isEmpty { throw ExitCode(BatchExit.someFailed) }
    }

    static func summary(_ r: AgreementCohortReport) -> String {
        var lines = ["\(r.pairs) pairs analysed, \(r.failures.count) failed"]
        for s in r.structures {
            if let d = s.dice {
                lines.append(String(format: "%@: Dice mean %.3f (SD %.3f), median %.3f, range %.3f-%.3f", s.structure, d.mean, d.sd ?? 0,
                                    d.median, d.minimum, d.maximum))
            }
        }
        if let m = r.margins {
            if let icc = m.intraclassCorrelation {
                lines.append(String(format: "MAM ICC(2,1) %.3f (95%% CI %.3f to %.3f), ICC(3,1) %.3f (%.3f to %.3f), %d cases",
                                    icc.icc21.value, icc.icc21.lower ?? .nan, icc.icc21.upper ?? .nan,
                                    icc.icc31.value, icc.icc31.lower ?? .nan, icc.icc31.upper ?? .nan, m.pairs))
            }
            if let ba = m.blandAltman {
                lines.append(String(format: "MAM Bland-Altman: bias %.2f mm, limits of agreement %.2f to %.2f mm",
                                    ba.biasMM, ba.lowerLimitMM, ba.upperLimitMM))
            }
            if let k = m.categoryKappa {
                lines.append("MAM categories: kappa " + (k.kappa.map { String(format: "%.3f", $0) } ?? "undefined")
                             + ", linear weighted " + (k.linearWeightedKappa.map { String(format: "%.3f", $0) } ?? "undefined"))
            }
        }
        return lines.joined(separator: "\n")
    }
}
