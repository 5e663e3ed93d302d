internal import _CGSL

/// Small dense symmetric positive definite systems through GSL's Cholesky decomposition
/// (`gsl_linalg_cholesky_decomp1`). Matrices are n x n, row-major; every function returns nil
/// when the matrix is not positive definite (numerically) or a result is not finite.
public enum LinearSystem {
    /// x with A x = b.
    public static func solveSymmetricPositiveDefinite(_ a: [Double], _ b: [Double]) -> [Double]? {
        let n = b.count
        return cholesky(a, n: n) { m in
            let rhs = GSL.vector(b)
            defer { gsl_vector_free(rhs) }
            guard gsl_linalg_cholesky_svx(m, rhs) == GSL_SUCCESS else { return nil }
            return (0..<n).map { gsl_vector_get(rhs, $0) }
        }
    }

    /// The lower-triangular factor L with L L^T = A.
    public static func choleskyFactor(_ a: [Double], n: Int) -> [Double]? {
        cholesky(a, n: n) { m in
            (0..<(n * n)).map { v in v % n <= v / n ? gsl_matrix_get(m, v / n, v % n) : 0 }
        }
    }

    /// The inverse of A.
    public static func inverseSymmetricPositiveDefinite(_ a: [Double], n: Int) -> [Double]? {
        cholesky(a, n: n) { m in
            guard gsl_linalg_cholesky_invert(m) == GSL_SUCCESS else { return nil }
            return (0..<(n * n)).map { gsl_matrix_get(m, $0 / n, $0 % n) }
        }
    }

    /// Decomposes A in a GSL matrix and hands it to `use`; nil for a failed decomposition or a
    /// result that is not finite.
    private static func cholesky(_ a: [Double], n: Int,
                                 _ use: (UnsafeMutablePointer<gsl_matrix>) -> [Double]?) -> [Double]? {
        precondition(a.count == n * n, "not an n x n matrix")
        GSL.configure()
        let m = gsl_matrix_alloc(n, n)!
        defer { gsl_matrix_free(m) }
        for v in 0..<(n * n) { gsl_matrix_set(m, v / n, v % n, a[v]) }
        guard gsl_linalg_cholesky_decomp1(m) == GSL_SUCCESS, let x = use(m) else { return nil }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
