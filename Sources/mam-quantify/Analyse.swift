import ArgumentParser
import Foundation
import MAMCase
import MAMCohort
import MAMQC

struct Analyse: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analyse",
        abstract: "Measure the margins of one case: register, measure, write a report and margin maps.",
        discussion: """
            PRE is the pre-ablation label map (liver and tumour), POST the post-ablation label \
            map (liver and ablation zone); label values come from the protocol (default: 1 = \
            liver, 2 = tumour in PRE and ablation zone in POST). Data kept one mask per file: \
            --pre-tumour and --post-ablation (and --pre-liver, --post-liver for registration) \
            instead of PRE and POST.

            Writes into the output folder (default: mam-results/CASE in the current folder, \
            CASE being the name of the deepest folder holding all input files: p07 for \
            p07/pre/seg.nii.gz and p07/post/seg.nii.gz): report.json, the margin maps \
            margin_mm.nii.gz, margin_mask.nii.gz and margin_categories.nii.gz (on the post \
            scan's grid, cropped to the tumours: they open on top of it in any viewer), the \
            categories' colours for 3D Slicer and ITK-SNAP, and pre_to_post.tfm. A folder \
            holding another case's results (made from other input files) is not overwritten \
            without --force.

            Examples:
              mam-quantify SampleCases/sphere-5mm/pre.nii.gz \\
                  SampleCases/sphere-5mm/post.nii.gz
              mam-quantify pre.nii.gz post.nii.gz --protocol prometheus \\
                  --out results/patient-07
              mam-quantify --pre-tumour tumour.nii.gz --post-ablation zone.nii.gz \\
                  --no-registration

            Exit status: 0 done; 3 registration rejected by the protocol (report written, \
            margins flagged unreliable) or not converged; 64 bad usage; 65 an input is missing, \
            unreadable, not an image, or lacks the tumour, ablation zone or liver; 70 internal \
            error; 73 the output cannot be written or holds another case's results; 78 the \
            protocol is unknown or invalid.
            """
    )

    @Argument(help: ArgumentHelp("Pre-ablation label map (NIfTI, NRRD or .seg.nrrd, MetaImage, DICOM-SEG or RTSTRUCT): liver and tumour.", valueName: "pre"))
    var pre: String?

    @Argument(help: ArgumentHelp("Post-ablation label map: liver and ablation zone.", valueName: "post"))
    var post: String?

    @Option(help: ArgumentHelp("Pre-ablation liver mask (one structure per file).", valueName: "file"))
    var preLiver: String?

    @Option(help: ArgumentHelp("Pre-ablation tumour mask.", valueName: "file"))
    var preTumour: String?

    @Option(help: ArgumentHelp("Post-ablation liver mask.", valueName: "file"))
    var postLiver: String?

    @Option(help: ArgumentHelp("Post-ablation ablation-zone mask.", valueName: "file"))
    var postAblation: String?

    @Option(help: ArgumentHelp("Analysis protocol: a built-in name (iamcomplete, prometheus) or a YAML file.",
                               valueName: "name|file"))
    var `protocol` = AnalysisProtocol.defaultName

    @Flag(help: "The masks are co-registered already: no registration.")
    var noRegistration = false

    @Option(help: ArgumentHelp("Use this pre-to-post transform (ITK .tfm, as written by mam-quantify) instead of registering.",
                               valueName: "file"))
    var transform: String?

    @Option(help: ArgumentHelp("Output folder (default: mam-results/CASE).", valueName: "folder"))
    var out: String?

    @Option(help: ArgumentHelp("Case identifier in the report (default: the name of the deepest folder holding all input files).",
                               valueName: "id"))
    var caseId: String?

    @Flag(help: "Replace the results in the output folder even when they are another case's (made from other input files).")
    var force = false

    @Flag(help: "Write no qc.html (the page for a visual check; the protocol may turn it off too).")
    var noQC = false

    @Option(help: ArgumentHelp("The pre-ablation scan (CT), drawn under the QC page's outlines through the transform.", valueName: "file"))
    var preImage: String?

    @Option(help: ArgumentHelp("The post-ablation scan (CT), drawn under the QC page's outlines.", valueName: "file"))
    var postImage: String?

    @Flag(help: "Print the JSON report on standard output (instead of the summary).")
    var json = false

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    /// Set by `mam-quantify batch` for its workers: a failure is also recorded as error.json in
    /// the output folder, and the worker ends if the batch that started it dies.
    @Flag(help: .hidden)
    var batchWorker = false

    func validate() throws {
        let structures = [preLiver, preTumour, postLiver, postAblation].contains { $0 != nil }
        if structures {
            guard pre == nil, post == nil else {
                throw ValidationError("give either PRE and POST label maps or per-structure masks (--pre-tumour ...), not both")
            }
            guard preTumour != nil, postAblation != nil else {
                throw ValidationError("per-structure input needs at least --pre-tumour and --post-ablation")
            }
        } else {
            guard pre != nil, post != nil else {
                throw ValidationError("give the pre- and post-ablation label maps (PRE POST), or per-structure masks")
            }
        }
        if noRegistration, transform != nil {
            throw ValidationError("--no-registration and --transform exclude each other")
        }
        if let caseId, let problem = CaseID.problem(caseId) { throw ValidationError("--case-id: \(problem)") }
        if noQC, preImage != nil || postImage != nil {
            throw ValidationError("--pre-image and --post-image are drawn on the QC page, which --no-qc turns off")
        }
    }

    func run() throws {
        if batchWorker { BatchWorker.endWithParent() }
        do {
            let analysisProtocol = try AnalysisProtocol.resolve(self.protocol)
            let images: CaseRequest.Images = if let pre, let post {
                .labelMaps(pre: pre, post: post)
            } else {
                .structures(preLiver: preLiver, preTumour: preTumour!, postLiver: postLiver, postAblationZone: postAblation!)
            }
            let id = caseId ?? CaseID.derived(from: images.files.map(\.path))
            let alignment: CaseRequest.Alignment = noRegistration ? .identity : (transform.map { .transformFile($0) } ?? .protocolDefault)
            let request = CaseRequest(caseId: id, images: images, alignment: alignment, analysisProtocol: analysisProtocol)
            let folder = out ?? "mam-results/" + id
            let qc = analysisProtocol.writesQCPage && !noQC
            let scans = ScanFiles(pre: preImage, post: postImage, levelHU: analysisProtocol.qcWindowLevelHU,
                                  widthHU: analysisProtocol.qcWindowWidthHU)
            if qc {
                // Before any work: a scan that cannot be read or misses its segmentation.
                do {
                    try scans.check(preSegmentation: images.files.first { $0.role == .pre || $0.role == .preTumour }!.path,
                                    postSegmentation: images.files.first { $0.role == .post || $0.role == .postAblationZone }!.path)
                } catch {
                    throw PipelineError(stage: .input, kind: .invalidInput, message: error.description)
                }
            }
            // A batch manages its own folders; a single run keeps another case's results.
            let earlier: CasePipeline.EarlierResults = force || batchWorker ? .sameCase : CasePipeline.earlierResults(in: folder, for: images)
            if case .anotherCase(let why) = earlier {
                throw PipelineError(stage: .output, kind: .cannotWrite,
                                    message: "\(folder): holds another case's results (\(why)); give this case its own --out or --case-id, or --force to replace them")
            }
            // Cleared first, so that a failed run leaves no stale report; when whose results
            // they are cannot be told (an input is unreadable), only once the run has worked.
            if earlier != .unknown { try CasePipeline.clearEarlierResults(in: folder, errorRecord: ErrorRecord.fileName) }
            var result = try CasePipeline.run(request)
            if qc {
                do {
                    try CaseQC.attach(to: &result, scans: scans.isEmpty ? nil : scans)
                } catch .scan(let message) {
                    throw PipelineError(stage: .input, kind: .invalidInput, message: message)
                } catch {
                    throw PipelineError(stage: .output, kind: .internalFailure, message: "\(folder): the QC page: \(error)")
                }
            }
            if earlier == .unknown { try CasePipeline.clearEarlierResults(in: folder, errorRecord: ErrorRecord.fileName) }
            let (report, data) = try CasePipeline.write(result, to: folder)
            if json {
                FileHandle.standardOutput.write(data)
            } else if !quiet {
                print(Summary.text(report, folder: folder))
            }
            if report.status == .registrationRejected { throw ExitCode(ExitStatus.registrationRejected) }
        } catch let error as ProtocolError {
            printError(error.description)
            recordFailure(stage: PipelineError.Stage.analysisProtocol.rawValue, ExitStatus.invalidProtocol, error.description)
            throw ExitCode(ExitStatus.invalidProtocol)
        } catch let error as PipelineError {
            printError(error.message)
            recordFailure(stage: error.stage.rawValue, error.kind.exitStatus, error.message)
            throw ExitCode(error.kind.exitStatus)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("internal error, please report it with the command: \(error)")
            throw ExitCode(ExitStatus.internalError)
        }
    }

    /// In a batch worker, leaves the error record the batch reads.
    func recordFailure(stage: String, _ status: Int32, _ message: String) {
        guard batchWorker, let out else { return }
        try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let id = caseId ?? CaseID.derived(from: [pre, post, preLiver, preTumour, postLiver, postAblation].compactMap { $0 })
        try? ErrorRecord(caseId: id, stage: stage, exitStatus: status, reason: message).write(to: out)
    }
}
