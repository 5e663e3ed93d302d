import Foundation
public import MAMCase
import MAMCohort

/// Why an outcome analysis cannot run: one line naming the file (and line) and the problem.
public struct OutcomeError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case badFollowUp, noResults, cannotWrite }
    public let kind: Kind
    public let description: String
}

/// A follow-up table (CSV, one row per tumour): `patient_id`, `case_id`, `tumour` (its number
/// in the results) or `label` (its label value, for a protocol that tells tumours apart by
/// label), `time_months` or `time_days` (to local tumour progression or the last
/// follow-up), `ltp` (0/1), optionally `competing` (0/1: death or another competing event ended
/// follow-up first); every other column is a numeric covariate (empty: unknown). Docs/outcomes.md.
public struct FollowUpTable: Sendable {
    public enum TimeUnit: String, Sendable, Codable { case months, days }

    public struct Row: Sendable {
        public var line: Int
        public var patientId: String
        public var caseId: String
        /// The tumour's number, or its label value when the table names tumours by label (`byLabel`).
        public var tumour: Int
        public var time: Double
        public var ltp: Bool
        public var competing: Bool
        /// nil: unknown.
        public var covariates: [Double?]
    }

    public let path: String
    /// True when rows name tumours by label value (`label` column), not by number.
    public let byLabel: Bool
    public let unit: TimeUnit
    public let hasCompeting: Bool
    public let covariateNames: [String]
    public let rows: [Row]

