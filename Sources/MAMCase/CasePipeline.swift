public import Foundation
public import MAMCore
public import MAMMargin
import MAMImageIO
import MAMRegistration

/// mam-quantify's version, written into every report.
public let toolVersion = "0.12.2"

/// One case to analyse: its images, how pre and post are aligned, and the protocol.
public struct CaseRequest: Sendable {
    public enum Images: Sendable {
        /// A pre-ablation label map (liver + tumour) and a post-ablation one (liver + zone);
        /// label values from the protocol.
        case labelMaps(pre: String, post: String)
        /// One mask per file; any non-zero voxel belongs to the structure. The livers are
        /// needed for registration (and restrict the peri-tumoural shells).
        case structures(preLiver: String?, preTumour: String, postLiver: String?, postAblationZone: String)

        /// Every file named, with its role, in the order reports list them.
        public var files: [(role: FileRole, path: String)] {
            switch self {
            case .labelMaps(let pre, let post):
                return [(.pre, pre), (.post, post)]
            case .structures(let preLiver, let preTumour, let postLiver, let zone):
                return [(.preLiver, preLiver), (.preTumour, preTumour), (.postLiver, postLiver), (.postAblationZone, zone)]
                    .compactMap { role, path in path.map { (role, $0) } }
            }
        }
    }

    /// What a file is to a case (`role` in reports).
    public enum FileRole: String, Sendable, Codable {
        case pre, post
        case preLiver = "pre-liver", preTumour = "pre-tumour", postLiver = "post-liver"
        case postAblationZone = "post-ablation-zone"
        case transform
    }

    public enum Alignment: Sendable, Equatable {
        /// As the protocol says: rigid ICP of the livers, or none.
        case protocolDefault
        /// The masks are co-registered already: identity.
        case identity
        /// A pre-to-post transform from an ITK .tfm file (as mam-quantify writes them).
        case transformFile(String)
    }

    public var caseId: String
    public var images: Images
    public var alignment: Alignment
    public var analysisProtocol: AnalysisProtocol

    public init(caseId: String, images: Images, alignment: Alignment = .protocolDefault, analysisProtocol: AnalysisProtocol) {
        self.caseId = caseId
        self.images = images
        self.alignment = alignment
        self.analysisProtocol = analysisProtocol
    }
}

/// What a case produced, before anything is written.
public struct CaseResult: Sendable {
    public var report: CaseReport
    public var maps: MarginMaps?
    public var preToPost: Affine3D
    /// The structures as measured, for pictures of the case.
    public let scene: CaseScene
    /// More files for the output folder (the QC page and its images), written before the report.
    public var alongside: [(name: String, data: Data)] = []
    /// When the analysis started (for the total time, which ends once the files are written).
    let started: ContinuousClock.Instant
}

/// The masks a case was measured on and the transforms that measured it: what a picture of
/// the case needs, in the report's order of tumours.
public struct CaseScene: Sendable {
    /// Nil when the case has no such mask (per-structure input without livers).
    public let preLiver: Mask?
    public let postLiver: Mask?
    public let ablationZone: Mask
    /// Each tumour on its crop of the pre-ablation grid.
    public let tumours: [Mask]
    /// The transform each tumour was measured with (its local fit, or the whole-liver one).
    public let tumourPreToPost: [Affine3D]
    /// The whole-liver (or given) pre-to-post transform.
    public let preToPost: Affine3D
}

