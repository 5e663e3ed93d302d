import MAMCore

/// Signed distance (mm) from any world point to a `SubvoxelSurface`: **positive inside**.
///
/// The nearest surface point p (k-d tree) and its outward normal n give
/// `d(q) = -dot(q - p, n)`, the distance to the tangent plane at p. The points lie at most
/// about half a voxel apart, so the plane corrects the lateral offset of the nearest point;
/// what remains is second order in that offset over the radius of curvature.
///
/// A class: a value of a dozen arrays is retained and released array by array whenever it is
/// copied, and the margin engine reaches its zone parts once per shell voxel (a class: one
/// retain; the prepared case's measurement took 35 ms instead of 11).
public final class SurfaceDistance: Sendable {
    public let surface: SubvoxelSurface
    private let tree: KDTree

    public init(_ surface: SubvoxelSurface) {
        self.surface = surface
        tree = KDTree(surface.points)
    }

    public var isEmpty: Bool { tree.isEmpty }

    /// Positive inside, negative outside; `nil` when the surface has no point.
    public func signedDistance(_ q: SIMD3<Double>) -> Double? {
        guard !tree.isEmpty else { return nil }
        let i = tree.nearest(to: q).index
        return signedDistance(q, atPoint: i)
    }

    /// Positive inside, negative outside; `hint` (the index of a previous query's nearest
    /// point, updated here) makes a run of neighbouring queries fast. `nil` when the surface
    /// has no point.
    public func signedDistance(_ q: SIMD3<Double>, hint: inout Int?) -> Double? {
        guard !tree.isEmpty else { return nil }
        let i = tree.nearest(to: q, hint: hint).index
        hint = i
        return signedDistance(q, atPoint: i)
    }

    /// The surface point nearest to q (its index in `surface.points`) and its squared distance,
    /// when it lies closer than the square root of `squaredBound` (nil otherwise); `hint` as in
    /// `signedDistance(_:hint:)`, updated only when a point is found.
    public func nearestPoint(to q: SIMD3<Double>, closerThan squaredBound: Double,
                             hint: inout Int?) -> (index: Int, squaredDistance: Double)? {
        guard !tree.isEmpty, let found = tree.nearest(to: q, hint: hint, closerThan: squaredBound) else { return nil }
        hint = found.index
        return found
    }

    /// The signed distance of q measured at surface point i (its tangent plane), positive inside.
    public func signedDistance(_ q: SIMD3<Double>, atPoint i: Int) -> Double {
        -dot(q - surface.points[i], surface.normals[i])
    }

    /// Whether some surface point lies within `radius` of q (Euclidean); `hint`, the index of
    /// a point found for a neighbouring query (updated here), is tried first.
    public func hasPoint(within radius: Double, of q: SIMD3<Double>, hint: inout Int?) -> Bool {
        guard let found = tree.anyPoint(within: radius, of: q, hint: hint) else { return false }
        hint = found
        return true
    }

    /// Signed distances of many points, in parallel; neighbouring points in the list (a
    /// surface or a grid in scan order) share their search bounds, which makes it fast.
    public func signedDistances(_ queries: [SIMD3<Double>]) -> [Double]? {
        guard !tree.isEmpty else { return nil }
        var results = [Double](repeating: 0, count: queries.count)
        results.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(queries.count) { range in
                var hint: Int?
                for k in range {
                    let i = tree.nearest(to: queries[k], hint: hint).index
                    hint = i
                    out[k] = signedDistance(queries[k], atPoint: i)
                }
            }
        }
        return results
    }

}