    public static func read(_ path: String) throws(OutcomeError) -> FollowUpTable {
        func fail(_ reason: String) -> OutcomeError { OutcomeError(kind: .badFollowUp, description: "\(path): \(reason)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw fail("no such file, or it cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw fail("not UTF-8 text") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { (line: $0.offset + 1, text: $0.element.trimmingCharacters(in: .whitespacesAndNewlines)) }
            .filter { !$0.text.isEmpty && !$0.text.hasPrefix("#") }
        guard let first = lines.first else { throw fail("empty") }
        let header = Cohort.fields(first.text)
        for required in ["patient_id", "case_id", "ltp"] where !header.contains(required) {
            throw fail("no '\(required)' column (needed: patient_id, case_id, tumour or label, time_months or time_days, ltp)")
        }
        guard header.contains("tumour") != header.contains("label") else {
            throw fail("needs exactly one of the columns tumour (the tumour's number) and label (its label value)")
        }
        let tumourColumn = header.contains("tumour") ? "tumour" : "label"
        let timeColumns = header.filter { $0 == "time_months" || $0 == "time_days" }
        guard timeColumns.count == 1 else { throw fail("needs exactly one of the columns time_months and time_days") }
        let unit = TimeUnit(rawValue: String(timeColumns[0].dropFirst(5)))!
        let known: Set<String> = ["patient_id", "case_id", "tumour", "label", "time_months", "time_days", "ltp", "competing"]
        let covariateNames = header.filter { !known.contains($0) }
        guard Set(header).count == header.count else { throw fail("a column name appears twice") }
        var rows: [Row] = []
        for (line, text) in lines.dropFirst() {
            let values = Cohort.fields(text)
            guard values.count == header.count else { throw fail("line \(line): \(values.count) fields, the header has \(header.count)") }
            var column: [String: String] = [:]
            for (key, value) in zip(header, values) { column[key] = value }
            func flag(_ key: String) throws(OutcomeError) -> Bool {
                switch column[key] ?? "0" {
                case "1": return true
                case "0": return false
                case "" where key == "ltp": throw fail("line \(line): ltp is empty (0 or 1)")
                case "": return false
                case let other: throw fail("line \(line): \(key) is '\(other)', not 0 or 1")
                }
            }
            guard let patient = column["patient_id"], !patient.isEmpty, let caseId = column["case_id"], !caseId.isEmpty else {
                throw fail("line \(line): patient_id and case_id must not be empty")
            }
            guard let tumour = Int(column[tumourColumn] ?? ""), tumour >= 1 else {
                throw fail("line \(line): \(tumourColumn) is '\(column[tumourColumn] ?? "")', not a tumour "
                           + (tumourColumn == "tumour" ? "number (1, 2, ...)" : "label value (1, 2, ...)"))
            }
            guard let time = Double(column[timeColumns[0]] ?? ""), time.isFinite, time >= 0 else {
                throw fail("line \(line): \(timeColumns[0]) is '\(column[timeColumns[0]] ?? "")', not a time >= 0")
            }
            let ltp = try flag("ltp"), competing = try flag("competing")
            guard !(ltp && competing) else { throw fail("line \(line): ltp and competing are both 1; the first event ends follow-up") }
            var covariates: [Double?] = []
            for name in covariateNames {
                let value = column[name] ?? ""
                if value.isEmpty || value.uppercased() == "NA" { covariates.append(nil); continue }
                guard let v = Double(value), v.isFinite else { throw fail("line \(line): covariate \(name) is '\(value)', not a number") }
                covariates.append(v)
            }
            rows.append(Row(line: line, patientId: patient, caseId: caseId, tumour: tumour, time: time, ltp: ltp, competing: competing,
                            covariates: covariates))
        }
        return FollowUpTable(path: path, byLabel: tumourColumn == "label", unit: unit, hasCompeting: header.contains("competing"), covariateNames: covariateNames, rows: rows)
    }
}

/// A tumour of the results with its follow-up: the margin figures and the outcome.
public struct OutcomeTumour: Sendable {
    public var patientId: String
    public var caseId: String
    public var tumour: Int
    public var time: Double
    public var ltp: Bool
    public var competing: Bool
    public var covariates: [Double?]
    /// The protocol's category (nil: none) and its index (1-based).
    public var category: String?
    public var categoryIndex: Int?
    /// Each margin figure (`MarginFigure.all` order); nil where the report has none.
    public var figures: [Double?]
}

/// The figures an outcome may depend on, each read from a tumour's report; `higherIsBetter`
/// orients the ROC and concordance (risk scores are the figures negated when higher is better).
public struct MarginFigure: Sendable {
    public var key: String
    public var label: String
    public var unit: String
    public var higherIsBetter: Bool
    let value: @Sendable (CaseReport.Tumour) -> Double?

    public static let all: [MarginFigure] = [
        MarginFigure(key: "mam", label: "MAM", unit: "mm", higherIsBetter: true) { $0.minimalMarginMM },
        MarginFigure(key: "surface_below_0mm", label: "surface below 0 mm", unit: "fraction", higherIsBetter: false) {
            $0.surface?.fractionBelowZero
        },
        MarginFigure(key: "first_shell_ablated", label: "first shell ablated", unit: "fraction", higherIsBetter: true) {
            $0.shells.first?.fractionAblated
        },
        MarginFigure(key: "residual_volume", label: "residual volume", unit: "mL", higherIsBetter: false) { $0.residualVolumeML },
    ]
}

/// The follow-up joined to the results: the tumours that have both, and every row or tumour
/// that could not be joined, with the reason (nothing is dropped silently).
public struct OutcomeJoin: Sendable {
    public struct Unjoined: Sendable, Codable, Equatable {
        /// The follow-up line; nil for a tumour of the results.
        @Null public var line: Int? = nil
        public var caseId: String
        public var tumour: Int
        public var reason: String
    }

    public var tumours: [OutcomeTumour] = []
    public var unmatchedRows: [Unjoined] = []
    public var duplicateRows: [Unjoined] = []
    public var withoutFollowUp: [Unjoined] = []
    public var withoutMargin: [Unjoined] = []
    /// The protocol's target margin, from the reports.
    public var targetMarginMM: Double?
    public var protocols: [String] = []
    /// The protocol's margin categories, in order.
    public var categories: [String] = []

    public init(results: [(caseId: String, report: CaseReport)], failedCases: [String], followUp: FollowUpTable) {
        var byKey: [String: [FollowUpTable.Row]] = [:]
        for row in followUp.rows { byKey["\(row.caseId)\u{0}\(row.tumour)", default: []].append(row) }
        var matched = Set<String>()
        for (caseId, report) in results.sorted(by: { $0.caseId < $1.caseId }) {
            if !protocols.contains(report.analysisProtocol.name) { protocols.append(report.analysisProtocol.name) }
            targetMarginMM = targetMarginMM ?? report.analysisProtocol.targetMarginMM
            if categories.isEmpty { categories = report.analysisProtocol.categories }
            for t in report.tumours {
                let key = "\(caseId)\u{0}\(followUp.byLabel ? t.label ?? -1 : t.number)"
                guard let rows = byKey[key] else {
                    withoutFollowUp.append(.init(line: nil, caseId: caseId, tumour: t.number, reason: "no follow-up row"))
                    continue
                }
                matched.insert(key)
                if rows.count > 1 {
                    for r in rows {
                        duplicateRows.append(.init(line: r.line, caseId: caseId, tumour: t.number,
                                                   reason: "\(rows.count) follow-up rows for one tumour (lines \(rows.map { String($0.line) }.joined(separator: ", ")))"))
                    }
                    continue
                }
                let row = rows[0]
                guard t.minimalMarginMM != nil else {
                    withoutMargin.append(.init(line: row.line, caseId: caseId, tumour: t.number, reason: t.message ?? t.outcome))
                    continue
                }
                tumours.append(OutcomeTumour(patientId: row.patientId, caseId: caseId, tumour: t.number, time: row.time, ltp: row.ltp,
                                             competing: row.competing, covariates: row.covariates, category: t.category?.name,
                                             categoryIndex: t.category?.index, figures: MarginFigure.all.map { $0.value(t) }))
            }
        }
        let failed = Set(failedCases)
        for row in followUp.rows where !matched.contains("\(row.caseId)\u{0}\(row.tumour)") {
            let reason = failed.contains(row.caseId) ? "the case failed (see its error.json)"
                : results.contains(where: { $0.caseId == row.caseId })
                    ? "the case has no tumour " + (followUp.byLabel ? "of label \(row.tumour)" : "\(row.tumour)") : "no such case in the results"
            unmatchedRows.append(.init(line: row.line, caseId: row.caseId, tumour: row.tumour, reason: reason))
        }
    }
}
