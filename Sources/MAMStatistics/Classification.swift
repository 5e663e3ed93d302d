import Foundation
internal import MAMNumerics

/// Logistic regression by maximum likelihood (Newton-Raphson from 0, an intercept first), with
/// Wald standard errors from the inverse information and normal intervals, as statsmodels'
/// `Logit` (Docs/outcomes.md).
public struct LogisticRegression: Sendable {
    public struct Coefficient: Sendable, Equatable {
        public var beta: Double
        public var standardError: Double
        public var lower: Double
        public var upper: Double
        public var pValue: Double
        public var oddsRatio: Double { exp(beta) }
    }

    /// The intercept, then one per covariate.
    public let coefficients: [Coefficient]
    public let logLikelihood: Double

    public enum Failure: Error, Equatable {
        case oneOutcomeOnly
        /// Perfect separation or a constant covariate: no finite maximum.
        case noFiniteMaximum
    }

    public init(outcomes: [Bool], covariates: [[Double]], level: Double = 0.95) throws(Failure) {
        let n = outcomes.count, p = (covariates.first?.count ?? 0) + 1
        guard outcomes.contains(true), outcomes.contains(false) else { throw .oneOutcomeOnly }
        let x = covariates.map { [1] + $0 }
        let y = outcomes.map { $0 ? 1.0 : 0.0 }
        var beta = [Double](repeating: 0, count: p)
        var information = [Double](repeating: 0, count: p * p)
        var ll = -Double.infinity
        for iteration in 0... {
            guard iteration < 100 else { throw .noFiniteMaximum }
            var gradient = [Double](repeating: 0, count: p)
            information = [Double](repeating: 0, count: p * p)
            ll = 0
            for i in 0..<n {
                let eta = zip(x[i], beta).map(*).reduce(0, +)
                let mu = 1 / (1 + exp(-eta))
                ll += y[i] * eta - (eta > 0 ? eta + log1p(exp(-eta)) : log1p(exp(eta)))
                let w = mu * (1 - mu)
                for a in 0..<p {
                    gradient[a] += (y[i] - mu) * x[i][a]
                    for b in 0..<p { information[a * p + b] += w * x[i][a] * x[i][b] }
                }
            }
            guard let step = LinearSystem.solveSymmetricPositiveDefinite(information, gradient) else { throw .noFiniteMaximum }
            beta = zip(beta, step).map(+)
            if beta.contains(where: { abs($0) > 50 }) { throw .noFiniteMaximum }
            if step.map(abs).max()! < 1e-12 { break }
        }
        guard let variance = LinearSystem.inverseSymmetricPositiveDefinite(information, n: p) else { throw .noFiniteMaximum }
        let z = Distributions.normalQuantile(1 - (1 - level) / 2)
        coefficients = (0..<p).map { k in
            let se = variance[k * p + k].squareRoot()
            return Coefficient(beta: beta[k], standardError: se, lower: beta[k] - z * se, upper: beta[k] + z * se,
                               pValue: 2 * Distributions.normalUpperTail(abs(beta[k] / se)))
        }
        logLikelihood = ll
    }
}

/// The receiver operating characteristic of a score for a binary outcome (higher score: the
/// outcome more likely): the curve, its area (the Mann-Whitney probability, ties counting one
/// half, as scikit-learn's `roc_auc_score`) and the cut-off by Youden's index.
public struct ROCCurve: Sendable {
    public struct Point: Sendable, Equatable {
        /// Positive when score >= threshold.
        public var threshold: Double
        public var truePositiveRate: Double
        public var falsePositiveRate: Double
    }

    /// From (0, 0) at threshold +infinity down the distinct scores.
    public let points: [Point]
    public let area: Double
    /// The threshold with the largest TPR - FPR (the highest such threshold on a tie).
    public let youden: Point

