import Foundation
import MAMTestSupport
import Testing

/// `mam-quantify outcomes` on simulated trials (Tests/Tools/outcome_cohort.py: reports cloned
/// from a sample case's, LTP depending on the MAM by a known hazard ratio): every figure of
/// outcomes.json against lifelines, statsmodels, scipy and scikit-learn on the same joined
/// tumours (points within 1e-6 relative, intervals within 1e-4), and the edge cases.
@Suite("mam-quantify outcomes", .serialized)
final class OutcomesTests {
    let folder: TemporaryFolder
    let template: String

    init() throws {
        folder = try TemporaryFolder()
        let sample = SampleCaseFiles.all[1]  // two-tumours: the report every simulated case is cloned from
        let run = try Binary.run([sample.pre, sample.post, "--out", folder.file("template"), "--no-qc"])
        #expect(run.status == 0, "\(run.stderr)")
        template = folder.file("template") + "/report.json"
    }

    deinit { folder.remove() }

    /// Simulates `scenario`, runs the command; returns outcomes.json, the reference and stdout.
    func analyse(_ scenario: String, tumours: Int = 300) throws -> (outcomes: [String: Any], reference: [String: Any], stdout: String) {
        let out = folder.file(scenario)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let reference = try ReferenceTools.run("outcome_cohort.py", [template, out, scenario, "--tumours", "\(tumours)"])
        let run = try Binary.run(["outcomes", out + "/results", "--follow-up", out + "/follow_up.csv", "--out", out + "/outcomes"])
        #expect(run.status == 0, "\(scenario): \(run.stderr)")
        let outcomes = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/outcomes/outcomes.json")))
        let validation = String(decoding: try ReferenceTools.run("validate_report.py", [
            packageRoot.appendingPathComponent("Docs/outcomes.schema.json").path, out + "/outcomes/outcomes.json"]), as: UTF8.self)
        #expect(validation.hasPrefix("valid: 1 report(s)"), "\(scenario): \(validation)")
        return (try #require(outcomes as? [String: Any]), try #require(JSONSerialization.jsonObject(with: reference) as? [String: Any]),
                run.stdout)
    }

