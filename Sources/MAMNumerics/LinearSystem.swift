internal import _CGSL

/// Small dense linear systems through GSL.
public enum LinearSystem {
    /// Solves A x = b for a symmetric positive definite n x n matrix A (row-major) by GSL's
    /// Cholesky decomposition (`gsl_linalg_cholesky_decomp1`); nil when A is not positive
    /// definite (numerically).
    public static func solveSymmetricPositiveDefinite(_ a: [Double], _ b: [Double]) -> [Double]? {
        let n = b.count
        precondition(a.count == n * n, "matrix and right-hand side sizes differ")
        GSL.configure()
        let m = gsl_matrix_alloc(n, n)!
        defer { gsl_matrix_free(m) }
        for r in 0..<n { for c in 0..<n { gsl_matrix_set(m, r, c, a[r * n + c]) } }
        guard gsl_linalg_cholesky_decomp1(m) == GSL_SUCCESS else { return nil }
        let rhs = GSL.vector(b)
        defer { gsl_vector_free(rhs) }
        guard gsl_linalg_cholesky_svx(m, rhs) == GSL_SUCCESS else { return nil }
        let x = (0..<n).map { gsl_vector_get(rhs, $0) }
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}

extension LinearSystem {
    /// The lower-triangular Cholesky factor L (row-major, L L^T = A) of a symmetric positive
    /// definite n x n matrix (row-major), by GSL; nil when A is not positive definite.
    public static func choleskyFactor(_ a: [Double], n: Int) -> [Double]? {
        precondition(a.count == n * n, "not an n x n matrix")
        GSL.configure()
        let m = gsl_matrix_alloc(n, n)!
        defer { gsl_matrix_free(m) }
        for r in 0..<n { for c in 0..<n { gsl_matrix_set(m, r, c, a[r * n + c]) } }
        guard gsl_linalg_cholesky_decomp1(m) == GSL_SUCCESS else { return nil }
        var l = [Double](repeating: 0, count: n * n)
        for r in 0..<n { for c in 0...r { l[r * n + c] = gsl_matrix_get(m, r, c) } }
        return l.allSatisfy(\.isFinite) ? l : nil
    }

    /// The inverse of a symmetric positive definite n x n matrix (row-major), by GSL's Cholesky
    /// decomposition; nil when A is not positive definite.
    public static func inverseSymmetricPositiveDefinite(_ a: [Double], n: Int) -> [Double]? {
        precondition(a.count == n * n, "not an n x n matrix")
        GSL.configure()
        let m = gsl_matrix_alloc(n, n)!
        defer { gsl_matrix_free(m) }
        for r in 0..<n { for c in 0..<n { gsl_matrix_set(m, r, c, a[r * n + c]) } }
        guard gsl_linalg_cholesky_decomp1(m) == GSL_SUCCESS, gsl_linalg_cholesky_invert(m) == GSL_SUCCESS else { return nil }
        var inverse = [Double](repeating: 0, count: n * n)
        for r in 0..<n { for c in 0..<n { inverse[r * n + c] = gsl_matrix_get(m, r, c) } }
        return inverse.allSatisfy(\.isFinite) ? inverse : nil
    }
}