/// Runs the stages for one case: read, register, measure, map.
public enum CasePipeline {
    public static func run(_ request: CaseRequest) throws(PipelineError) -> CaseResult {
        let started = ContinuousClock.now
        var clock = Stopwatch()
        let proto = request.analysisProtocol

        // Read: every file at once (reading and hashing), then the masks.
        var loaded = try Inputs.load(request)
        var masks = try loaded.masks(proto, needLivers: needsLivers(request))
        let (tumours, tumourSpecks) = try masks.tumourMasks(proto, file: loaded.preFile)
        // The label maps' voxels are done with: let them go before the heavy stages.
        loaded = loaded.releasingVoxels()
        masks = masks.releasingImage()
        let readSeconds = clock.lap()

        // Register.
        var registration: RegistrationResult?
        var preToPost = Affine3D.identity
        var method = RegistrationMethod.none
        switch request.alignment {
        case .transformFile:
            preToPost = loaded.transform!
            method = .transformFile
        case .identity:
            break
        case .protocolDefault where proto.registers:
            method = .rigidICP
            do {
                let result = try RigidRegistration.register(preLiver: masks.preLiver!, postLiver: masks.postLiver!,
                                                            settings: proto.registration, thresholds: proto.acceptance)
                registration = result
                preToPost = result.preToPost
            } catch let error as RegistrationError {
                throw registrationFailure(error, loaded)
            } catch {
                throw PipelineError(stage: .registration, kind: .internalFailure, message: "registration: \(error)")
            }
        case .protocolDefault:
            break
        }
        let registrationSeconds = clock.lap()

        // Prepare the margin engine: everything that does not depend on the transform.
        let prepared: PreparedCase
        do {
            prepared = try MarginEngine.prepare(
                MarginCase(tumours: tumours.map(\.mask), ablationZone: masks.zone, postGrid: masks.postGrid, preLiver: masks.preLiver), settings: proto.margin)
        } catch let error as MarginError {
            throw PipelineError.input("\(loaded.preFile), \(loaded.postFile): \(error)")
        } catch {
            throw PipelineError(stage: .margin, kind: .internalFailure, message: "margin engine: \(error)")
        }
        var marginSeconds = clock.lap()

        // Per tumour: the fit refined around it, and the others its uncertainty varies over.
        let fits = TumourFits(registration: registration, local: proto.localRegistration, given: preToPost,
                              centroids: prepared.tumourCentroidsPre)
        let localSeconds = clock.lap()

        // Measure each tumour with the transform the protocol names.
        let analysis = prepared.measure(perTumour: fits.used)
        let other = fits.local.isEmpty ? nil : prepared.measure(perTumour: fits.other, figures: .surface)
        marginSeconds += clock.lap()

        let uncertainties: [MarginUncertainty?] = proto.estimatesUncertainty
            ? concurrentMap(Array(analysis.tumours.indices)) { fits.uncertainty(prepared, tumour: $0) } : analysis.tumours.map { _ in nil }
        let uncertaintySeconds = clock.lap()

        // No maps when none is asked for, or when no tumour maps into the post grid.
        let maps: MarginMaps? = proto.marginMaps == .none ? nil : analysis.marginMaps(wholeGrid: proto.marginMaps == .wholeGrid)
        let mapsSeconds = clock.lap()

        let caseWarnings = [
            Masks.specksWarning("pre-ablation tumour mask", tumourSpecks, masks.tumour.geometry, minimumML: proto.margin.minimumComponentML),
            Masks.specksWarning("ablation zone", prepared.ablationZoneSetAside, masks.zone.geometry, minimumML: proto.margin.minimumComponentML),
        ].compactMap { $0 } + Plausibility.warnings(loaded: loaded, masks: masks, tumours: tumours.map(\.mask), analysis: analysis)
        let report = ReportBuilder(request: request, loaded: loaded, masks: masks).report(
            caseWarnings: caseWarnings, analysis: analysis, zoneShape: prepared.ablationZoneShape, labels: tumours.map(\.label),
            method: method, registration: registration,
            preToPost: preToPost, writesMaps: maps != nil,
            atTumours: analysis.tumours.indices.map { n in
                TumourFindings(fits: fits, tumour: n, usedMAM: analysis.tumours[n].minimalMarginMM,
                               otherMAM: other?.tumours[n].minimalMarginMM, uncertainty: uncertainties[n])
            },
            timings: CaseReport.Timings(readSeconds: readSeconds, registrationSeconds: registrationSeconds,
                                        localRefinementSeconds: localSeconds, marginSeconds: ReportBuilder.rounded(marginSeconds, 3),
                                        uncertaintySeconds: uncertaintySeconds, mapsSeconds: mapsSeconds, totalSeconds: 0))
        let scene = CaseScene(preLiver: masks.preLiver, postLiver: masks.postLiver, ablationZone: masks.zone,
                              tumours: tumours.map(\.mask), tumourPreToPost: fits.used, preToPost: preToPost)
        return CaseResult(report: report, maps: maps, preToPost: preToPost, scene: scene, started: started)
    }

