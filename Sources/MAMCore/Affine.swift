import Foundation

/// A 3 x 3 matrix stored by columns, in double precision.
///
/// Used for the linear part of index-to-world mappings and rigid transforms. All
/// operations are exact up to floating-point rounding; `inverse` is only meaningful
/// when `determinant` is far from zero (callers check that first).
public struct Matrix3: Sendable, Hashable {
    public var columns: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>)

    public init(columns c0: SIMD3<Double>, _ c1: SIMD3<Double>, _ c2: SIMD3<Double>) {
        columns = (c0, c1, c2)
    }

    /// Builds a matrix from its rows, the way it is written on paper.
    public init(rows r0: SIMD3<Double>, _ r1: SIMD3<Double>, _ r2: SIMD3<Double>) {
        columns = (
            SIMD3(r0.x, r1.x, r2.x),
            SIMD3(r0.y, r1.y, r2.y),
            SIMD3(r0.z, r1.z, r2.z)
        )
    }

    public static let identity = Matrix3(columns: SIMD3(1, 0, 0), SIMD3(0, 1, 0), SIMD3(0, 0, 1))

    public static func diagonal(_ d: SIMD3<Double>) -> Matrix3 {
        Matrix3(columns: SIMD3(d.x, 0, 0), SIMD3(0, d.y, 0), SIMD3(0, 0, d.z))
    }

    public subscript(column: Int) -> SIMD3<Double> {
        switch column {
        case 0: return columns.0
        case 1: return columns.1
        case 2: return columns.2
        default: preconditionFailure("Matrix3 column \(column) out of range 0...2")
        }
    }

    /// Element at `row`, `column` (both 0...2).
    public subscript(row: Int, column: Int) -> Double { self[column][row] }

    public var rows: (SIMD3<Double>, SIMD3<Double>, SIMD3<Double>) {
        (
            SIMD3(columns.0.x, columns.1.x, columns.2.x),
            SIMD3(columns.0.y, columns.1.y, columns.2.y),
            SIMD3(columns.0.z, columns.1.z, columns.2.z)
        )
    }

    public var transposed: Matrix3 { Matrix3(columns: rows.0, rows.1, rows.2) }

    public var determinant: Double {
        let (a, b, c) = columns
        return a.x * (b.y * c.z - b.z * c.y) - b.x * (a.y * c.z - a.z * c.y) + c.x * (a.y * b.z - a.z * b.y)
    }

    /// The inverse by the adjugate. Precondition: the matrix is not singular.
    public var inverse: Matrix3 {
        let (a, b, c) = columns
        let det = determinant
        precondition(det != 0 && det.isFinite, "Matrix3.inverse of a singular matrix")
        // Rows of the inverse are the cross products of the columns, divided by det.
        let r0 = cross(b, c) / det
        let r1 = cross(c, a) / det
        let r2 = cross(a, b) / det
        return Matrix3(rows: r0, r1, r2)
    }

    @inlinable
    public static func * (m: Matrix3, v: SIMD3<Double>) -> SIMD3<Double> {
        m.columns.0 * v.x + m.columns.1 * v.y + m.columns.2 * v.z
    }

    public static func * (a: Matrix3, b: Matrix3) -> Matrix3 {
        Matrix3(columns: a * b.columns.0, a * b.columns.1, a * b.columns.2)
    }

    public static func == (a: Matrix3, b: Matrix3) -> Bool {
        a.columns.0 == b.columns.0 && a.columns.1 == b.columns.1 && a.columns.2 == b.columns.2
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(columns.0)
        hasher.combine(columns.1)
        hasher.combine(columns.2)
    }

    /// Largest absolute element-wise difference to `other`.
    public func maxAbsDifference(to other: Matrix3) -> Double {
        func largest(_ v: SIMD3<Double>) -> Double { Swift.max(abs(v.x), abs(v.y), abs(v.z)) }
        return Swift.max(largest(columns.0 - other.columns.0), largest(columns.1 - other.columns.1),
                         largest(columns.2 - other.columns.2))
    }
}

