import Foundation
public import MAMCase
import MAMCore
import MAMStatistics

/// The trial's outcome analysis of local tumour progression (LTP) on joined tumours, every
/// figure with its method named (Docs/outcomes.md); written as outcomes.json
/// (Docs/outcomes.schema.json).
public struct OutcomesReport: Codable, Sendable, Equatable {
    public static let currentSchemaVersion = "1.0.0"

    public struct Options: Sendable {
        /// Logistic regression and ROC: LTP by this time (the follow-up's unit).
        public var horizon: Double
        /// The hypothesis: the LTP rate among tumours with a MAM of at least `marginMM` is below `rate`.
        public var hypothesisMarginMM: Double
        public var hypothesisRate: Double
        public var bootstrapResamples: Int
        public var seed: UInt64

        public init(horizon: Double, hypothesisMarginMM: Double, hypothesisRate: Double, bootstrapResamples: Int, seed: UInt64) {
            self.horizon = horizon
            self.hypothesisMarginMM = hypothesisMarginMM
            self.hypothesisRate = hypothesisRate
            self.bootstrapResamples = bootstrapResamples
            self.seed = seed
        }
    }

    public struct Counts: Codable, Sendable, Equatable {
        public var tumours: Int
        public var patients: Int
        public var ltp: Int
        public var competing: Int
        public var censored: Int
    }

    public struct Join: Codable, Sendable, Equatable {
        public var unmatchedRows: [OutcomeJoin.Unjoined]
        public var duplicateRows: [OutcomeJoin.Unjoined]
        public var tumoursWithoutFollowUp: [OutcomeJoin.Unjoined]
        public var tumoursWithoutMargin: [OutcomeJoin.Unjoined]
    }

    public struct Rate: Codable, Sendable, Equatable {
        public var group: String
        public var tumours: Int
        public var ltp: Int
        /// Null for an empty group.
        @Null public var rate: Double?
        @Null public var lower95: Double?
        @Null public var upper95: Double?
    }

    public struct Hypothesis: Codable, Sendable, Equatable {
        public var statement: String
        public var method: String
        public var marginAtLeastMM: Double
        public var rateBound: Double
        public var observed: Rate
        /// One-sided exact p-value of H0: rate >= bound; null without tumours.
        @Null public var pValue: Double?
        @Null public var supportedAt5Percent: Bool?
    }

    public struct CurveStep: Codable, Sendable, Equatable {
        public var time: Double
        public var atRisk: Int
        @Null public var events: Int?
        public var estimate: Double
        public var lower95: Double
        public var upper95: Double
    }

    public struct Curve: Codable, Sendable, Equatable {
        public var group: String
        public var tumours: Int
        public var steps: [CurveStep]
    }

    public struct Test: Codable, Sendable, Equatable {
        public var method: String
        @Null public var statistic: Double?
        @Null public var degreesOfFreedom: Int?
        @Null public var pValue: Double?
        /// Why the test could not be run; null when it ran.
        @Null public var message: String?
    }

    public struct Survival: Codable, Sendable, Equatable {
        public var method: String
        public var curves: [Curve]
        public var logRank: Test
    }

    public struct Incidence: Codable, Sendable, Equatable {
        public var method: String
        public var steps: [CurveStep]
    }

    public struct CoxFit: Codable, Sendable, Equatable {
        public var method: String
        public var tumours: Int
        public var events: Int
        public var covariates: [String]
        public var hazardRatios: [Double]
        public var lower95: [Double]
        public var upper95: [Double]
        public var pValues: [Double]
        public var proportionalHazards: [Test]
    }

    public struct LogisticFit: Codable, Sendable, Equatable {
        public var method: String
        public var tumours: Int
        public var events: Int
        public var oddsRatio: Double
        public var lower95: Double
        public var upper95: Double
        public var pValue: Double
    }

    public struct ROC: Codable, Sendable, Equatable {
        public var method: String
        public var tumours: Int
        public var events: Int
        public var auc: Double
        @Null public var lower95: Double?
        @Null public var upper95: Double?
        public var resamples: Int
        public var resamplesSkipped: Int
        /// Youden's cut-off in the figure's unit: progression predicted at or below it (at or
        /// above for a figure where higher is worse).
        public var youdenCutoff: Double
        public var sensitivity: Double
        public var specificity: Double
        /// The curve: false and true positive rates.
        public var points: [[Double]]
    }

