import Foundation
internal import MAMNumerics

/// Right-censored times: each subject's time (to the event or the last follow-up) and whether
/// the event was seen.
public struct CensoredTimes: Sendable {
    public var times: [Double]
    public var events: [Bool]

    public init(times: [Double], events: [Bool]) {
        precondition(times.count == events.count, "one event flag per time")
        self.times = times
        self.events = events
    }

    public var count: Int { times.count }

    /// The distinct times, ascending, with the subjects at risk just before each (time >= t),
    /// the events and the censorings at it.
    func table() -> [(time: Double, atRisk: Int, events: Int, censored: Int)] {
        let order = times.indices.sorted { times[$0] < times[$1] }
        var rows: [(time: Double, atRisk: Int, events: Int, censored: Int)] = []
        var atRisk = times.count, n = 0
        while n < order.count {
            let t = times[order[n]]
            var d = 0, c = 0
            while n < order.count, times[order[n]] == t {
                if events[order[n]] { d += 1 } else { c += 1 }
                n += 1
            }
            rows.append((t, atRisk, d, c))
            atRisk -= d + c
        }
        return rows
    }
}

/// The Kaplan-Meier estimate of the event-free probability, with Greenwood's variance and the
/// "exponential Greenwood" (log-log) interval, as lifelines computes them (Docs/outcomes.md).
public struct KaplanMeier: Sendable {
    public struct Step: Sendable, Equatable {
        /// From this time on (0 for the first step), until the next step.
        public var time: Double
        /// Subjects at risk just before `time`, events and censorings at it.
        public var atRisk: Int
        public var events: Int
        public var censored: Int
        public var survival: Double
        /// Greenwood's sum: sum over event times up to here of d / (n (n - d)).
        public var greenwood: Double
        public var lower: Double
        public var upper: Double
    }

    /// Time 0, then every distinct time (events and censorings alike).
    public let steps: [Step]

    public init(_ data: CensoredTimes, level: Double = 0.95) {
        let z = Distributions.normalQuantile(1 - (1 - level) / 2)
        var s = 1.0, sum = 0.0
        var steps = [Step(time: 0, atRisk: data.count, events: 0, censored: 0, survival: 1, greenwood: 0, lower: 1, upper: 1)]
        for row in data.table() {
            let n = Double(row.atRisk), d = Double(row.events)
            if row.events > 0 {
                s *= 1 - d / n
                if row.atRisk > row.events { sum += d / (n * (n - d)) }
            }
            // exp(-exp(log(-log S) -+ z sqrt(V) / log S)); at S = 1 the interval is (1, 1), at
            // S = 0 it is (0, 0), as lifelines has them.
            let v = s > 0 ? Foundation.log(s) : -Double.infinity
            var lower = s > 0 ? 1.0 : 0, upper = s > 0 ? 1.0 : 0
            if v < 0, v.isFinite {
                lower = exp(-exp(Foundation.log(-v) - z * sum.squareRoot() / v))
                upper = exp(-exp(Foundation.log(-v) + z * sum.squareRoot() / v))
            }
            if row.time == 0, steps.count == 1 {
                steps[0] = Step(time: 0, atRisk: row.atRisk, events: row.events, censored: row.censored, survival: s,
                                greenwood: sum, lower: lower, upper: upper)
            } else {
                steps.append(Step(time: row.time, atRisk: row.atRisk, events: row.events, censored: row.censored, survival: s,
                                  greenwood: sum, lower: lower, upper: upper))
            }
        }
        self.steps = steps
    }

    /// The estimate at time t (the last step at or before t).
    public func survival(at t: Double) -> Double { steps.last { $0.time <= t }?.survival ?? 1 }

    /// Subjects at risk at time t (time >= t): for the numbers under a plot.
    public func atRisk(at t: Double) -> Int {
        if let step = steps.first(where: { $0.time >= t }) { return step.atRisk }
        return 0
    }
}

/// The log-rank test of equal event-time distributions in k groups (Mantel-Haenszel form: the
/// observed minus expected events of k - 1 groups against their hypergeometric covariance, a
/// chi-squared statistic with k - 1 degrees of freedom), as lifelines'
/// `multivariate_logrank_test`.
public struct LogRankTest: Sendable {
    public let statistic: Double
    public let degreesOfFreedom: Int
    public let pValue: Double
    public let observed: [Int]
    public let expected: [Double]

