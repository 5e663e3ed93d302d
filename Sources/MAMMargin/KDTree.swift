/// A static 3-D k-d tree over points, for nearest-neighbour queries.
///
/// Built once by median splits (O(n log n)); a query descends to the leaf of the query point
/// and backtracks only into boxes closer than the best distance found (exact nearest point).
public struct KDTree: Sendable {
    /// Points reordered so that every node's subtree is a contiguous range.
    private let points: [SIMD3<Double>]
    /// The original index of each reordered point.
    private let original: [Int]
    /// Split axis of the node whose median sits at each position (-1: leaf range).
    private let axes: [Int8]

    private static let leafSize = 8

    public init(_ input: [SIMD3<Double>]) {
        var order = Array(input.indices)
        var axes = [Int8](repeating: -1, count: input.count)
        Self.build(input, &order, &axes, 0, input.count)
        points = order.map { input[$0] }
        original = order
        self.axes = axes
    }

    var isEmpty: Bool { points.isEmpty }

    private static func build(_ p: [SIMD3<Double>], _ order: inout [Int], _ axes: inout [Int8], _ lo: Int, _ hi: Int) {
        guard hi - lo > leafSize else { return }
        var lower = SIMD3<Double>(repeating: .infinity)
        var upper = SIMD3<Double>(repeating: -.infinity)
        for i in lo..<hi {
            lower = pointwiseMin(lower, p[order[i]])
            upper = pointwiseMax(upper, p[order[i]])
        }
        let extent = upper - lower
        let axis = extent.x >= extent.y && extent.x >= extent.z ? 0 : (extent.y >= extent.z ? 1 : 2)
        let mid = (lo + hi) / 2
        order[lo..<hi].sort { p[$0][axis] < p[$1][axis] }
        axes[mid] = Int8(axis)
        build(p, &order, &axes, lo, mid)
        build(p, &order, &axes, mid + 1, hi)
    }

    /// Index (into the input array) of the nearest point, and its squared distance.
    public func nearest(to q: SIMD3<Double>) -> (index: Int, squaredDistance: Double) {
        var best = -1
        var bestD = Double.infinity
        search(q, 0, points.count, &best, &bestD)
        return (original[best], bestD)
    }

    /// Calls `body` with the input index and squared distance of every point within `radius`.
    public func forEach(within radius: Double, of q: SIMD3<Double>, _ body: (Int, Double) -> Void) {
        collect(q, radius * radius, 0, points.count, body)
    }

    private func collect(_ q: SIMD3<Double>, _ r2: Double, _ lo: Int, _ hi: Int, _ body: (Int, Double) -> Void) {
        if hi - lo <= Self.leafSize {
            for i in lo..<hi {
                let d = points[i] - q
                let d2 = (d * d).sum()
                if d2 <= r2 { body(original[i], d2) }
            }
            return
        }
        let mid = (lo + hi) / 2
        let axis = Int(axes[mid])
        let delta = q[axis] - points[mid][axis]
        let m = points[mid] - q
        let d2 = (m * m).sum()
        if d2 <= r2 { body(original[mid], d2) }
        if delta <= 0 || delta * delta <= r2 { collect(q, r2, lo, mid, body) }
        if delta >= 0 || delta * delta <= r2 { collect(q, r2, mid + 1, hi, body) }
    }

    private func search(_ q: SIMD3<Double>, _ lo: Int, _ hi: Int, _ best: inout Int, _ bestD: inout Double) {
        if hi - lo <= Self.leafSize {
            for i in lo..<hi {
                let d = points[i] - q
                let d2 = (d * d).sum()
                if d2 < bestD { bestD = d2; best = i }
            }
            return
        }
        let mid = (lo + hi) / 2
        let axis = Int(axes[mid])
        let split = points[mid][axis]
        let delta = q[axis] - split
        let m = points[mid] - q
        let d2 = (m * m).sum()
        if d2 < bestD { bestD = d2; best = mid }
        if delta < 0 {
            search(q, lo, mid, &best, &bestD)
            if delta * delta < bestD { search(q, mid + 1, hi, &best, &bestD) }
        } else {
            search(q, mid + 1, hi, &best, &bestD)
            if delta * delta < bestD { search(q, lo, mid, &best, &bestD) }
        }
    }
}
