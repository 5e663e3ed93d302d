import Foundation
import MAMCore
import MAMStatistics
import MAMTestSupport
import Testing

/// The outcome statistics against lifelines, statsmodels, scipy and scikit-learn on the same
/// data (Tests/Tools/outcomes_reference.py): lifelines' Rossi data (weekly times, many ties) and
/// a simulated cohort of 616 tumours in 300 patients with a known hazard ratio per mm of margin.
/// Point estimates within 1e-6 relative (both sides converge to ~1e-10), interval ends within
/// 1e-4 (the issue's bounds).
@Suite("Outcome statistics agree with lifelines, statsmodels, scipy and scikit-learn", .serialized)
struct OutcomeStatisticsTests {
    struct KM: Decodable { let times, survival, lower, upper: [Double] }
    struct Cox: Decodable {
        let covariates: [String]
        let robust: Bool
        let beta, se, lower, upper, p, phStatistic, phP: [Double]
        let logLikelihood: Double
    }
    struct Logit: Decodable { let beta, se, lower, upper, p: [Double]; let logLikelihood: Double }
    struct Classification: Decodable {
        let auc, youdenThreshold, youdenTPR, youdenFPR: Double
        let bootstrap: [Double]
    }
    struct Rossi: Decodable {
        let time: [Double], event: [Int], cluster: [Int], fin, age, prio: [Double]
        let km: [KM]
        let logrank, logrank3, concordance: Double
        let coxSingle, coxMulti, coxModel: Cox
        let logit: Logit
        let classification: Classification
    }
    struct AJ: Decodable { let times, incidence: [Double]; let lower, upper: [Double?] }
    struct Simulated: Decodable {
        let time: [Double], cause: [Int], cluster: [Int], mam: [Double]
        let trueLogHazardRatio: Double
        let cox: Cox
        let aj: AJ
        let km: [KM]
        let concordance: Double
        let horizonIndex: [Int]
        let logit: Logit
        let classification: Classification
    }
    struct BinomialCase: Decodable { let k, n: Int; let lower, upper, pLess: Double }
    struct Reference: Decodable {
        let rossi: Rossi
        let simulated: Simulated
        let binomial: [BinomialCase]
    }

