internal import MAMNumerics

/// Exact inference on a proportion: k events among n (Docs/outcomes.md).
public enum Binomial {
    /// The Clopper-Pearson interval at `level`: the beta quantiles
    /// B(a/2; k, n - k + 1) and B(1 - a/2; k + 1, n - k), a = 1 - level; 0 below when k = 0, 1
    /// above when k = n. nil when n = 0.
    public static func clopperPearson(events k: Int, trials n: Int, level: Double = 0.95) -> (lower: Double, upper: Double)? {
        guard n > 0, (0...n).contains(k) else { return nil }
        let a = 1 - level
        let lower = k == 0 ? 0 : Distributions.betaQuantile(a / 2, Double(k), Double(n - k + 1))
        let upper = k == n ? 1 : Distributions.betaQuantile(1 - a / 2, Double(k + 1), Double(n - k))
        return (lower, upper)
    }

    /// The one-sided exact test of H0: p >= p0 against p < p0: P(X <= k) for X ~ Binomial(n, p0).
    public static func lessThanPValue(events k: Int, trials n: Int, p0: Double) -> Double? {
        guard n > 0, (0...n).contains(k), p0 > 0, p0 < 1 else { return nil }
        return Distributions.binomialCDF(k, p: p0, n: n)
    }
}