    public struct Figure: Codable, Sendable, Equatable {
        public var key: String
        public var label: String
        public var unit: String
        public var higherIsBetter: Bool
        public var tumours: Int
        /// Each analysis, or null with the reason in `messages`.
        @Null public var cox: CoxFit?
        @Null public var logistic: LogisticFit?
        @Null public var roc: ROC?
        @Null public var concordance: Double?
        public var messages: [String]
    }

    public struct Tool: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
    }

    public var schemaVersion: String
    public var tool: Tool
    public var results: String
    public var followUp: String
    public var followUpSHA256: String
    public var timeUnit: String
    public var horizon: Double
    public var protocols: [String]
    public var counts: Counts
    public var join: Join
    public var rates: [Rate]
    public var hypothesis: Hypothesis
    public var kaplanMeier: Survival
    /// Null without a competing column.
    @Null public var cumulativeIncidence: Incidence?
    public var figures: [Figure]
    /// Cox regression on the MAM with the follow-up's covariates (tumours with all of them);
    /// null without covariates.
    @Null public var adjustedCox: CoxFit?
    /// The figure with the largest AUC and the one with the largest concordance.
    @Null public var bestByAUC: String?
    @Null public var bestByConcordance: String?
    public var warnings: [String]
}

extension OutcomesReport {
    /// Runs every analysis.
    public init(join: OutcomeJoin, followUp: FollowUpTable, followUpSHA256: String, results: String, toolVersion: String,
                options: Options) {
        let tumours = join.tumours
        var warnings: [String] = []
        let patients = Array(Set(tumours.map(\.patientId))).sorted()
        let clusterOf = Dictionary(uniqueKeysWithValues: patients.enumerated().map { ($1, $0) })
        let clusters = tumours.map { clusterOf[$0.patientId]! }
        if join.protocols.count > 1 {
            warnings.append("the results come from several protocols (\(join.protocols.joined(separator: ", "))); categories are matched by name")
        }
        if !join.unmatchedRows.isEmpty { warnings.append("\(join.unmatchedRows.count) follow-up rows match no tumour of the results") }
        if !join.duplicateRows.isEmpty { warnings.append("\(join.duplicateRows.count) follow-up rows are duplicates (their tumours are left out)") }
        if !join.withoutFollowUp.isEmpty { warnings.append("\(join.withoutFollowUp.count) tumours of the results have no follow-up") }
        if !join.withoutMargin.isEmpty { warnings.append("\(join.withoutMargin.count) tumours with follow-up have no margin (left out)") }
        if patients.count < 10, !tumours.isEmpty {
            warnings.append("\(patients.count) patients: cluster-robust errors and the patient bootstrap are unreliable with fewer than 10")
        }

        // Rates per category and the hypothesis.
        func rate(_ group: String, _ members: [OutcomeTumour]) -> Rate {
            let k = members.filter(\.ltp).count, n = members.count
            let ci = Binomial.clopperPearson(events: k, trials: n)
            return Rate(group: group, tumours: n, ltp: k, rate: n > 0 ? Double(k) / Double(n) : nil, lower95: ci?.lower, upper95: ci?.upper)
        }
        let categoryNames = join.categories.isEmpty ? Array(Set(tumours.compactMap(\.category))).sorted() : join.categories
        rates = categoryNames.map { name in rate(name, tumours.filter { $0.category == name }) } + [rate("all", tumours)]
        let qualifying = tumours.filter { ($0.figures[0] ?? -.infinity) >= options.hypothesisMarginMM }
        let observed = rate(String(format: "MAM >= %g mm", options.hypothesisMarginMM), qualifying)
        let p = Binomial.lessThanPValue(events: observed.ltp, trials: observed.tumours, p0: options.hypothesisRate)
        hypothesis = Hypothesis(
            statement: String(format: "LTP below %g%% among tumours with a MAM of at least %g mm", options.hypothesisRate * 100,
                              options.hypothesisMarginMM),
            method: "one-sided exact binomial test of H0: rate >= bound (crude rate: LTP during follow-up); Clopper-Pearson 95% interval",
            marginAtLeastMM: options.hypothesisMarginMM, rateBound: options.hypothesisRate, observed: observed, pValue: p,
            supportedAt5Percent: p.map { $0 < 0.05 })

        // Kaplan-Meier per category, log-rank across them.
        let ltpTimes = { (members: [OutcomeTumour]) in CensoredTimes(times: members.map(\.time), events: members.map(\.ltp)) }
        let groups = categoryNames.map { name in tumours.filter { $0.category == name } }
        let curves = zip(categoryNames, groups).map { name, members in
            Curve(group: name, tumours: members.count, steps: KaplanMeier(ltpTimes(members)).steps.map {
                CurveStep(time: $0.time, atRisk: $0.atRisk, events: $0.events, estimate: $0.survival, lower95: $0.lower, upper95: $0.upper)
            })
        }
        let logRankMethod = "log-rank test across the categories with tumours (chi-squared, groups - 1 df)"
        let logRank = LogRankTest(groups.map(ltpTimes)).map {
            Test(method: logRankMethod, statistic: $0.statistic, degreesOfFreedom: $0.degreesOfFreedom, pValue: $0.pValue, message: nil)
        } ?? Test(method: logRankMethod, message: groups.filter { !$0.isEmpty }.count < 2 ? "fewer than two categories hold tumours" : "no LTP event")
        kaplanMeier = Survival(method: "Kaplan-Meier LTP-free probability per category; Greenwood variance, log-log 95% interval "
                                   + "(competing events censored)", curves: curves, logRank: logRank)

        cumulativeIncidence = followUp.hasCompeting ? Incidence(
            method: "Aalen-Johansen cumulative incidence of LTP with competing events; Collett's variance, log-log 95% interval",
            steps: CumulativeIncidence(times: tumours.map(\.time), causes: tumours.map { $0.ltp ? 1 : $0.competing ? 2 : 0 }).steps.map {
                CurveStep(time: $0.time, atRisk: $0.atRisk, events: nil, estimate: $0.incidence, lower95: $0.lower, upper95: $0.upper)
            }) : nil

        // Each figure: Cox, logistic regression at the horizon, ROC with a patient bootstrap, concordance.
        var figures: [Figure] = []
        for (f, figure) in MarginFigure.all.enumerated() {
            let rows = tumours.indices.filter { tumours[$0].figures[f] != nil }
            let values = rows.map { tumours[$0].figures[f]! }
            var messages: [String] = []
            let data = CensoredTimes(times: rows.map { tumours[$0].time }, events: rows.map { tumours[$0].ltp })
            var cox: CoxFit?
            do {
                let fit = try CoxRegression(data, covariates: values.map { [$0] }, clusters: patients.count > 1 ? rows.map { clusters[$0] } : nil)
                cox = CoxFit(fit, covariates: [figure.key], tumours: rows.count)
            } catch {
                messages.append("Cox regression: \(Self.reason(error))")
            }
            // By the horizon: LTP before it, or followed past it without LTP.
            let horizonRows = rows.filter { tumours[$0].ltp || tumours[$0].time >= options.horizon }
            let outcome = horizonRows.map { tumours[$0].ltp && tumours[$0].time <= options.horizon }
            let horizonValues = horizonRows.map { tumours[$0].figures[f]! }
            var logistic: LogisticFit?
            do {
                let fit = try LogisticRegression(outcomes: outcome, covariates: horizonValues.map { [$0] })
                let c = fit.coefficients[1]
                logistic = LogisticFit(method: String(format: "logistic regression of LTP by %g (time unit of the follow-up) on the figure; "
                                                          + "Wald 95% interval", options.horizon),
                                       tumours: horizonRows.count, events: outcome.filter { $0 }.count, oddsRatio: c.oddsRatio,
                                       lower95: exp(c.lower), upper95: exp(c.upper), pValue: c.pValue)
            } catch {
                messages.append("logistic regression: \(Self.reason(error))")
            }
            var roc: ROC?
            let risk = horizonValues.map { figure.higherIsBetter ? -$0 : $0 }
            if Set(risk).count < 2 {
                messages.append("ROC: the figure has one value for every tumour")
            } else if let curve = ROCCurve(scores: risk, outcomes: outcome) {
                var generator = SeededGenerator(seed: options.seed)
                let boot = ROCCurve.bootstrapArea(scores: risk, outcomes: outcome, clusters: horizonRows.map { clusters[$0] },
                                                  resamples: options.bootstrapResamples, generator: &generator)
                let cut = figure.higherIsBetter ? -curve.youden.threshold : curve.youden.threshold
                roc = ROC(method: "ROC of LTP by the horizon; area as the Mann-Whitney probability; 95% percentile bootstrap "
                              + "resampling patients (seed \(options.seed)); Youden's index for the cut-off",
                          tumours: horizonRows.count, events: outcome.filter { $0 }.count, auc: curve.area, lower95: boot?.lower,
                          upper95: boot?.upper, resamples: options.bootstrapResamples, resamplesSkipped: boot?.skipped ?? options.bootstrapResamples,
                          youdenCutoff: cut, sensitivity: curve.youden.truePositiveRate, specificity: 1 - curve.youden.falsePositiveRate,
                          points: curve.points.map { [$0.falsePositiveRate, $0.truePositiveRate] })
            } else {
                messages.append("ROC: needs tumours with and without LTP by the horizon")
            }
            let concordance = Concordance.index(data, predictions: values.map { figure.higherIsBetter ? $0 : -$0 })
            if concordance == nil { messages.append("concordance: no comparable pair (no LTP event)") }
            figures.append(Figure(key: figure.key, label: figure.label, unit: figure.unit, higherIsBetter: figure.higherIsBetter,
                                  tumours: rows.count, cox: cox, logistic: logistic, roc: roc, concordance: concordance, messages: messages))
        }
        self.figures = figures
        bestByAUC = figures.filter { $0.roc != nil }.max { $0.roc!.auc < $1.roc!.auc }?.key
        bestByConcordance = figures.filter { $0.concordance != nil }.max { $0.concordance! < $1.concordance! }?.key

        // The MAM adjusted for the follow-up's covariates.
        adjustedCox = nil
        if !followUp.covariateNames.isEmpty {
            let rows = tumours.indices.filter { i in tumours[i].covariates.allSatisfy { $0 != nil } }
            let data = CensoredTimes(times: rows.map { tumours[$0].time }, events: rows.map { tumours[$0].ltp })
            do {
                let fit = try CoxRegression(data, covariates: rows.map { [tumours[$0].figures[0]!] + tumours[$0].covariates.map { $0! } },
                                            clusters: patients.count > 1 ? rows.map { clusters[$0] } : nil)
                adjustedCox = CoxFit(fit, covariates: ["mam"] + followUp.covariateNames, tumours: rows.count)
            } catch {
                warnings.append("the MAM adjusted for \(followUp.covariateNames.joined(separator: ", ")): \(Self.reason(error))")
            }
        }

        schemaVersion = Self.currentSchemaVersion
        tool = Tool(name: "mam-quantify", version: toolVersion)
        self.results = results
        self.followUp = followUp.path
        self.followUpSHA256 = followUpSHA256
        timeUnit = followUp.unit.rawValue
        horizon = options.horizon
        protocols = join.protocols
        counts = Counts(tumours: tumours.count, patients: patients.count, ltp: tumours.filter(\.ltp).count,
                        competing: tumours.filter(\.competing).count, censored: tumours.filter { !$0.ltp && !$0.competing }.count)
        self.join = Join(unmatchedRows: join.unmatchedRows, duplicateRows: join.duplicateRows, tumoursWithoutFollowUp: join.withoutFollowUp,
                         tumoursWithoutMargin: join.withoutMargin)
        self.warnings = warnings
    }

