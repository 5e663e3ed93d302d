import ArgumentParser
import Foundation
import MAMCase
import MAMCohort
import MAMOutcomes
import MAMQC

struct OutcomesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outcomes",
        abstract: "Relate a batch's margins to local tumour progression: rates, Kaplan-Meier, Cox, logistic regression, ROC.",
        discussion: """
            FILE is a CSV table with one row per tumour: patient_id, case_id, tumour (its number \
            in the results; or label, its label value), time_months or time_days (to LTP or the last follow-up), ltp (0/1), \
            optionally competing (0/1: death or another competing event came first), and any \
            numeric covariates. Rows that match no tumour, duplicates and tumours without \
            follow-up are listed, never dropped silently. Writes outcomes.json, tables (CSV) and \
            plots (SVG) to DIR (default RESULTS/outcomes). See Docs/outcomes.md.

            Example: mam-quantify outcomes results/ --follow-up follow_up.csv

            Exit status: 0 done; 64 bad usage; 65 the follow-up table cannot be read or is \
            invalid (one line naming the file and line); 66 RESULTS holds no case results; 73 \
            DIR cannot be written.
            """
    )

    @Argument(help: ArgumentHelp("A batch's output folder.", valueName: "results"))
    var results: String

    @Option(name: .customLong("follow-up"), help: ArgumentHelp("The follow-up table (CSV).", valueName: "file"))
    var followUp: String

    @Option(name: .customLong("out"), help: ArgumentHelp("Where to write the analysis (default: RESULTS/outcomes).", valueName: "dir"))
    var out: String?

    @Option(help: ArgumentHelp("LTP by this time for logistic regression and ROC, in the table's unit (default 24 months or 730 days).",
                               valueName: "time"))
    var horizon: Double?

    @Option(name: .customLong("hypothesis-margin"),
            help: ArgumentHelp("The hypothesis's margin: tumours with a MAM of at least this (default: the protocol's target margin).",
                               valueName: "mm"))
    var hypothesisMargin: Double?

    @Option(name: .customLong("hypothesis-rate"), help: ArgumentHelp("The LTP rate the hypothesis says they stay below.", valueName: "rate"))
    var hypothesisRate = 0.10

    @Option(help: ArgumentHelp("Bootstrap resamples (patients) for the ROC areas' intervals.", valueName: "n"))
    var bootstrap = 1000

    @Option(help: ArgumentHelp("The bootstrap's seed.", valueName: "n"))
    var seed: UInt64 = 2026

    func validate() throws {
        guard hypothesisRate > 0, hypothesisRate < 1 else { throw ValidationError("--hypothesis-rate must lie between 0 and 1") }
        guard (2...100_000).contains(bootstrap) else { throw ValidationError("--bootstrap must be 2 to 100000") }
        if let horizon, !(horizon > 0 && horizon.isFinite) { throw ValidationError("--horizon must be a positive time") }
        if let hypothesisMargin, !hypothesisMargin.isFinite { throw ValidationError("--hypothesis-margin must be a number of mm") }
    }

    func run() throws {
        let folder = out ?? results + "/" + CohortSummary.outcomesFolder
        let result: OutcomeFiles.Result
        do {
            result = try OutcomeFiles.run(results: results, followUpPath: followUp, out: folder, horizon: horizon,
                                          hypothesisMarginMM: hypothesisMargin, hypothesisRate: hypothesisRate,
                                          bootstrapResamples: bootstrap, seed: seed, toolVersion: toolVersion)
        } catch {
            printError(error.description)
            switch error.kind {
            case .badFollowUp: throw ExitCode(ExitStatus.invalidInput)
            case .noResults: throw ExitCode(BatchExit.nothingRan)
            case .cannotWrite: throw ExitCode(ExitStatus.cannotWrite)
            }
        }
        print(Self.summary(result.report).joined(separator: "\n"))
        print("written: \(folder)/\(OutcomeFiles.report) (and \(result.written.count - 1) tables and plots beside it)")
        // In the results' own outcomes/ folder: the cohort page shows them.
        if out == nil, FileManager.default.fileExists(atPath: results + "/" + CohortSummary.csvName) {
            do {
                _ = try CohortSummary.rebuild(results)
                print("cohort page: \(results)/\(CohortPage.fileName) shows them")
            } catch {
                printError("\(results)/\(CohortPage.fileName): cannot be rewritten (\(error))")
                throw ExitCode(ExitStatus.cannotWrite)
            }
        }
    }

    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }

    static func pValue(_ p: Double?) -> String {
        guard let p else { return "-" }
        return p < 0.001 ? String(format: "%.1e", p) : String(format: "%.3f", p)
    }

    /// What the terminal shows: counts, rates, the hypothesis, the log-rank test, each figure.
    static func summary(_ r: OutcomesReport) -> [String] {
        var lines = ["outcomes: \(r.counts.tumours) tumours in \(r.counts.patients) patients: \(r.counts.ltp) LTP, "
                     + "\(r.counts.competing) competing events, \(r.counts.censored) censored (times in \(r.timeUnit))"]
        for rate in r.rates {
            lines.append("  LTP \(rate.group): \(rate.ltp)/\(rate.tumours) = \(percent(rate.rate)) (95% CI \(percent(rate.lower95)) to \(percent(rate.upper95)))")
        }
        let h = r.hypothesis
        let verdict = h.supportedAt5Percent.map { $0 ? "supported (p < 0.05)" : "not shown" } ?? "not testable (no tumours)"
        lines.append("hypothesis: \(h.statement): \(h.observed.ltp)/\(h.observed.tumours) = \(percent(h.observed.rate)), "
                     + "one-sided exact p = \(pValue(h.pValue)): \(verdict)")
        let lr = r.kaplanMeier.logRank
        lines.append(lr.statistic.map { String(format: "log-rank across categories: chi2 %.2f (%d df), p = ", $0, lr.degreesOfFreedom ?? 0) + pValue(lr.pValue) }
                     ?? "log-rank across categories: not run (\(lr.message ?? ""))")
        func row(_ columns: [String]) -> String {
            zip(columns, [20, 30, 7, 22, 0]).map { $0.padding(toLength: max($1, $0.count), withPad: " ", startingAt: 0) }
                .joined(separator: " ").trimmingCharacters(in: .whitespaces)
        }
        lines.append(row(["figure", "Cox HR per unit (95% CI)", "C", "AUC (95% CI)", "Youden cut-off"]))
        for f in r.figures {
            let cox = f.cox.map { String(format: "%.3g (%.3g-%.3g) per ", $0.hazardRatios[0], $0.lower95[0], $0.upper95[0]) + f.unit } ?? "-"
            let c = f.concordance.map { String(format: "%.3f", $0) } ?? "-"
            let auc = f.roc.map { roc in String(format: "%.3f", roc.auc) + (roc.lower95.map { String(format: " (%.3f-%.3f)", $0, roc.upper95!) } ?? "") } ?? "-"
            let cut = f.roc.map { String(format: "%.3g ", $0.youdenCutoff) + f.unit } ?? "-"
            lines.append(row([f.label, cox, c, auc, cut]))
        }
        if let best = r.bestByAUC { lines.append("best by AUC: \(best); best by concordance: \(r.bestByConcordance ?? "-")") }
        for w in r.warnings { lines.append("warning: \(w)") }
        for u in r.join.unmatchedRows + r.join.duplicateRows {
            lines.append("  line \(u.line ?? 0): \(u.caseId) tumour \(u.tumour): \(u.reason)")
        }
        return lines
    }
}
