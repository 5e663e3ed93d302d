import Foundation
public import MAMCase
import MAMImageIO
import MAMQC

/// What a failed case leaves in its output folder instead of a report (`error.json`).
public struct ErrorRecord: Codable, Sendable, Equatable {
    public var schemaVersion = CaseReport.currentSchemaVersion
    public var caseId: String
    public var status = "failed"
    /// protocol, input, registration, margin, output, or worker (the case's process ended abnormally).
    public var stage: String
    public var exitStatus: Int32
    /// The one-line message.
    public var reason: String

    public init(caseId: String, stage: String, exitStatus: Int32, reason: String) {
        self.caseId = caseId
        self.stage = stage
        self.exitStatus = exitStatus
        self.reason = reason
    }

    public static let fileName = "error.json"

    /// Writes the record into `folder` atomically.
    public func write(to folder: String) throws {
        try AtomicFile.write(JSONOutput.document(self), to: folder + "/" + Self.fileName)
    }
}

/// The cohort's tables, rebuilt from the case folders of an output folder: `summary.csv`, one
/// row per tumour (and one per failed case), `reports.jsonl`, one report per line,
/// `errors.jsonl`, one error record per line, and the cohort page `index.html`; all ordered by
/// case id, so the same set of results always gives the same files. Reviews merged into the
/// folder (`review.json`) fill summary.csv's last two columns.
public enum CohortSummary {
    public static let csvName = "summary.csv"
    public static let jsonLinesName = "reports.jsonl"
    public static let errorLinesName = "errors.jsonl"

    public static let columns = [
        "case_id", "status", "tumour", "label", "mam_mm", "mam_low95_mm", "mam_high95_mm", "p_meets_target",
        "p_at_least_zero", "category", "category_uncertain", "meets_target", "tumour_volume_ml",
        "fraction_inside_ablation", "residual_volume_ml", "first_shell_mm", "first_shell_fraction_ablated",
        "ablation_volume_ml", "ablation_long_axis_mm", "ablation_short_axis_mm", "ablation_sphericity", "registration_method", "registration_verdict", "liver_dice", "transform_used",
        "local_global_shift_mm", "margins_reliable", "warnings",
        "protocol", "protocol_sha256", "error_stage", "error_exit_status", "error_reason", "review", "review_comment",
    ]

    /// The results found in `outFolder`'s case folders.
    public struct Results {
        public var reports: [(caseId: String, report: CaseReport)] = []
        public var errors: [ErrorRecord] = []
    }

    /// Reads every `<case>/report.json`, or else `<case>/error.json`, under `outFolder` (the
    /// batch clears both before a case runs, so a folder holds one or the other).
    public static func collect(_ outFolder: String) -> Results {
        var results = Results()
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: outFolder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let decoder = JSONDecoder()
        for name in names {
            let folder = outFolder + "/" + name
            // Results are never read through a link (a case folder is a real folder).
            if isSymbolicLink(folder) {
                continue
            }
            if let data = FileManager.default.contents(atPath: folder + "/" + CasePipeline.FileName.report),
               let report = try? decoder.decode(CaseReport.self, from: data) {
                results.reports.append((name, report))
            } else if let data = FileManager.default.contents(atPath: folder + "/" + ErrorRecord.fileName),
                      let record = try? decoder.decode(ErrorRecord.self, from: data) {
                results.errors.append(record)
            }
        }
        return results
    }

    /// Rewrites `summary.csv`, `reports.jsonl`, `errors.jsonl` and `index.html` in `outFolder`
    /// from its case folders.
    @discardableResult
    public static func rebuild(_ outFolder: String) throws -> Results {
        let results = collect(outFolder)
        let reviews = Dictionary(Reviews.load(outFolder).reviews.map { ($0.caseId, $0) }, uniquingKeysWith: { _, b in b })
        func reviewFields(_ id: String) -> [String] { [reviews[id]?.review ?? "", reviews[id]?.comment ?? ""] }
        var rows: [(String, [String])] = []
        for (id, r) in results.reports {
            for t in r.tumours {
                let shell = t.shells.first
                let u = t.uncertainty
                rows.append((id, [
                    id, r.status.rawValue, "\(t.number)", t.label.map(String.init) ?? "", number(t.minimalMarginMM),
                    number(u?.minimalMarginInterval95MM[0]), number(u?.minimalMarginInterval95MM[1]),
                    number(u?.probabilityMeetsTarget), number(u?.probabilityAtLeastZero),
                    t.category?.name ?? "", boolean(u?.categoryUncertain), boolean(t.meetsTargetMargin), number(t.volumeML),
                    number(t.fractionInsideAblation), number(t.residualVolumeML), number(shell?.widthMM),
                    number(shell?.fractionAblated), number(r.ablationZone.volumeML), number(r.ablationZone.longAxisMM),
                    number(r.ablationZone.shortAxisMM), number(r.ablationZone.sphericityIndex), r.registration.method.rawValue,
                    r.registration.verdict, number(r.registration.quality?.liverDice), t.registrationAtTumour.transformUsed,
                    number(t.registrationAtTumour.localToGlobalDisplacementMM), r.marginsReliable ? "true" : "false",
                    r.warnings.joined(separator: " | "), r.analysisProtocol.name, r.analysisProtocol.sha256, "", "", "",
                ] + reviewFields(id)))
            }
        }
        for e in results.errors {
            var row = [String](repeating: "", count: columns.count)
            row[0] = e.caseId
            row[1] = e.status
            let stage = columns.firstIndex(of: "error_stage")!
            (row[stage], row[stage + 1], row[stage + 2]) = (e.stage, "\(e.exitStatus)", e.reason)
            (row[columns.count - 2], row[columns.count - 1]) = (reviewFields(e.caseId)[0], reviewFields(e.caseId)[1])
            rows.append((e.caseId, row))
        }
        // Sorted by case id; a case's tumours keep their order.
        let ordered = rows.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element.1)
        let csv = ([columns] + ordered).map { $0.map(csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
        try AtomicFile.write(Data(csv.utf8), to: outFolder + "/" + csvName)

        var lines = Data()
        for (_, report) in results.reports {
            lines += try JSONOutput.line(report)
        }
        try AtomicFile.write(lines, to: outFolder + "/" + jsonLinesName)
        var errorLines = Data()
        for record in results.errors {
            errorLines += try JSONOutput.line(record)
        }
        try AtomicFile.write(errorLines, to: outFolder + "/" + errorLinesName)
        let page = CohortPage.html(reports: results.reports,
                                   failures: results.errors.map { .init(caseId: $0.caseId, stage: $0.stage, reason: $0.reason) },
                                   verdicts: reviews.mapValues { .init(review: $0.review, comment: $0.comment) },
                                   outcomes: outcomeFiles(outFolder))
        try AtomicFile.write(Data(page.utf8), to: outFolder + "/" + CohortPage.fileName)
        return results
    }

    /// The folder of `mam-quantify outcomes`'s default output in the results.
    public static let outcomesFolder = "outcomes"

    /// The outcome analysis's files in `outFolder/outcomes/` (sorted), when it holds one
    /// (outcomes.json); none otherwise.
    static func outcomeFiles(_ outFolder: String) -> [String] {
        let folder = outFolder + "/" + outcomesFolder
        guard FileManager.default.fileExists(atPath: folder + "/outcomes.json"),
              let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".csv") || $0.hasSuffix(".svg") }.sorted()
    }

    static func number(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }
    static func boolean(_ x: Bool?) -> String { x.map { $0 ? "true" : "false" } ?? "" }

    /// A CSV field, quoted when it holds a comma, a quote or a line break.
    public static func csvField(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