    static func reason(_ error: any Error) -> String {
        switch error {
        case CoxRegression.Failure.noEvents: return "no LTP event"
        case CoxRegression.Failure.singular: return "the figure does not vary, or separates the events (no finite estimate)"
        case CoxRegression.Failure.notConverged: return "did not converge"
        case LogisticRegression.Failure.oneOutcomeOnly: return "needs tumours with and without LTP by the horizon"
        case LogisticRegression.Failure.noFiniteMaximum: return "the figure separates the outcomes (no finite estimate)"
        default: return "\(error)"
        }
    }
}

extension OutcomesReport.CoxFit {
    init(_ fit: CoxRegression, covariates: [String], tumours: Int) {
        method = "Cox proportional hazards of LTP (Efron ties); " + (fit.robust ? "cluster-robust (per patient) standard errors" : "model-based standard errors (one patient)")
            + "; Wald 95% interval; proportional hazards by scaled Schoenfeld residuals against the rank of event times"
        self.tumours = tumours
        events = fit.events
        self.covariates = covariates
        hazardRatios = fit.coefficients.map(\.hazardRatio)
        lower95 = fit.coefficients.map { exp($0.lower) }
        upper95 = fit.coefficients.map { exp($0.upper) }
        pValues = fit.coefficients.map(\.pValue)
        proportionalHazards = fit.coefficients.map {
            .init(method: "Grambsch-Therneau test (rank of time), chi-squared 1 df", statistic: $0.proportionalHazardsStatistic,
                  degreesOfFreedom: 1, pValue: $0.proportionalHazardsPValue, message: nil)
        }
    }
}
