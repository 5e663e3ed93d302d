/// Eigenvalues and unit eigenvectors (columns, same order) of a symmetric 3 x 3 matrix given
/// row-major, by cyclic Jacobi rotations.
public func symmetricEigen(_ m: [Double]) -> (values: SIMD3<Double>, vectors: Matrix3) {
    var a = m
    var v: [Double] = [1, 0, 0, 0, 1, 0, 0, 0, 1]
    for _ in 0..<50 {
        let off = a[1] * a[1] + a[2] * a[2] + a[5] * a[5]
        if off <= 1e-24 * (a[0] * a[0] + a[4] * a[4] + a[8] * a[8]) { break }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] where a[p * 3 + q] != 0 {
            let theta = (a[q * 3 + q] - a[p * 3 + p]) / (2 * a[p * 3 + q])
            let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
            let c = 1 / (t * t + 1).squareRoot()
            let s = t * c
            for k in 0..<3 {
                let (kp, kq) = (a[k * 3 + p], a[k * 3 + q])
                a[k * 3 + p] = c * kp - s * kq
                a[k * 3 + q] = s * kp + c * kq
            }
            for k in 0..<3 {
                let (pk, qk) = (a[p * 3 + k], a[q * 3 + k])
                a[p * 3 + k] = c * pk - s * qk
                a[q * 3 + k] = s * pk + c * qk
            }
            for k in 0..<3 {
                let (kp, kq) = (v[k * 3 + p], v[k * 3 + q])
                v[k * 3 + p] = c * kp - s * kq
                v[k * 3 + q] = s * kp + c * kq
            }
        }
    }
    return (SIMD3(a[0], a[4], a[8]), Matrix3(rows: SIMD3(v[0], v[1], v[2]), SIMD3(v[3], v[4], v[5]), SIMD3(v[6], v[7], v[8])))
}

/// The unit eigenvector of the smallest eigenvalue of a symmetric 3 x 3 matrix (row-major);
/// nil if the matrix is zero.
public func smallestEigenvector(_ m: [Double]) -> SIMD3<Double>? {
    guard m.contains(where: { $0 != 0 }) else { return nil }
    let (values, vectors) = symmetricEigen(m)
    let smallest = values.x <= values.y && values.x <= values.z ? 0 : (values.y <= values.z ? 1 : 2)
    return vectors[smallest] / length(vectors[smallest])
}

/// Eigenvectors of a symmetric 3 x 3 matrix (row-major) as the columns of a rotation, by
/// decreasing eigenvalue; the third column is the cross product of the first two.
public func principalAxes(_ m: [Double]) -> Matrix3 {
    let (values, vectors) = symmetricEigen(m)
    let order = [0, 1, 2].sorted { values[$0] > values[$1] }
    let (e0, e1) = (vectors[order[0]], vectors[order[1]])
    let e2 = cross(e0, e1)
    return Matrix3(columns: e0 / length(e0), e1 / length(e1), e2 / length(e2))
}
