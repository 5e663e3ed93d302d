import Foundation
import MAMImageIO
public import MAMCase
public import MAMStatistics

/// One pair of a cohort agreement analysis: two observers' (or sessions') segmentations of
/// one case, as plain segmentations or as full cases (pre and post label maps each).
public struct AgreementCase: Sendable {
    public enum Files: Sendable {
        case segmentations(a: String, b: String)
        case fullCases(aPre: String, aPost: String, bPre: String, bPost: String)
    }

    public var id: String
    public var files: Files
}

/// The result of `mam-quantify agreement-cohort` (Docs/agreement.md).
public struct AgreementCohortReport: Codable, Sendable {
    public struct Summary: Codable, Sendable, Equatable {
        public var n: Int
        public var mean: Double
        /// Null for a single value.
        @Null public var sd: Double?
        public var median: Double
        public var minimum: Double
        public var maximum: Double

        /// Each figure rounded by `round` (as the metric's unit says, `Rounded`).
        init?(_ values: [Double], _ round: (Double) -> Double) {
            guard var summary = Summary(values) else { return nil }
            summary.mean = round(summary.mean)
            summary.sd = summary.sd.map(round)
            summary.median = round(summary.median)
            summary.minimum = round(summary.minimum)
            summary.maximum = round(summary.maximum)
            self = summary
        }

        init?(_ values: [Double]) {
            guard !values.isEmpty else { return nil }
            let sorted = values.sorted()
            n = values.count
            mean = values.reduce(0, +) / Double(n)
            let m = mean
            sd = n > 1 ? (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(n - 1)).squareRoot() : nil
            median = Percentiles.linear(values, 0.5)
            minimum = sorted[0]
            maximum = sorted[n - 1]
        }
    }

    /// Summaries of each segmentation metric over the pairs, for one structure.
    public struct StructureSummary: Codable, Sendable {
        /// `label N` for segmentations; for full cases the protocol's names: `tumour`,
        /// `ablation zone`, `pre liver`, `post liver` (with `(label N)` when the protocol gives a
        /// structure several labels; `pre label N` / `post label N` for a label it does not name).
        public var structure: String
        @Null public var dice: Summary?
        @Null public var jaccard: Summary?
        @Null public var volumeDifferenceML: Summary?
        @Null public var hausdorffMM: Summary?
        @Null public var hausdorff95MM: Summary?
        @Null public var averageSymmetricSurfaceDistanceMM: Summary?
        @Null public var surfaceDice: Summary?
        /// ICC(2,1) and ICC(3,1) of the two observers' volumes of this structure over the pairs.
        @Null public var volumeIntraclassCorrelation: IntraclassCorrelation?
    }

    /// Agreement of the two observers' minimal ablation margins (full cases only).
    public struct MarginAgreement: Codable, Sendable, Equatable {
        /// Cases where both observers' MAM was measured. A case's MAM is the smallest of its tumours'.
        public var pairs: Int
        @Null public var intraclassCorrelation: IntraclassCorrelation?
        @Null public var blandAltman: BlandAltman?
        @Null public var categoryKappa: CohenKappa?
        public var categories: [String]
    }

    public struct Failure: Codable, Sendable {
        public var caseId: String
        public var reason: String
    }

    public var schemaVersion: String
    public var tool: CaseReport.Tool
    public var pairs: Int
    public var toleranceMM: Double
    public var structures: [StructureSummary]
    @Null public var margins: MarginAgreement?
    public var failures: [Failure]
}

/// Runs the pairs of a cohort agreement analysis and summarises them.
public enum AgreementCohort {
    /// One row of the per-pair table.
    public struct Row: Sendable {
        public var caseId: String
        public var structure: String
        public var metrics: AgreementReport.LabelMetrics
        public var mamA: Double?
        public var mamB: Double?
    }

