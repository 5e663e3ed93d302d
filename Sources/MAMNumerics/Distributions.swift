internal import _CGSL

/// Quantiles of the distributions the statistics need, from GSL.
public enum Distributions {
    /// The p-quantile of Fisher's F distribution with `d1` and `d2` degrees of freedom (GSL's
    /// `gsl_cdf_fdist_Pinv`, accurate to about 1e-10 relative): NaN when p is outside (0, 1) or
    /// a degree of freedom is not positive.
    public static func fQuantile(_ p: Double, _ d1: Double, _ d2: Double) -> Double {
        GSL.configure()
        return gsl_cdf_fdist_Pinv(p, d1, d2)
    }
}
