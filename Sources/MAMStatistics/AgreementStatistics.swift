import MAMNumerics

/// Intraclass correlation of n targets each rated by the same k raters (Shrout and Fleiss,
/// 1979, Psychol Bull 86:420), from the two-way ANOVA mean squares.
public struct IntraclassCorrelation: Sendable, Equatable, Codable {
    /// ICC with its confidence interval (null bounds when the interval is undefined).
    public struct Estimate: Sendable, Equatable, Codable {
        public var value: Double
        public var lower: Double?
        public var upper: Double?
    }

    /// ICC(2,1): two-way random effects, absolute agreement, single rater.
    public var icc21: Estimate
    /// ICC(3,1): two-way mixed effects, consistency, single rater.
    public var icc31: Estimate
    public var targets: Int
    public var raters: Int
    public var confidence: Double

    /// `ratings[i][j]`: target i, rater j. Needs n >= 2 targets, k >= 2 raters, and some
    /// residual variance (EMS > 0); nil otherwise.
    public init?(_ ratings: [[Double]], confidence: Double = 0.95) {
        let n = ratings.count
        guard n >= 2, let k = ratings.first?.count, k >= 2, ratings.allSatisfy({ $0.count == k }) else { return nil }
        let (nd, kd) = (Double(n), Double(k))
        let grand = ratings.joined().reduce(0, +) / (nd * kd)
        let rowMeans = ratings.map { $0.reduce(0, +) / kd }
        let columnMeans = (0..<k).map { j in ratings.map { $0[j] }.reduce(0, +) / nd }
        let total = ratings.joined().map { ($0 - grand) * ($0 - grand) }.reduce(0, +)
        let between = kd * rowMeans.map { ($0 - grand) * ($0 - grand) }.reduce(0, +)
        let judges = nd * columnMeans.map { ($0 - grand) * ($0 - grand) }.reduce(0, +)
        let bms = between / (nd - 1)
        let jms = judges / (kd - 1)
        let ems = (total - between - judges) / ((nd - 1) * (kd - 1))
        guard ems > 0 else { return nil }
        let alpha = 1 - confidence
        func f(_ p: Double, _ d1: Double, _ d2: Double) -> Double { Distributions.fQuantile(p, d1, d2) }

        // ICC(3,1) and its exact F-based interval.
        let icc3 = (bms - ems) / (bms + (kd - 1) * ems)
        let f0 = bms / ems
        let fl = f0 / f(1 - alpha / 2, nd - 1, (nd - 1) * (kd - 1))
        let fu = f0 * f(1 - alpha / 2, (nd - 1) * (kd - 1), nd - 1)
        icc31 = Estimate(value: icc3, lower: Self.defined((fl - 1) / (fl + kd - 1)), upper: Self.defined((fu - 1) / (fu + kd - 1)))

        // ICC(2,1) and its interval with Satterthwaite's degrees of freedom.
        let icc2 = (bms - ems) / (bms + (kd - 1) * ems + kd * (jms - ems) / nd)
        let fj = jms / ems
        let a = kd * icc2 / (nd * (1 - icc2))
        let b = 1 + kd * icc2 * (nd - 1) / (nd * (1 - icc2))
        let v = (a * fj + b) * (a * fj + b) / (a * a * fj * fj / (kd - 1) + b * b / ((nd - 1) * (kd - 1)))
        var estimate2 = Estimate(value: icc2, lower: nil, upper: nil)
        if v.isFinite, v > 0 {
            let fStar = f(1 - alpha / 2, nd - 1, v)
            let fStarStar = f(1 - alpha / 2, v, nd - 1)
            let common = kd * jms + (kd * nd - kd - nd) * ems
            estimate2.lower = Self.defined(nd * (bms - fStar * ems) / (fStar * common + nd * bms))
            estimate2.upper = Self.defined(nd * (fStarStar * bms - ems) / (common + nd * fStarStar * bms))
        }
        icc21 = estimate2
        targets = n
        raters = k
        self.confidence = confidence
    }

    /// A bound, or nil where its formula is undefined (an F quantile that GSL cannot give for
    /// Satterthwaite's degrees of freedom below 1, say): null in reports, never NaN.
    static func defined(_ bound: Double) -> Double? { bound.isFinite ? bound : nil }
}

/// Bland-Altman agreement of paired measurements: bias (mean of B - A) and the 95% limits of
/// agreement, bias -+ 1.96 SD of the differences (sample SD, n - 1).
public struct BlandAltman: Sendable, Equatable, Codable {
    public var pairs: Int
    public var biasMM: Double
    public var sdMM: Double
    public var lowerLimitMM: Double
    public var upperLimitMM: Double

    public init?(a: [Double], b: [Double]) {
        guard a.count == b.count, a.count >= 2 else { return nil }
        let d = zip(a, b).map { $1 - $0 }
        let n = Double(d.count)
        let mean = d.reduce(0, +) / n
        let sd = (d.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / (n - 1)).squareRoot()
        pairs = d.count
        biasMM = mean
        sdMM = sd
        lowerLimitMM = mean - 1.96 * sd
        upperLimitMM = mean + 1.96 * sd
    }
}

/// Cohen's kappa of two raters' categories (1...c), unweighted and weighted.
public struct CohenKappa: Sendable, Equatable, Codable {
    public var categories: Int
    public var observedAgreement: Double
    public var kappa: Double?
    /// Linear weights |i - j| / (c - 1).
    public var linearWeightedKappa: Double?
    /// Quadratic weights (i - j)^2 / (c - 1)^2.
    public var quadraticWeightedKappa: Double?

    /// `a[i]`, `b[i]`: the two raters' categories (1...categories) of item i. Kappa is nil when
    /// chance agreement is complete (both raters always use one and the same category).
    public init?(a: [Int], b: [Int], categories c: Int) {
        guard a.count == b.count, !a.isEmpty, c >= 2,
              (a + b).allSatisfy({ (1...c).contains($0) }) else { return nil }
        var table = [[Double]](repeating: [Double](repeating: 0, count: c), count: c)
        for (x, y) in zip(a, b) { table[x - 1][y - 1] += 1 }
        let n = Double(a.count)
        let rows = table.map { $0.reduce(0, +) / n }
        let columns = (0..<c).map { j in table.map { $0[j] }.reduce(0, +) / n }
        func weighted(_ w: (Int, Int) -> Double) -> Double? {
            var observed = 0.0, expected = 0.0
            for i in 0..<c {
                for j in 0..<c {
                    observed += w(i, j) * table[i][j] / n
                    expected += w(i, j) * rows[i] * columns[j]
                }
            }
            return expected > 0 ? 1 - observed / expected : nil
        }
        categories = c
        observedAgreement = (0..<c).map { table[$0][$0] }.reduce(0, +) / n
        kappa = weighted { $0 == $1 ? 0 : 1 }
        linearWeightedKappa = weighted { Double(abs($0 - $1)) / Double(c - 1) }
        quadraticWeightedKappa = weighted { Double(($0 - $1) * ($0 - $1)) / Double((c - 1) * (c - 1)) }
    }
}