extension Matrix3 {
    /// Rotation by `degrees` about `axis` (any non-zero length), right-handed.
    public static func rotation(axis: SIMD3<Double>, degrees: Double) -> Matrix3 {
        rotation(vector: axis / length(axis) * (degrees * .pi / 180))
    }

    /// Rotation by the rotation vector `w`: about the axis w / |w| by |w| radians (Rodrigues'
    /// formula); for |w| below 1e-12, its first-order form I + [w]x.
    public static func rotation(vector w: SIMD3<Double>) -> Matrix3 {
        let angle = length(w)
        let k = angle > 1e-12 ? w / angle : w
        let skew = Matrix3(rows: SIMD3(0, -k.z, k.y), SIMD3(k.z, 0, -k.x), SIMD3(-k.y, k.x, 0))
        let (s, c) = angle > 1e-12 ? (sin(angle), 1 - cos(angle)) : (1.0, 0.0)
        let square = skew * skew
        return Matrix3(columns: identity[0] + s * skew[0] + c * square[0], identity[1] + s * skew[1] + c * square[1],
                       identity[2] + s * skew[2] + c * square[2])
    }

    /// The rotation vector (axis times angle in radians) of a rotation matrix: the inverse of
    /// `rotation(vector:)` for angles below 180 degrees.
    public var rotationVector: SIMD3<Double> {
        let cosine = min(1, max(-1, (self[0, 0] + self[1, 1] + self[2, 2] - 1) / 2))
        let angle = acos(cosine)
        let axis = SIMD3(self[2, 1] - self[1, 2], self[0, 2] - self[2, 0], self[1, 0] - self[0, 1])
        let sine = sin(angle)
        // Near 0 the axis part is 2 sin(angle) times the axis; angle / (2 sin) -> 1/2.
        return sine > 1e-9 ? axis * (angle / (2 * sine)) : axis / 2
    }
}

/// `x -> linear * x + translation`: a 4 x 4 homogeneous matrix whose last row is (0, 0, 0, 1).
public struct Affine3D: Sendable, Hashable {
    public var linear: Matrix3
    public var translation: SIMD3<Double>

    public init(linear: Matrix3, translation: SIMD3<Double>) {
        self.linear = linear
        self.translation = translation
    }

    public static let identity = Affine3D(linear: .identity, translation: .zero)

    @inlinable
    public func apply(_ p: SIMD3<Double>) -> SIMD3<Double> { linear * p + translation }

    /// Precondition: `linear` is not singular.
    public var inverse: Affine3D {
        let inv = linear.inverse
        return Affine3D(linear: inv, translation: -(inv * translation))
    }

    /// `(a * b).apply(p) == a.apply(b.apply(p))`.
    public static func * (a: Affine3D, b: Affine3D) -> Affine3D {
        Affine3D(linear: a.linear * b.linear, translation: a.linear * b.translation + a.translation)
    }

    /// The 4 x 4 matrix, row by row.
    public var matrix4x4: [[Double]] {
        let r = linear.rows
        return [
            [r.0.x, r.0.y, r.0.z, translation.x],
            [r.1.x, r.1.y, r.1.z, translation.y],
            [r.2.x, r.2.y, r.2.z, translation.z],
            [0, 0, 0, 1],
        ]
    }

    /// Builds from a 4 x 4 matrix given row by row; `nil` unless it is 4 x 4 with last row (0, 0, 0, 1).
    public init?(matrix4x4 m: [[Double]]) {
        guard m.count == 4, m.allSatisfy({ $0.count == 4 }), m[3] == [0, 0, 0, 1] else { return nil }
        linear = Matrix3(
            rows: SIMD3(m[0][0], m[0][1], m[0][2]), SIMD3(m[1][0], m[1][1], m[1][2]),
            SIMD3(m[2][0], m[2][1], m[2][2]))
        translation = SIMD3(m[0][3], m[1][3], m[2][3])
    }
}

@inlinable
public func cross(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> SIMD3<Double> {
    SIMD3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x)
}

@inlinable
public func dot(_ a: SIMD3<Double>, _ b: SIMD3<Double>) -> Double { (a * b).sum() }

@inlinable
public func length(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }
