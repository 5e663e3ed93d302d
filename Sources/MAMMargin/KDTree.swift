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
    /// The tree position of each input point.
    private let position: [Int]

    private static let leafSize = 8

    public init(_ input: [SIMD3<Double>]) {
        var order = Array(input.indices)
        var axes = [Int8](repeating: -1, count: input.count)
        Self.build(input, &order, &axes, 0, input.count)
        points = order.map { input[$0] }
        original = order
        self.axes = axes
        var position = [Int](repeating: 0, count: input.count)
        for (p, o) in order.enumerated() { position[o] = p }
        self.position = position
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

    /// Index (into the input array) of the nearest point, and its squared distance. `hint`, the
    /// input index of a point near the answer (say, the previous query's), only speeds it up.
    public func nearest(to q: SIMD3<Double>, hint: Int? = nil) -> (index: Int, squaredDistance: Double) {
        points.withUnsafeBufferPointer { p in
            axes.withUnsafeBufferPointer { a in
                var best = -1
                var bestD = Double.infinity
                if let hint {
                    best = position[hint]
                    let d = p[best] - q
                    bestD = (d * d).sum()
                }
                var offsets = SIMD3<Double>.zero
                Self.search(q, p.baseAddress!, a.baseAddress!, 0, p.count, 0, &offsets, &best, &bestD)
                return (original[best], bestD)
            }
        }
    }

    /// Calls `body` with the input index and squared distance of every point within `radius`.
    public func forEach(within radius: Double, of q: SIMD3<Double>, _ body: (Int, Double) -> Void) {
        points.withUnsafeBufferPointer { p in
            axes.withUnsafeBufferPointer { a in
                original.withUnsafeBufferPointer { o in
                    Self.collect(q, radius * radius, p.baseAddress!, a.baseAddress!, o.baseAddress!, 0, p.count, body)
                }
            }
        }
    }

    private static func collect(_ q: SIMD3<Double>, _ r2: Double, _ points: UnsafePointer<SIMD3<Double>>,
                                _ axes: UnsafePointer<Int8>, _ original: UnsafePointer<Int>, _ lo: Int, _ hi: Int,
                                _ body: (Int, Double) -> Void) {
        if hi - lo <= leafSize {
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
        if delta <= 0 || delta * delta <= r2 { collect(q, r2, points, axes, original, lo, mid, body) }
        if delta >= 0 || delta * delta <= r2 { collect(q, r2, points, axes, original, mid + 1, hi, body) }
    }

    /// Nearest-point search with incremental distances to the cells (Arya and Mount): `cell`
    /// is the squared distance from q to the current cell, `offsets` its per-axis parts.
    private static func search(_ q: SIMD3<Double>, _ points: UnsafePointer<SIMD3<Double>>, _ axes: UnsafePointer<Int8>,
                               _ lo: Int, _ hi: Int, _ cell: Double, _ offsets: inout SIMD3<Double>,
                               _ best: inout Int, _ bestD: inout Double) {
        if hi - lo <= leafSize {
            for i in lo..<hi {
                let d = points[i] - q
                let d2 = (d * d).sum()
                if d2 < bestD { bestD = d2; best = i }
            }
            return
        }
        let mid = (lo + hi) / 2
        let axis = Int(axes[mid])
        let delta = q[axis] - points[mid][axis]
        let m = points[mid] - q
        let d2 = (m * m).sum()
        if d2 < bestD { bestD = d2; best = mid }
        let (nearLo, nearHi, farLo, farHi) = delta < 0 ? (lo, mid, mid + 1, hi) : (mid + 1, hi, lo, mid)
        search(q, points, axes, nearLo, nearHi, cell, &offsets, &best, &bestD)
        let old = offsets[axis]
        let farCell = cell - old * old + delta * delta
        if farCell < bestD {
            offsets[axis] = delta
            search(q, points, axes, farLo, farHi, farCell, &offsets, &best, &bestD)
            offsets[axis] = old
        }
    }
}