    static func point(_ mine: Any?, _ theirs: Any?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a = mine as? Double, let b = theirs as? Double else {
            Issue.record("\(what): \(String(describing: mine)) vs \(String(describing: theirs))", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(a - b) <= 1e-6 * abs(b) || abs(a - b) < 1e-12, "\(what): \(a) vs \(b)", sourceLocation: sourceLocation)
    }

    static func interval(_ mine: Any?, _ theirs: Any?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let a = mine as? Double, let b = theirs as? Double else {
            Issue.record("\(what): \(String(describing: mine)) vs \(String(describing: theirs))", sourceLocation: sourceLocation)
            return
        }
        #expect(abs(a - b) <= 1e-4, "\(what): \(a) vs \(b)", sourceLocation: sourceLocation)
    }

    /// Every figure the reference has, compared; those it lacks must be null in outcomes.json.
    static func compare(_ o: [String: Any], _ r: [String: Any], _ scenario: String) throws {
        let counts = try #require(o["counts"] as? [String: Any])
        #expect(counts["tumours"] as? Int == r["tumours"] as? Int && counts["patients"] as? Int == r["patients"] as? Int
                && counts["ltp"] as? Int == r["ltp"] as? Int, "\(scenario): counts \(counts)")
        let rates = try #require(o["rates"] as? [[String: Any]]), refRates = try #require(r["rates"] as? [[String: Any]])
        for (mine, theirs) in zip(rates, refRates) {
            #expect(mine["group"] as? String == theirs["group"] as? String && mine["tumours"] as? Int == theirs["tumours"] as? Int)
            if theirs["rate"] != nil {
                point(mine["rate"], theirs["rate"], "\(scenario) rate \(theirs["group"]!)")
                interval(mine["lower95"], theirs["lower95"], "\(scenario) rate lower \(theirs["group"]!)")
                interval(mine["upper95"], theirs["upper95"], "\(scenario) rate upper \(theirs["group"]!)")
            } else {
                #expect(mine["rate"] is NSNull && mine["lower95"] is NSNull, "\(scenario): an empty group's rate is null")
            }
        }
        let hypothesis = try #require(o["hypothesis"] as? [String: Any])
        if r["hypothesisP"] is NSNull { #expect(hypothesis["pValue"] is NSNull) } else {
            point(hypothesis["pValue"], r["hypothesisP"], "\(scenario) hypothesis p")
        }
        let km = try #require(o["kaplanMeier"] as? [String: Any])
        let logRank = try #require(km["logRank"] as? [String: Any])
        if r["logrank"] is NSNull { #expect(logRank["statistic"] is NSNull && logRank["message"] is String) } else {
            point(logRank["statistic"], r["logrank"], "\(scenario) log-rank")
        }
        let refKM = try #require(r["km"] as? [String: [String: [Double]]])
        for curve in try #require(km["curves"] as? [[String: Any]]) {
            let group = try #require(curve["group"] as? String)
            guard let theirs = refKM[group] else { #expect(curve["tumours"] as? Int == 0); continue }
            let steps = try #require(curve["steps"] as? [[String: Any]])
            for (n, t) in theirs["times"]!.enumerated() {
                let step = try #require(steps.last { ($0["time"] as! Double) <= t })
                point(step["estimate"], theirs["survival"]![n], "\(scenario) KM \(group) S(\(t))")
                interval(step["lower95"], theirs["lower"]![n], "\(scenario) KM \(group) lower(\(t))")
                interval(step["upper95"], theirs["upper"]![n], "\(scenario) KM \(group) upper(\(t))")
            }
        }
        if let aj = r["aj"] as? [String: [Double]] {
            let steps = try #require((o["cumulativeIncidence"] as? [String: Any])?["steps"] as? [[String: Any]])
            for (n, t) in aj["times"]!.enumerated() {
                let step = try #require(steps.last { ($0["time"] as! Double) <= t })
                point(step["estimate"], aj["incidence"]![n], "\(scenario) AJ F(\(t))")
            }
        }
        let figures = try #require(o["figures"] as? [[String: Any]]), refFigures = try #require(r["figures"] as? [String: [String: Any]])
        for figure in figures {
            let key = try #require(figure["key"] as? String), theirs = try #require(refFigures[key])
            if let cox = theirs["cox"] as? [String: Double] {
                let mine = try #require(figure["cox"] as? [String: Any], "\(scenario) \(key): no Cox fit")
                point((mine["hazardRatios"] as? [Double])?.first, cox["hr"], "\(scenario) \(key) HR")
                interval((mine["lower95"] as? [Double])?.first, cox["lower"], "\(scenario) \(key) HR lower")
                interval((mine["upper95"] as? [Double])?.first, cox["upper"], "\(scenario) \(key) HR upper")
                point((mine["pValues"] as? [Double])?.first, cox["p"], "\(scenario) \(key) Cox p")
                point(((mine["proportionalHazards"] as? [[String: Any]])?.first)?["pValue"], cox["phP"], "\(scenario) \(key) PH p")
                point(figure["concordance"], theirs["concordance"], "\(scenario) \(key) concordance")
            } else {
                #expect(figure["cox"] is NSNull && !(figure["messages"] as? [String] ?? []).isEmpty, "\(scenario) \(key): Cox should be null with a message")
            }
            if let logistic = theirs["logistic"] as? [String: Double] {
                let mine = try #require(figure["logistic"] as? [String: Any], "\(scenario) \(key): no logistic fit")
                point(mine["oddsRatio"], logistic["or"], "\(scenario) \(key) OR")
                interval(mine["lower95"], logistic["lower"], "\(scenario) \(key) OR lower")
                interval(mine["upper95"], logistic["upper"], "\(scenario) \(key) OR upper")
                point(mine["pValue"], logistic["p"], "\(scenario) \(key) logistic p")
            } else {
                #expect(figure["logistic"] is NSNull, "\(scenario) \(key): logistic regression should be null")
            }
            if let roc = theirs["roc"] as? [String: Any] {
                let mine = try #require(figure["roc"] as? [String: Any], "\(scenario) \(key): no ROC")
                point(mine["auc"], roc["auc"], "\(scenario) \(key) AUC")
                point(mine["youdenCutoff"], roc["cutoff"], "\(scenario) \(key) Youden cut-off")
                if let boot = roc["bootstrap"] as? [Double] {
                    interval(mine["lower95"], boot[0], "\(scenario) \(key) AUC lower (bootstrap)")
                    interval(mine["upper95"], boot[1], "\(scenario) \(key) AUC upper (bootstrap)")
                }
            } else {
                #expect(figure["roc"] is NSNull, "\(scenario) \(key): ROC should be null")
            }
        }
    }