    /// nil without both outcomes.
    public init?(scores: [Double], outcomes: [Bool]) {
        let positives = outcomes.filter { $0 }.count, negatives = outcomes.count - positives
        guard positives > 0, negatives > 0 else { return nil }
        let order = scores.indices.sorted { scores[$0] > scores[$1] }
        var points = [Point(threshold: .infinity, truePositiveRate: 0, falsePositiveRate: 0)]
        var tp = 0, fp = 0, n = 0
        var area = 0.0
        while n < order.count {
            let s = scores[order[n]]
            let (tp0, fp0) = (tp, fp)
            while n < order.count, scores[order[n]] == s {
                if outcomes[order[n]] { tp += 1 } else { fp += 1 }
                n += 1
            }
            // The trapezoid under the step from (fp0, tp0) to (fp, tp): ties count one half.
            area += Double(fp - fp0) * Double(tp + tp0) / 2
            points.append(Point(threshold: s, truePositiveRate: Double(tp) / Double(positives),
                                falsePositiveRate: Double(fp) / Double(negatives)))
        }
        self.points = points
        self.area = area / Double(positives * negatives)
        youden = points.dropFirst().max { a, b in
            let (ja, jb) = (a.truePositiveRate - a.falsePositiveRate, b.truePositiveRate - b.falsePositiveRate)
            return ja != jb ? ja < jb : a.threshold < b.threshold
        }!
    }

    /// A percentile bootstrap interval of the area, resampling clusters (patients) with
    /// replacement: `resamples` times, cluster k drawn as floor(u n) with u = (next() >> 11) 2^-53
    /// from `generator`; resamples without both outcomes are skipped (and counted); the interval's
    /// ends are the (1 - level)/2 and (1 + level)/2 quantiles by linear interpolation between
    /// order statistics (numpy's default). Docs/outcomes.md.
    public static func bootstrapArea<G: RandomNumberGenerator>(scores: [Double], outcomes: [Bool], clusters: [Int], resamples: Int,
                                                             level: Double = 0.95, generator: inout G)
        -> (lower: Double, upper: Double, skipped: Int)? {
        let ids = Array(Set(clusters)).sorted()
        var members: [Int: [Int]] = [:]
        for (i, c) in clusters.enumerated() { members[c, default: []].append(i) }
        var areas: [Double] = []
        var skipped = 0
        for _ in 0..<resamples {
            var s: [Double] = [], o: [Bool] = []
            for _ in 0..<ids.count {
                let u = Double(generator.next() >> 11) * 0x1p-53
                for i in members[ids[Int(u * Double(ids.count))]]! {
                    s.append(scores[i])
                    o.append(outcomes[i])
                }
            }
            if let roc = ROCCurve(scores: s, outcomes: o) { areas.append(roc.area) } else { skipped += 1 }
        }
        guard areas.count >= 2 else { return nil }
        areas.sort()
        func quantile(_ q: Double) -> Double {
            let h = q * Double(areas.count - 1), lo = Int(h.rounded(.down)), hi = min(lo + 1, areas.count - 1)
            return areas[lo] + (h - Double(lo)) * (areas[hi] - areas[lo])
        }
        return (quantile((1 - level) / 2), quantile((1 + level) / 2), skipped)
    }
}

/// Harrell's concordance index of a prediction with right-censored times (a higher prediction:
/// a longer expected time): over the comparable pairs (the earlier time an event; a censoring at
/// the same time as an event counts as later), the share ordered alike, ties in the prediction
/// one half. lifelines' `concordance_index`.
public enum Concordance {
    public static func index(_ data: CensoredTimes, predictions: [Double]) -> Double? {
        let order = data.times.indices.sorted { data.times[$0] < data.times[$1] }
        var pairs = 0.0, concordant = 0.0
        for (a, i) in order.enumerated() where data.events[i] {
            for j in order[(a + 1)...] {
                guard data.times[j] > data.times[i] || !data.events[j] else { continue }
                pairs += 1
                if predictions[i] < predictions[j] { concordant += 1 } else if predictions[i] == predictions[j] { concordant += 0.5 }
            }
            // Earlier-sorted subjects at the same time that were censored are comparable too.
            for j in order[..<a] where data.times[j] == data.times[i] && !data.events[j] {
                pairs += 1
                if predictions[i] < predictions[j] { concordant += 1 } else if predictions[i] == predictions[j] { concordant += 0.5 }
            }
        }
        return pairs > 0 ? concordant / pairs : nil
    }
}