    /// Made once for the suite's tests.
    static let reference = Result { () throws -> Reference in
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("reference.json")
        _ = try ReferenceTools.run("outcomes_reference.py", [path])
        return try JSONDecoder().decode(Reference.self, from: try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func load() throws -> Reference { try reference.get() }

    static func point(_ mine: Double, _ theirs: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(mine - theirs) <= 1e-6 * max(abs(theirs), 1e-300) || abs(mine - theirs) < 1e-12,
                "\(what): \(mine) vs \(theirs)", sourceLocation: sourceLocation)
    }

    static func interval(_ mine: Double, _ theirs: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(abs(mine - theirs) <= 1e-4, "\(what): \(mine) vs \(theirs)", sourceLocation: sourceLocation)
    }

    static func checkKM(_ km: KaplanMeier, _ theirs: KM, _ what: String) {
        for (n, t) in theirs.times.enumerated() {
            guard let step = km.steps.last(where: { $0.time <= t }) else { Issue.record("\(what): no step at \(t)"); continue }
            point(step.survival, theirs.survival[n], "\(what) S(\(t))")
            interval(step.lower, theirs.lower[n], "\(what) lower(\(t))")
            interval(step.upper, theirs.upper[n], "\(what) upper(\(t))")
        }
    }

    static func checkCox(_ cox: CoxRegression, _ theirs: Cox, _ what: String) {
        #expect(cox.robust == theirs.robust)
        point(cox.logLikelihood, theirs.logLikelihood, "\(what) log-likelihood")
        for (k, c) in cox.coefficients.enumerated() {
            let name = "\(what) \(theirs.covariates[k])"
            point(c.beta, theirs.beta[k], "\(name) beta")
            point(c.standardError, theirs.se[k], "\(name) se")
            interval(c.lower, theirs.lower[k], "\(name) lower")
            interval(c.upper, theirs.upper[k], "\(name) upper")
            point(c.pValue, theirs.p[k], "\(name) p")
            point(c.proportionalHazardsStatistic, theirs.phStatistic[k], "\(name) PH statistic")
            point(c.proportionalHazardsPValue, theirs.phP[k], "\(name) PH p")
        }
    }

    static func checkLogit(_ fit: LogisticRegression, _ theirs: Logit, _ what: String) {
        point(fit.logLikelihood, theirs.logLikelihood, "\(what) log-likelihood")
        for (k, c) in fit.coefficients.enumerated() {
            point(c.beta, theirs.beta[k], "\(what) beta \(k)")
            point(c.standardError, theirs.se[k], "\(what) se \(k)")
            interval(c.lower, theirs.lower[k], "\(what) lower \(k)")
            interval(c.upper, theirs.upper[k], "\(what) upper \(k)")
            point(c.pValue, theirs.p[k], "\(what) p \(k)")
        }
    }

    static func checkClassification(scores: [Double], outcomes: [Bool], clusters: [Int], _ theirs: Classification, _ what: String) throws {
        let roc = try #require(ROCCurve(scores: scores, outcomes: outcomes))
        point(roc.area, theirs.auc, "\(what) AUC")
        point(roc.youden.threshold, theirs.youdenThreshold, "\(what) Youden threshold")
        point(roc.youden.truePositiveRate, theirs.youdenTPR, "\(what) Youden TPR")
        point(roc.youden.falsePositiveRate, theirs.youdenFPR, "\(what) Youden FPR")
        // The same resamples (the documented SplitMix64 scheme, reimplemented in Python).
        var generator = SeededGenerator(seed: 2026)
        let boot = try #require(ROCCurve.bootstrapArea(scores: scores, outcomes: outcomes, clusters: clusters, resamples: 200,
                                                       generator: &generator))
        interval(boot.lower, theirs.bootstrap[0], "\(what) bootstrap lower")
        interval(boot.upper, theirs.bootstrap[1], "\(what) bootstrap upper")
    }

    @Test("Rossi data: Kaplan-Meier with log-log Greenwood intervals, log-rank (2 and 3 groups), Cox (one and three covariates; model-based and cluster-robust) with the PH test, concordance, logistic regression, ROC")
    func rossi() throws {
        let r = try Self.load().rossi
        let all = CensoredTimes(times: r.time, events: r.event.map { $0 == 1 })
        func subset(_ keep: (Int) -> Bool) -> CensoredTimes {
            let rows = r.time.indices.filter(keep)
            return CensoredTimes(times: rows.map { r.time[$0] }, events: rows.map { r.event[$0] == 1 })
        }
        for g in 0..<2 { Self.checkKM(KaplanMeier(subset { Int(r.fin[$0]) == g }), r.km[g], "KM fin=\(g)") }
        Self.point(try #require(LogRankTest([subset { r.fin[$0] == 0 }, subset { r.fin[$0] == 1 }])).statistic, r.logrank, "log-rank")
        let three = (0..<3).map { g in subset { Int(min(r.prio[$0], 2)) == g } }
        Self.point(try #require(LogRankTest(three)).statistic, r.logrank3, "log-rank, 3 groups")
        Self.checkCox(try CoxRegression(all, covariates: r.prio.map { [$0] }, clusters: r.cluster), r.coxSingle, "Cox prio (robust)")
        let three3 = r.time.indices.map { [r.fin[$0], r.age[$0], r.prio[$0]] }
        Self.checkCox(try CoxRegression(all, covariates: three3, clusters: r.cluster), r.coxMulti, "Cox fin+age+prio (robust)")
        Self.checkCox(try CoxRegression(all, covariates: three3), r.coxModel, "Cox fin+age+prio")
        Self.point(try #require(Concordance.index(all, predictions: r.prio.map { -$0 })), r.concordance, "concordance")
        Self.checkLogit(try LogisticRegression(outcomes: r.event.map { $0 == 1 }, covariates: three3), r.logit, "logit")
        try Self.checkClassification(scores: r.prio, outcomes: r.event.map { $0 == 1 }, clusters: r.cluster, r.classification, "ROC prio")
    }

    @Test("simulated cohort (hazard ratio 0.75 per mm, death competing): Cox recovers the ratio within its interval; Aalen-Johansen, Kaplan-Meier, concordance, logistic regression at 24 months, ROC")
    func simulated() throws {
        let s = try Self.load().simulated
        let ltp = CensoredTimes(times: s.time, events: s.cause.map { $0 == 1 })
        let cox = try CoxRegression(ltp, covariates: s.mam.map { [$0] }, clusters: s.cluster)
        Self.checkCox(cox, s.cox, "Cox MAM (robust)")
        let c = cox.coefficients[0]
        #expect(c.lower <= s.trueLogHazardRatio && s.trueLogHazardRatio <= c.upper,
                "true log hazard ratio \(s.trueLogHazardRatio) outside [\(c.lower), \(c.upper)]")

        let aj = CumulativeIncidence(times: s.time, causes: s.cause)
        for (n, t) in s.aj.times.enumerated() {
            let step = try #require(aj.steps.last { $0.time <= t })
            Self.point(step.incidence, s.aj.incidence[n], "AJ F(\(t))")
            if let lower = s.aj.lower[n], let upper = s.aj.upper[n] {
                Self.interval(step.lower, lower, "AJ lower(\(t))")
                Self.interval(step.upper, upper, "AJ upper(\(t))")
            }
        }
        func subset(_ keep: (Int) -> Bool) -> CensoredTimes {
            let rows = s.time.indices.filter(keep)
            return CensoredTimes(times: rows.map { s.time[$0] }, events: rows.map { s.cause[$0] == 1 })
        }
        Self.checkKM(KaplanMeier(subset { s.mam[$0] >= 2 }), s.km[0], "KM MAM >= 2")
        Self.checkKM(KaplanMeier(subset { s.mam[$0] < 2 }), s.km[1], "KM MAM < 2")
        Self.point(try #require(Concordance.index(ltp, predictions: s.mam)), s.concordance, "concordance")

        let rows = s.horizonIndex
        let outcomes = rows.map { s.cause[$0] == 1 }
        Self.checkLogit(try LogisticRegression(outcomes: outcomes, covariates: rows.map { [s.mam[$0]] }), s.logit, "logit at 24 months")
        try Self.checkClassification(scores: rows.map { -s.mam[$0] }, outcomes: outcomes, clusters: rows.map { s.cluster[$0] },
                                     s.classification, "ROC -MAM")
    }

    @Test("Clopper-Pearson intervals and the one-sided exact binomial test (statsmodels, scipy), 0 and all events included")
    func binomial() throws {
        for b in try Self.load().binomial {
            let ci = try #require(Binomial.clopperPearson(events: b.k, trials: b.n))
            Self.interval(ci.lower, b.lower, "CP lower \(b.k)/\(b.n)")
            Self.interval(ci.upper, b.upper, "CP upper \(b.k)/\(b.n)")
            Self.point(try #require(Binomial.lessThanPValue(events: b.k, trials: b.n, p0: 0.1)), b.pLess, "binomial p \(b.k)/\(b.n)")
        }
    }
}