    /// File names inside a case's output folder.
    public enum FileName {
        public static let report = "report.json"
        public static let marginMap = "margin_mm.nii.gz"
        public static let marginMask = "margin_mask.nii.gz"
        public static let categoryMap = "margin_categories.nii.gz"
        public static let transform = "pre_to_post.tfm"
        /// The category map's names and colours for 3D Slicer and for ITK-SNAP.
        public static let slicerColours = "margin_categories.ctbl"
        public static let itkSnapLabels = "margin_categories.label.txt"
        /// The page for a visual check, and the thumbnails' names: `qc_tumour_1.png` ...
        public static let qcPage = "qc.html"
        public static func qcThumbnail(tumour number: Int) -> String { "qc_tumour_\(number).png" }
        /// Every file a case writes (the batch's error record and the thumbnails aside).
        public static let all = [report, marginMap, marginMask, categoryMap, slicerColours, itkSnapLabels, transform, qcPage]

        /// Whether `name` is a thumbnail's (any tumour number).
        static func isQCThumbnail(_ name: String) -> Bool {
            name.hasPrefix("qc_tumour_") && name.hasSuffix(".png") && Int(name.dropFirst(10).dropLast(4)) != nil
        }
    }

    /// Whose results an output folder holds before a single run writes into it.
    public enum EarlierResults: Equatable, Sendable {
        /// No report: nothing to protect.
        case none
        /// A report made from the same input bytes (SHA-256): this case's, to be replaced.
        case sameCase
        /// A report of other inputs (or a report.json that is not ours); why, in words.
        case anotherCase(String)
        /// An input cannot be read, so whose they are cannot be told (the run fails anyway).
        case unknown
    }