    /// The pairs of a cohort folder: one sub-folder per case (its name the case id) holding
    /// `a.nii*` and `b.nii*`, or `a_pre.nii*`, `a_post.nii*`, `b_pre.nii*` and `b_post.nii*`.
    /// Sorted by case id; a folder with neither set is an error naming what is missing.
    public static func discover(_ folder: String) throws(CohortError) -> [AgreementCase] {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: folder) else {
            throw CohortError(description: "\(folder): no such cohort folder")
        }
        var pairs: [AgreementCase] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let dir = folder + "/" + name
            guard let files = try? manager.contentsOfDirectory(atPath: dir) else { continue }
            func find(_ stem: String) -> String? {
                files.sorted().first { $0 == stem + ".nii" || $0 == stem + ".nii.gz" }.map { dir + "/" + $0 }
            }
            if let a = find("a"), let b = find("b") {
                pairs.append(AgreementCase(id: name, files: .segmentations(a: a, b: b)))
            } else if let aPre = find("a_pre"), let aPost = find("a_post"), let bPre = find("b_pre"), let bPost = find("b_post") {
                pairs.append(AgreementCase(id: name, files: .fullCases(aPre: aPre, aPost: aPost, bPre: bPre, bPost: bPost)))
            } else {
                throw CohortError(description: "\(dir): needs a.nii.gz and b.nii.gz, or a_pre, a_post, b_pre and b_post (.nii or .nii.gz)")
            }
        }
        return pairs
    }

    /// The pairs of a manifest CSV: `case_id, a, b` or `case_id, a_pre, a_post, b_pre, b_post`
    /// (relative paths from the manifest's folder).
    public static func manifest(_ path: String) throws(CohortError) -> [AgreementCase] {
        let (header, rows) = try Cohort.table(path)
        let full = ["case_id", "a_pre", "a_post", "b_pre", "b_post"], plain = ["case_id", "a", "b"]
        guard Set(header) == Set(full) || Set(header) == Set(plain) else {
            throw CohortError(description: "\(path): header: the columns must be case_id, a, b or case_id, a_pre, a_post, b_pre, b_post")
        }
        return try rows.map { (line, column) throws(CohortError) -> AgreementCase in
            guard column.count == header.count else {
                throw CohortError(description: "\(path): line \(line): expected \(header.count) non-empty fields")
            }
            let id = column["case_id"]!
            if header.count == 3 { return AgreementCase(id: id, files: .segmentations(a: column["a"]!, b: column["b"]!)) }
            return AgreementCase(id: id, files: .fullCases(aPre: column["a_pre"]!, aPost: column["a_post"]!,
                                                           bPre: column["b_pre"]!, bPost: column["b_post"]!))
        }
    }

    /// Compares every pair; full cases are also analysed by the margin pipeline (each
    /// observer's report under `casesFolder/<case>/a` and `.../b`).
    public static func run(_ pairs: [AgreementCase], analysisProtocol: AnalysisProtocol, toleranceMM: Double,
                           casesFolder: String, progress: (String, String?) -> Void) -> Result {
        var rows: [Row] = []
        var failures: [AgreementCohortReport.Failure] = []
        var mams: [(a: Double, b: Double)] = []
        for pair in pairs {
            do throws(PipelineError) {
                switch pair.files {
                case .segmentations(let a, let b):
                    let r = try AgreementPair.run(a: a, b: b, labels: nil, toleranceMM: toleranceMM)
                    rows += r.labels.map { Row(caseId: pair.id, structure: "label \($0.label)", metrics: $0) }
                case .fullCases(let aPre, let aPost, let bPre, let bPost):
                    var margins: [Double?] = []
                    for (observer, pre, post) in [("a", aPre, aPost), ("b", bPre, bPost)] {
                        let request = CaseRequest(caseId: pair.id, images: .labelMaps(pre: pre, post: post), analysisProtocol: analysisProtocol)
                        let (report, _) = try CasePipeline.write(try CasePipeline.run(request), to: casesFolder + "/\(pair.id)/\(observer)")
                        margins.append(report.tumours.compactMap(\.minimalMarginMM).min())
                    }
                    for (stage, a, b) in [("pre", aPre, bPre), ("post", aPost, bPost)] {
                        let r = try AgreementPair.run(a: a, b: b, labels: nil, toleranceMM: toleranceMM)
                        rows += r.labels.map { Row(caseId: pair.id, structure: structureName(stage, $0.label, analysisProtocol.labels),
                                                   metrics: $0, mamA: margins[0], mamB: margins[1]) }
                    }
                    if let a = margins[0], let b = margins[1] { mams.append((a, b)) }
                }
                progress(pair.id, nil)
            } catch {
                failures.append(.init(caseId: pair.id, reason: error.message))
                progress(pair.id, error.message)
            }
        }
        let structures = Array(Set(rows.map(\.structure))).sorted().map { structure -> AgreementCohortReport.StructureSummary in
            let m = rows.filter { $0.structure == structure }.map(\.metrics)
            return .init(structure: structure, dice: .init(m.map(\.dice), Rounded.fraction),
                         jaccard: .init(m.map(\.jaccard), Rounded.fraction),
                         volumeDifferenceML: .init(m.map(\.volumeDifferenceML), Rounded.ml),
                         hausdorffMM: .init(m.compactMap(\.hausdorffMM), Rounded.mm),
                         hausdorff95MM: .init(m.compactMap(\.hausdorff95MM), Rounded.mm),
                         averageSymmetricSurfaceDistanceMM: .init(m.compactMap(\.averageSymmetricSurfaceDistanceMM), Rounded.mm),
                         surfaceDice: .init(m.compactMap(\.surfaceDice), Rounded.fraction),
                         volumeIntraclassCorrelation: IntraclassCorrelation(m.map { [$0.volumeAML, $0.volumeBML] })?.rounded)
        }
        var margins: AgreementCohortReport.MarginAgreement?
        if pairs.contains(where: { if case .fullCases = $0.files { return true } else { return false } }) {
            let settings = analysisProtocol.margin
            margins = .init(pairs: mams.count, intraclassCorrelation: IntraclassCorrelation(mams.map { [$0.a, $0.b] })?.rounded,
                            blandAltman: BlandAltman(a: mams.map(\.a), b: mams.map(\.b))?.rounded,
                            categoryKappa: CohenKappa(a: mams.map { settings.category(ofMarginMM: $0.a) },
                                                      b: mams.map { settings.category(ofMarginMM: $0.b) },
                                                      categories: settings.categoryCutoffsMM.count + 1)?.rounded,
                            categories: analysisProtocol.categoryNames)
        }
        let report = AgreementCohortReport(schemaVersion: "1.1.0", tool: .current,
                                           pairs: pairs.count - failures.count, toleranceMM: toleranceMM, structures: structures,
                                           margins: margins, failures: failures)
        return Result(report: report, rows: rows, margins: mams)
    }

    /// A full case's structure by the protocol's labels (see `StructureSummary.structure`).
    static func structureName(_ stage: String, _ label: Int, _ labels: AnalysisProtocol.Labels) -> String {
        let named: [(String, [Int])] = stage == "pre"
            ? [("tumour", labels.preTumour), ("pre liver", labels.preLiver)]
            : [("ablation zone", labels.postAblationZone), ("post liver", labels.postLiver)]
        guard let (name, values) = named.first(where: { $0.1.contains(label) }) else { return "\(stage) label \(label)" }
        return values.count > 1 ? "\(name) (label \(label))" : name
    }

    /// What `run` found: the report, the per-pair rows, and each full case's two MAMs.
    public struct Result: Sendable {
        public let report: AgreementCohortReport
        public let rows: [Row]
        /// Observer A's and B's MAM of each full case with both (its smallest tumour margin).
        public let margins: [(a: Double, b: Double)]
    }

    /// File names in the output folder.
    public enum FileName {
        public static let report = "agreement-cohort.json"
        public static let table = "agreement-cohort.csv"
        public static let dicePlot = "dice.svg"
        public static let blandAltmanPlot = "bland-altman.svg"
    }

    /// Writes the report, the table and the plots (when there is something to draw) into
    /// `folder` (created if needed), each file whole or not at all.
    public static func write(_ result: Result, to folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try AtomicFile.write(JSONOutput.document(result.report), to: folder + "/" + FileName.report)
        try AtomicFile.write(Data(csv(result.rows).utf8), to: folder + "/" + FileName.table)
        let structures = Array(Set(result.rows.map(\.structure))).sorted()
        let dice = structures.map { s in (s, result.rows.filter { $0.structure == s }.map(\.metrics.dice)) }
        if !dice.isEmpty {
            try AtomicFile.write(Data(AgreementPlots.dice(dice).utf8), to: folder + "/" + FileName.dicePlot)
        }
        if let ba = result.report.margins?.blandAltman {
            try AtomicFile.write(Data(AgreementPlots.blandAltman(result.margins, ba).utf8),
                                 to: folder + "/" + FileName.blandAltmanPlot)
        }
    }

    /// The per-pair table as CSV, ordered by case and structure.
    public static func csv(_ rows: [Row]) -> String {
        let header = "case_id,structure,dice,jaccard,volume_a_ml,volume_b_ml,volume_difference_ml,hausdorff_mm,hausdorff95_mm,"
            + "assd_mm,surface_dice,mam_a_mm,mam_b_mm"
        func n(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
        let lines = rows.sorted { ($0.caseId, $0.structure) < ($1.caseId, $1.structure) }.map { r in
            let m = r.metrics
            return [r.caseId, r.structure, n(m.dice), n(m.jaccard), n(m.volumeAML), n(m.volumeBML), n(m.volumeDifferenceML),
                    n(m.hausdorffMM), n(m.hausdorff95MM), n(m.averageSymmetricSurfaceDistanceMM), n(m.surfaceDice),
                    n(r.mamA), n(r.mamB)].map(CohortSummary.csvField).joined(separator: ",")
        }
        return ([header] + lines).joined(separator: "\n") + "\n"
    }
}

