import Foundation
import MAMCase
import MAMCohort
import MAMImageIO

/// `mam-quantify outcomes`: reads a batch's results and a follow-up table, runs the analysis
/// and writes outcomes.json, the tables (CSV) and the plots (SVG) into one folder.
public enum OutcomeFiles {
    public static let report = "outcomes.json"
    public static let tumoursTable = "outcome_tumours.csv"
    public static let ratesTable = "ltp_rates.csv"
    public static let survivalTable = "kaplan_meier.csv"
    public static let incidenceTable = "cumulative_incidence.csv"
    public static let figuresTable = "margin_figures.csv"
    public static let plots = ["kaplan_meier.svg", "cumulative_incidence.svg", "roc.svg", "ltp_rates.svg", "mam_vs_outcome.svg"]
    /// Every file the command writes (a re-run removes them first: none is left from an
    /// earlier run).
    public static var all: [String] { [report, tumoursTable, ratesTable, survivalTable, incidenceTable, figuresTable] + plots }

    public struct Result: Sendable {
        public var report: OutcomesReport
        public var written: [String]
    }

    /// `horizon` nil: 24 months (730 days); `hypothesisMarginMM` nil: the protocol's target margin.
    public static func run(results: String, followUpPath: String, out: String, horizon: Double?, hypothesisMarginMM: Double?,
                           hypothesisRate: Double, bootstrapResamples: Int, seed: UInt64, toolVersion: String) throws(OutcomeError) -> Result {
        let collected = CohortSummary.collect(results)
        guard !collected.reports.isEmpty || !collected.errors.isEmpty else {
            throw OutcomeError(kind: .noResults, description: "\(results): no case results (report.json) in its case folders")
        }
        let followUp = try FollowUpTable.read(followUpPath)
        let digest = (try? FileDigest.sha256(path: followUpPath)) ?? ""
        let join = OutcomeJoin(results: collected.reports, failedCases: collected.errors.map(\.caseId), followUp: followUp)
        let options = OutcomesReport.Options(horizon: horizon ?? (followUp.unit == .months ? 24 : 730),
                                             hypothesisMarginMM: hypothesisMarginMM ?? join.targetMarginMM ?? 5,
                                             hypothesisRate: hypothesisRate, bootstrapResamples: bootstrapResamples, seed: seed)
        let report = OutcomesReport(join: join, followUp: followUp, followUpSHA256: digest, results: results, toolVersion: toolVersion,
                                    options: options)

        var files: [(String, String)] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .throw
        guard let json = try? encoder.encode(report) else {
            throw OutcomeError(kind: .cannotWrite, description: "\(out)/\(Self.report): a figure is not finite")
        }
        files.append((Self.report, String(decoding: json, as: UTF8.self) + "\n"))
        files.append((tumoursTable, tumoursCSV(join.tumours, covariates: followUp.covariateNames)))
        files.append((ratesTable, csv(["group", "tumours", "ltp", "rate", "lower95", "upper95"],
                                      (report.rates + [report.hypothesis.observed]).map {
                                          [$0.group, "\($0.tumours)", "\($0.ltp)", number($0.rate), number($0.lower95), number($0.upper95)]
                                      })))
        files.append((survivalTable, csv(["group", "time", "at_risk", "events", "ltp_free", "lower95", "upper95"],
                                         report.kaplanMeier.curves.flatMap { c in c.steps.map {
                                             [c.group, "\($0.time)", "\($0.atRisk)", "\($0.events ?? 0)", "\($0.estimate)", "\($0.lower95)", "\($0.upper95)"]
                                         } })))
        files.append((figuresTable, figuresCSV(report.figures)))
        files.append(("kaplan_meier.svg", OutcomePlots.kaplanMeier(report)))
        files.append(("roc.svg", OutcomePlots.roc(report.figures)))
        files.append(("ltp_rates.svg", OutcomePlots.rates(report.rates)))
        files.append(("mam_vs_outcome.svg", OutcomePlots.marginAgainstOutcome(join.tumours, timeUnit: report.timeUnit,
                                                                              hypothesisMarginMM: options.hypothesisMarginMM)))
        if let incidence = report.cumulativeIncidence {
            files.append((incidenceTable, csv(["time", "at_risk", "incidence", "lower95", "upper95"], incidence.steps.map {
                ["\($0.time)", "\($0.atRisk)", "\($0.estimate)", "\($0.lower95)", "\($0.upper95)"]
            })))
            files.append(("cumulative_incidence.svg", OutcomePlots.cumulativeIncidence(incidence, timeUnit: report.timeUnit)))
        }

        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for name in all where FileManager.default.fileExists(atPath: out + "/" + name) {
                try FileManager.default.removeItem(atPath: out + "/" + name)
            }
            // The report last: its presence means the tables and plots beside it are this run's.
            for (name, text) in files.dropFirst() + [files[0]] {
                try Data(text.utf8).write(to: URL(fileURLWithPath: out + "/" + name), options: .atomic)
            }
        } catch {
            throw OutcomeError(kind: .cannotWrite, description: "\(out): cannot be written (\(fileSystemReason(error)))")
        }
        return Result(report: report, written: files.map { out + "/" + $0.0 })
    }

    static func number(_ x: Double?) -> String { x.map { "\($0)" } ?? "" }

    static func csv(_ header: [String], _ rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(CohortSummary.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
    }

    static func tumoursCSV(_ tumours: [OutcomeTumour], covariates: [String]) -> String {
        csv(["patient_id", "case_id", "tumour", "time", "ltp", "competing", "category"] + MarginFigure.all.map(\.key) + covariates,
            tumours.map { t in
                [t.patientId, t.caseId, "\(t.tumour)", "\(t.time)", t.ltp ? "1" : "0", t.competing ? "1" : "0", t.category ?? ""]
                    + t.figures.map(number) + t.covariates.map(number)
            })
    }

    static func figuresCSV(_ figures: [OutcomesReport.Figure]) -> String {
        csv(["figure", "unit", "tumours", "cox_hr_per_unit", "cox_lower95", "cox_upper95", "cox_p", "ph_p", "logistic_or_per_unit",
             "logistic_lower95", "logistic_upper95", "logistic_p", "auc", "auc_lower95", "auc_upper95", "youden_cutoff", "sensitivity",
             "specificity", "concordance"],
            figures.map { f in
                [f.key, f.unit, "\(f.tumours)", number(f.cox?.hazardRatios[0]), number(f.cox?.lower95[0]), number(f.cox?.upper95[0]),
                 number(f.cox?.pValues[0]), number(f.cox?.proportionalHazards[0].pValue), number(f.logistic?.oddsRatio),
                 number(f.logistic?.lower95), number(f.logistic?.upper95), number(f.logistic?.pValue), number(f.roc?.auc),
                 number(f.roc?.lower95), number(f.roc?.upper95), number(f.roc?.youdenCutoff), number(f.roc?.sensitivity),
                 number(f.roc?.specificity), number(f.concordance)]
            })
    }
}