    /// Compares the image inputs recorded in `folder`'s report.json with `images`' files as
    /// they are now (a transform file does not make a case: re-running with another one is
    /// the same case).
    public static func earlierResults(in folder: String, for images: CaseRequest.Images) -> EarlierResults {
        guard let data = FileManager.default.contents(atPath: folder + "/" + FileName.report) else { return .none }
        struct Recorded: Decodable {
            struct Input: Decodable { var role: String; var sha256: String }
            var inputs: [Input]
        }
        guard let recorded = try? JSONDecoder().decode(Recorded.self, from: data) else {
            return .anotherCase("its report.json is not a mam-quantify report")
        }
        var now: [String: String] = [:]
        for (role, path) in images.files {
            guard let digest = try? FileDigest.sha256(path: path) else { return .unknown }
            now[role.rawValue] = digest
        }
        let before = Dictionary(recorded.inputs.filter { $0.role != CaseRequest.FileRole.transform.rawValue }
            .map { ($0.role, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        if before == now { return .sameCase }
        let differing = Set(before.keys).union(now.keys).filter { before[$0] != now[$0] }
        let order = ["pre", "post", "pre-liver", "pre-tumour", "post-liver", "post-ablation-zone"]
        let named = order.filter(differing.contains) + differing.filter { !order.contains($0) }.sorted()
        return .anotherCase("its report.json was made from other input files (\(named.joined(separator: ", ")) differ)")
    }

    /// Removes the results of an earlier run from `folder` (every file in `FileName.all` and
    /// the error record `errorRecord`, when given), so that a folder never shows results the
    /// last run did not produce. Refuses a folder that is a symbolic link: results are never
    /// written (or removed) through one.
    public static func clearEarlierResults(in folder: String, errorRecord: String? = nil) throws(PipelineError) {
        let manager = FileManager.default
        if isSymbolicLink(folder) {
            throw PipelineError(stage: .output, kind: .cannotWrite,
                                message: "\(folder): the output folder is a symbolic link; results are not written through links")
        }
        let thumbnails = ((try? manager.contentsOfDirectory(atPath: folder)) ?? []).filter(FileName.isQCThumbnail).sorted()
        for name in FileName.all + thumbnails + [errorRecord].compactMap({ $0 }) {
            let path = folder + "/" + name
            guard manager.fileExists(atPath: path) else { continue }
            do {
                try manager.removeItem(atPath: path)
            } catch {
                throw PipelineError(stage: .output, kind: .cannotWrite,
                                    message: "\(path): an earlier result cannot be removed (\(fileSystemReason(error)))")
            }
        }
    }

    /// Writes the margin maps, the transform and, last, the report into `folder` (created if
    /// needed); each file appears whole or not at all. Returns the report as written.
    @discardableResult
    public static func write(_ result: CaseResult, to folder: String) throws(PipelineError) -> (report: CaseReport, json: Data) {
        var report = result.report
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw PipelineError(stage: .output, kind: .cannotWrite,
                                message: "\(folder): cannot create the output folder (\(fileSystemReason(error)))")
        }
        do throws(ImageIOError) {
            if let maps = result.maps {
                try NIfTIWriter.write(maps.marginMM, to: folder + "/" + FileName.marginMap,
                                      description: "mam-quantify margin (mm) of the nearest tumour surface")
                try NIfTIWriter.write(maps.tumourVoxels, to: folder + "/" + FileName.marginMask,
                                      description: "mam-quantify tumour voxels of the margin map")
                try NIfTIWriter.write(maps.categories, to: folder + "/" + FileName.categoryMap,
                                      description: "mam-quantify margin categories (1 = lowest)")
                let p = report.analysisProtocol
                let colours = CategoryColours(names: p.categories, cutoffsMM: p.categoryCutoffsMM, targetMM: p.targetMarginMM)
                try AtomicFile.write(Data(colours.slicerTable.utf8), to: folder + "/" + FileName.slicerColours)
                try AtomicFile.write(Data(colours.itkSnapLabels.utf8), to: folder + "/" + FileName.itkSnapLabels)
            }
            if report.outputs.transform != nil {
                try ITKTransformFile.write(preToPost: result.preToPost, to: folder + "/" + FileName.transform)
            }
            for (name, data) in result.alongside { try AtomicFile.write(data, to: folder + "/" + name) }
            report.timingsSeconds.totalSeconds = ReportBuilder.rounded(seconds(since: result.started), 3)
            let json: Data
            do {
                json = try report.jsonData()
            } catch {
                throw ImageIOError(path: folder + "/" + FileName.report, problem: .writeFailed(reason: "JSON encoding: \(error)"))
            }
            try AtomicFile.write(json, to: folder + "/" + FileName.report)
            return (report, json)
        } catch {
            throw PipelineError(stage: .output, kind: .cannotWrite, message: error.description)
        }
    }

    static func needsLivers(_ request: CaseRequest) -> Bool {
        request.alignment == .protocolDefault && request.analysisProtocol.registers
    }

    static func registrationFailure(_ error: RegistrationError, _ loaded: Inputs) -> PipelineError {
        let files = "\(loaded.preFile), \(loaded.postFile)"
        switch error {
        case .didNotConverge:
            return PipelineError(stage: .registration, kind: .registrationFailed, message: "\(files): \(error)")
        case .emptyLiver, .liversCannotBeMatched:
            return PipelineError(stage: .registration, kind: .invalidInput, message: "\(files): \(error)")
        }
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
}

/// Times consecutive stages.
struct Stopwatch {
    var last = ContinuousClock.now

    mutating func lap() -> Double {
        let t = seconds(since: last)
        last = .now
        return ReportBuilder.rounded(t, 3)
    }
}