/// The statistics rounded as reports are (`Rounded`): coefficients to 1e-4, mm to 1e-3,
/// agreement fractions to 1e-5.
extension IntraclassCorrelation {
    var rounded: IntraclassCorrelation {
        var r = self
        for path in [\IntraclassCorrelation.icc21, \.icc31] {
            r[keyPath: path].value = Rounded.coefficient(r[keyPath: path].value)
            r[keyPath: path].lower = r[keyPath: path].lower.map(Rounded.coefficient)
            r[keyPath: path].upper = r[keyPath: path].upper.map(Rounded.coefficient)
        }
        return r
    }
}

extension BlandAltman {
    var rounded: BlandAltman {
        var r = self
        r.biasMM = Rounded.mm(biasMM)
        r.sdMM = Rounded.mm(sdMM)
        r.lowerLimitMM = Rounded.mm(lowerLimitMM)
        r.upperLimitMM = Rounded.mm(upperLimitMM)
        return r
    }
}

extension CohenKappa {
    var rounded: CohenKappa {
        var r = self
        r.observedAgreement = Rounded.fraction(observedAgreement)
        r.kappa = kappa.map(Rounded.coefficient)
        r.linearWeightedKappa = linearWeightedKappa.map(Rounded.coefficient)
        r.quadraticWeightedKappa = quadraticWeightedKappa.map(Rounded.coefficient)
        return r
    }
}
