internal import _CGSL

/// Quantiles and tails of the distributions the statistics need, from GSL (`gsl_cdf_*`,
/// accurate to about 1e-10 relative).
public enum Distributions {
    /// The p-quantile of Fisher's F distribution with `d1` and `d2` degrees of freedom
    /// (`gsl_cdf_fdist_Pinv`): NaN when p is outside (0, 1) or a degree of freedom is not
    /// positive.
    public static func fQuantile(_ p: Double, _ d1: Double, _ d2: Double) -> Double {
        GSL.configure()
        return gsl_cdf_fdist_Pinv(p, d1, d2)
    }

    /// The p-quantile of the standard normal distribution (`gsl_cdf_ugaussian_Pinv`).
    public static func normalQuantile(_ p: Double) -> Double {
        GSL.configure()
        return gsl_cdf_ugaussian_Pinv(p)
    }

    /// P(Z > z) for a standard normal Z (`gsl_cdf_ugaussian_Q`).
    public static func normalUpperTail(_ z: Double) -> Double {
        GSL.configure()
        return gsl_cdf_ugaussian_Q(z)
    }

    /// P(X > x) for X chi-squared with `df` degrees of freedom (`gsl_cdf_chisq_Q`).
    public static func chiSquaredUpperTail(_ x: Double, df: Double) -> Double {
        GSL.configure()
        return gsl_cdf_chisq_Q(x, df)
    }

    /// The p-quantile of the beta distribution (`gsl_cdf_beta_Pinv`).
    public static func betaQuantile(_ p: Double, _ a: Double, _ b: Double) -> Double {
        GSL.configure()
        return gsl_cdf_beta_Pinv(p, a, b)
    }

    /// P(X <= k) for X binomial with n trials of probability p (`gsl_cdf_binomial_P`).
    public static func binomialCDF(_ k: Int, p: Double, n: Int) -> Double {
        GSL.configure()
        return gsl_cdf_binomial_P(UInt32(k), p, UInt32(n))
    }
}