    @Test("300 tumours in 150 patients (hazard ratio 0.75/mm, death competing, a covariate): every figure agrees with lifelines, statsmodels, scipy and scikit-learn; unmatched and duplicate rows listed")
    func normal() throws {
        let (o, r, stdout) = try analyse("normal")
        try Self.compare(o, r, "normal")
        let join = try #require(o["join"] as? [String: Any])
        #expect((join["unmatchedRows"] as? [[String: Any]])?.compactMap { $0["reason"] as? String }
                == ["no such case in the results", "the case has no tumour 9"])
        #expect((join["duplicateRows"] as? [Any])?.count == 2)
        #expect(stdout.contains("warning: 2 follow-up rows match no tumour of the results"), "\(stdout)")
        // The MAM adjusted for age.
        let adjusted = try #require(o["adjustedCox"] as? [String: Any]), theirs = try #require(r["adjusted"] as? [String: [Double]])
        for k in 0..<2 {
            Self.point((adjusted["hazardRatios"] as? [Double])?[k], theirs["hr"]![k], "adjusted HR \(k)")
            Self.interval((adjusted["lower95"] as? [Double])?[k], theirs["lower"]![k], "adjusted lower \(k)")
            Self.interval((adjusted["upper95"] as? [Double])?[k], theirs["upper"]![k], "adjusted upper \(k)")
        }
        // Into the results' own outcomes/ folder (the default): the cohort page shows them.
        let results = folder.file("normal") + "/results"
        #expect(try Binary.run(["merge", results]).status == 0)
        let run = try Binary.run(["outcomes", results, "--follow-up", folder.file("normal") + "/follow_up.csv"])
        #expect(run.status == 0 && run.stdout.contains("cohort page: \(results)/index.html shows them"), "\(run.stdout) \(run.stderr)")
        let page = try String(contentsOfFile: results + "/index.html", encoding: .utf8)
        #expect(page.contains("<section id=\"outcomes\">"))
        for plot in ["kaplan_meier.svg", "cumulative_incidence.svg", "roc.svg", "ltp_rates.svg", "mam_vs_outcome.svg"] {
            #expect(page.contains("<img src=\"outcomes/\(plot)\"") && FileManager.default.fileExists(atPath: results + "/outcomes/" + plot), "\(plot)")
        }
        // In Chromium: every plot loads, no console error (screenshot in .build/screenshots/).
        let browser = try JSONDecoder().decode(QCPageTests.BrowserCase.self, from: ReferenceTools.run(
            "browser_check.py", ["case", results + "/index.html", Screenshots.path("outcomes-cohort.png")]))
        #expect(browser.images == 5 && browser.brokenImages.isEmpty && browser.consoleErrors.isEmpty,
                "\(browser.images) images, broken \(browser.brokenImages), console \(browser.consoleErrors)")
        // The known hazard ratio (0.75 per mm) within the MAM's interval.
        let mam = try #require((o["figures"] as? [[String: Any]])?.first { $0["key"] as? String == "mam" }?["cox"] as? [String: Any])
        let (lo, hi) = (try #require((mam["lower95"] as? [Double])?.first), try #require((mam["upper95"] as? [Double])?.first))
        #expect(lo <= 0.75 && 0.75 <= hi, "0.75 outside [\(lo), \(hi)]")
    }

    @Test("tumours named by label value (a `label` column; the protocol tells tumours apart by label): the same analysis as by number")
    func byLabel() throws {
        let (o, r, _) = try analyse("by-label")
        try Self.compare(o, r, "by-label")
        #expect(((o["join"] as? [String: Any])?["unmatchedRows"] as? [[String: Any]])?.compactMap { $0["reason"] as? String }
                == ["no such case in the results", "the case has no tumour of label 19"])
    }

    @Test("lifelines' Rossi data as a follow-up table (week, arrest; the MAM from prio; patients of three): every figure agrees")
    func rossi() throws {
        let (o, r, _) = try analyse("rossi")
        try Self.compare(o, r, "rossi")
        #expect((o["counts"] as? [String: Any])?["tumours"] as? Int == 432)
    }

    @Test("edge cases: tied times, no events, all events, one patient with every tumour, an empty category: defined outputs, the figures that exist agree",
          arguments: ["ties", "no-events", "all-events", "one-patient", "empty-category"])
    func edges(_ scenario: String) throws {
        let (o, r, stdout) = try analyse(scenario, tumours: scenario == "one-patient" ? 40 : 200)
        try Self.compare(o, r, scenario)
        switch scenario {
        case "no-events":
            #expect(stdout.contains("log-rank across categories: not run (no LTP event)"), "\(stdout)")
        case "one-patient":
            #expect(stdout.contains("warning: 1 patients: cluster-robust errors and the patient bootstrap are unreliable"), "\(stdout)")
        case "empty-category":
            #expect(stdout.contains("LTP < 0 mm: 0/0"), "\(stdout)")
        default: break
        }
    }

    @Test("bad follow-up tables: one line naming the file and line, exit 65, nothing written; no results: exit 66")
    func badInput() throws {
        let out = folder.file("bad")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        _ = try ReferenceTools.run("outcome_cohort.py", [template, out, "normal", "--tumours", "20"])
        for (name, text, message) in [
            ("no-time.csv", "patient_id,case_id,tumour,ltp\nP1,p0001-0,1,0\n", "needs exactly one of the columns time_months and time_days"),
            ("flag.csv", "patient_id,case_id,tumour,time_months,ltp\nP1,p0001-0,1,3,2\n", "line 2: ltp is '2', not 0 or 1"),
            ("both.csv", "patient_id,case_id,tumour,time_days,ltp,competing\nP1,p0001-0,1,3,1,1\n", "line 2: ltp and competing are both 1; the first event ends follow-up"),
            ("time.csv", "patient_id,case_id,tumour,time_months,ltp\nP1,p0001-0,1,-3,1\n", "line 2: time_months is '-3', not a time >= 0"),
        ] {
            let path = folder.file(name)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let run = try Binary.run(["outcomes", out + "/results", "--follow-up", path, "--out", folder.file("bad-out-\(name)")])
            #expect(run.status == 65 && run.stderr == "error: \(path): \(message)\n", "\(name): \(run.status) \(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: folder.file("bad-out-\(name)")))
        }
        let empty = folder.file("empty-results")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let run = try Binary.run(["outcomes", empty, "--follow-up", out + "/follow_up.csv"])
        #expect(run.status == 66 && run.stderr.contains("no case results"), "\(run.status) \(run.stderr)")
    }
}