    /// nil with fewer than two non-empty groups or no event.
    public init?(_ groups: [CensoredTimes]) {
        let groups = groups.filter { $0.count > 0 }
        let k = groups.count
        guard k >= 2, groups.contains(where: { $0.events.contains(true) }) else { return nil }
        let eventTimes = Set(groups.flatMap { g in g.times.indices.filter { g.events[$0] }.map { g.times[$0] } }).sorted()
        var observed = [Int](repeating: 0, count: k), expected = [Double](repeating: 0, count: k)
        var covariance = [Double](repeating: 0, count: k * k)
        for t in eventTimes {
            let atRisk = groups.map { g in Double(g.times.filter { $0 >= t }.count) }
            let deaths = groups.map { g in g.times.indices.filter { g.times[$0] == t && g.events[$0] }.count }
            let n = atRisk.reduce(0, +), d = Double(deaths.reduce(0, +))
            for a in 0..<k {
                observed[a] += deaths[a]
                expected[a] += d * atRisk[a] / n
                guard n > 1 else { continue }
                let factor = d * (n - d) / (n - 1) * atRisk[a] / n
                for b in 0..<k { covariance[a * k + b] += factor * ((a == b ? 1 : 0) - atRisk[b] / n) }
            }
        }
        // The first k - 1 groups (the k-th is determined by them).
        let m = k - 1
        let difference = (0..<m).map { Double(observed[$0]) - expected[$0] }
        let sub = (0..<(m * m)).map { covariance[($0 / m) * k + $0 % m] }
        guard let solved = LinearSystem.solveSymmetricPositiveDefinite(sub, difference) else { return nil }
        statistic = zip(difference, solved).map(*).reduce(0, +)
        degreesOfFreedom = m
        pValue = Distributions.chiSquaredUpperTail(statistic, df: Double(m))
        self.observed = observed
        self.expected = expected
    }
}

/// The cumulative incidence of one event type when other events compete (death before local
/// progression, say): the Aalen-Johansen estimate F(t) = sum over t_i <= t of S(t_{i-1}) d1_i / n_i
/// (S the all-cause Kaplan-Meier estimate), with the variance of Collett (Modelling Survival
/// Data in Medical Research, 3rd ed., p. 411) and a log-log interval, as lifelines'
/// `AalenJohansenFitter` (which jitters times where events of different types tie; the formula
/// here takes ties as they are).
public struct CumulativeIncidence: Sendable {
    public struct Step: Sendable, Equatable {
        public var time: Double
        public var atRisk: Int
        public var incidence: Double
        public var variance: Double
        public var lower: Double
        public var upper: Double
    }

    public let steps: [Step]

    /// `causes[i]`: 0 censored, 1 the event of interest, 2 a competing event.
    public init(times: [Double], causes: [Int], level: Double = 0.95) {
        let z = Distributions.normalQuantile(1 - (1 - level) / 2)
        let order = times.indices.sorted { times[$0] < times[$1] }
        var steps = [Step(time: 0, atRisk: times.count, incidence: 0, variance: 0, lower: 0, upper: 0)]
        var atRisk = times.count, n = 0
        var survival = 1.0, incidence = 0.0
        // Per step i: (a_i, F_i) of the quadratic and linear sums, and the middle sum.
        var quadratic: [(Double, Double)] = [], linear: [(Double, Double)] = []
        var middle = 0.0
        while n < order.count {
            let t = times[order[n]]
            var all = 0, interest = 0, leaving = 0
            while n < order.count, times[order[n]] == t {
                let cause = causes[order[n]]
                if cause != 0 { all += 1 }
                if cause == 1 { interest += 1 }
                leaving += 1
                n += 1
            }
            let r = Double(atRisk), d = Double(all), dj = Double(interest)
            let lagged = survival
            incidence += lagged * dj / r
            survival *= 1 - d / r
            quadratic.append((d / (r * (r - d)), incidence))
            middle += lagged * lagged * dj * (r - dj) / (r * r * r)
            linear.append((lagged * dj / (r * r), incidence))
            let f = incidence
            let variance = quadratic.map { $0.0 * (f - $0.1) * (f - $0.1) }.reduce(0, +) + middle
                - 2 * linear.map { $0.0 * (f - $0.1) }.reduce(0, +)
            var lower = 0.0, upper = 0.0
            if f > 0, f < 1, variance.isFinite {
                let se = variance.squareRoot() / (f * abs(Foundation.log(f)))
                let a = exp(-exp(Foundation.log(-Foundation.log(f)) + z * se)), b = exp(-exp(Foundation.log(-Foundation.log(f)) - z * se))
                (lower, upper) = (min(a, b), max(a, b))
            }
            if t == 0, steps.count == 1 {
                steps[0] = Step(time: 0, atRisk: atRisk, incidence: f, variance: variance, lower: lower, upper: upper)
            } else {
                steps.append(Step(time: t, atRisk: atRisk, incidence: f, variance: variance, lower: lower, upper: upper))
            }
            atRisk -= leaving
        }
        self.steps = steps
    }
}
