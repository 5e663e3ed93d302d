import Dispatch
import MAMCore

/// A static 3-D k-d tree over points, for nearest-neighbour queries.
///
/// Built once by median splits (quickselect, O(n log n)); a query descends first into the side
/// of each split that holds the query point and visits only subtrees whose tight bounding box
/// is closer than the best distance found (exact nearest point). Tight boxes, rather than the
/// cells the split planes cut, prune well for surface points, which leave most of a cell empty.
public struct KDTree: Sendable {
    /// Points reordered so that every node's subtree is a contiguous range.
    private let points: [SIMD3<Double>]
    /// The original index of each reordered point.
    private let original: [Int]
    /// Split axis of the node whose median sits at each position (-1: leaf range).
    private let axes: [Int8]
    /// The tree position of each input point.
    private let position: [Int]
    /// Bounding box of the subtree whose median sits at each position (internal nodes only).
    private let boxLower: [SIMD3<Double>]
    private let boxUpper: [SIMD3<Double>]

    fileprivate static let leafSize = 32

    public init(_ input: [SIMD3<Double>]) {
        var order = Array(input.indices)
        var axes = [Int8](repeating: -1, count: input.count)
        var lower = [SIMD3<Double>](repeating: .zero, count: input.count)
        var upper = [SIMD3<Double>](repeating: .zero, count: input.count)
        input.withUnsafeBufferPointer { p in
            order.withUnsafeMutableBufferPointer { order in
                axes.withUnsafeMutableBufferPointer { axes in
                    lower.withUnsafeMutableBufferPointer { lower in
                        upper.withUnsafeMutableBufferPointer { upper in
                            Builder(points: p.baseAddress!, order: order.baseAddress!, axes: axes.baseAddress!,
                                    lower: lower.baseAddress!, upper: upper.baseAddress!).build(0, input.count)
                        }
                    }
                }
            }
        }
        boxLower = lower
        boxUpper = upper
        points = order.map { input[$0] }
        original = order
        self.axes = axes
        var position = [Int](repeating: 0, count: input.count)
        for (p, o) in order.enumerated() { position[o] = p }
        self.position = position
    }

    var isEmpty: Bool { points.isEmpty }

    /// Index (into the input array) of the nearest point, and its squared distance. `hint`, the
    /// input index of a point near the answer (say, the previous query's), only speeds it up.
    public func nearest(to q: SIMD3<Double>, hint: Int? = nil) -> (index: Int, squaredDistance: Double) {
        nearest(to: q, hint: hint, closerThan: .infinity)!
    }

    /// `nearest`, when it lies closer than the square root of `squaredBound` (nil otherwise): a
    /// bound found elsewhere (another tree's nearest point) keeps the search short, down to a few
    /// tests near the root when the whole tree lies beyond it.
    public func nearest(to q: SIMD3<Double>, hint: Int? = nil,
                        closerThan squaredBound: Double) -> (index: Int, squaredDistance: Double)? {
        var best = -1
        var bestD = squaredBound
        if let hint {
            let d = points[position[hint]] - q
            let d2 = (d * d).sum()
            if d2 < bestD { (best, bestD) = (position[hint], d2) }
        }
        withNodes { $0.search(q, 0, points.count, &best, &bestD) }
        return best < 0 ? nil : (original[best], bestD)
    }

    /// The input index of some point within `radius` of q (the hint's first, when it is one),
    /// or nil when there is none: cheaper than the nearest point when only that is asked.
    public func anyPoint(within radius: Double, of q: SIMD3<Double>, hint: Int? = nil) -> Int? {
        let r2 = radius * radius
        if let hint {
            let d = points[position[hint]] - q
            if (d * d).sum() <= r2 { return hint }
        }
        return withNodes { $0.any(q, r2, 0, points.count) }.map { original[$0] }
    }

    /// Calls `body` with the input index and squared distance of every point within `radius`.
    public func forEach(within radius: Double, of q: SIMD3<Double>, _ body: (Int, Double) -> Void) {
        original.withUnsafeBufferPointer { o in
            withNodes { $0.collect(q, radius * radius, o.baseAddress!, 0, points.count, body) }
        }
    }

    /// The input index of the point at each tree position (see `forEachPosition`).
    public var inputIndexByPosition: [Int] { original }

    /// Like `forEach`, but reports tree positions: points near each other sit near each other
    /// in tree order, so data laid out in that order is read almost in sequence.
    public func forEachPosition(within radius: Double, of q: SIMD3<Double>, _ body: (Int, Double) -> Void) {
        withNodes { $0.collect(q, radius * radius, nil, 0, points.count, body) }
    }

    /// `body` with the tree's arrays as pointers.
    private func withNodes<R>(_ body: (Nodes) -> R) -> R {
        points.withUnsafeBufferPointer { p in
            axes.withUnsafeBufferPointer { a in
                boxLower.withUnsafeBufferPointer { lower in
                    boxUpper.withUnsafeBufferPointer { upper in
                        body(Nodes(points: p.baseAddress!, axes: a.baseAddress!, lower: lower.baseAddress!,
                                   upper: upper.baseAddress!))
                    }
                }
            }
        }
    }
}

/// The tree's arrays, for the recursive search.
private struct Nodes {
    let points: UnsafePointer<SIMD3<Double>>
    let axes: UnsafePointer<Int8>
    let lower: UnsafePointer<SIMD3<Double>>
    let upper: UnsafePointer<SIMD3<Double>>

    /// Squared distance from q to the bounding box of the subtree [lo, hi) (0 inside it).
    @inline(__always)
    func boxDistance(_ q: SIMD3<Double>, _ lo: Int, _ hi: Int) -> Double {
        let mid = (lo + hi) / 2
        let (l, u) = (lower[mid], upper[mid])
        let dx = max(0, max(l.x - q.x, q.x - u.x))
        let dy = max(0, max(l.y - q.y, q.y - u.y))
        let dz = max(0, max(l.z - q.z, q.z - u.z))
        return dx * dx + dy * dy + dz * dz
    }

    /// Every point of [lo, hi) within sqrt(r2) of q, with its squared distance; subtrees whose
    /// box lies farther are skipped.
    /// Reports input indices through `original`, or tree positions when it is nil.
    func collect(_ q: SIMD3<Double>, _ r2: Double, _ original: UnsafePointer<Int>?, _ lo: Int, _ hi: Int,
                 _ body: (Int, Double) -> Void) {
        if hi - lo <= KDTree.leafSize {
            for i in lo..<hi {
                let d = points[i] - q
                let d2 = (d * d).sum()
                if d2 <= r2 { body(original?[i] ?? i, d2) }
            }
            return
        }
        guard boxDistance(q, lo, hi) <= r2 else { return }
        let mid = (lo + hi) / 2
        let axis = Int(axes[mid])
        let delta = q[axis] - points[mid][axis]
        let m = points[mid] - q
        let d2 = (m * m).sum()
        if d2 <= r2 { body(original?[mid] ?? mid, d2) }
        if delta <= 0 || delta * delta <= r2 { collect(q, r2, original, lo, mid, body) }
        if delta >= 0 || delta * delta <= r2 { collect(q, r2, original, mid + 1, hi, body) }
    }

    /// The tree position of some point of [lo, hi) within sqrt(r2) of q, nearer subtrees first.
    func any(_ q: SIMD3<Double>, _ r2: Double, _ lo: Int, _ hi: Int) -> Int? {
        if hi - lo <= KDTree.leafSize {
            for i in lo..<hi {
                let d = points[i] - q
                if (d * d).sum() <= r2 { return i }
            }
            return nil
        }
        guard boxDistance(q, lo, hi) <= r2 else { return nil }
        let mid = (lo + hi) / 2
        let m = points[mid] - q
        if (m * m).sum() <= r2 { return mid }
        let axis = Int(axes[mid])
        let delta = q[axis] - points[mid][axis]
        let (nearLo, nearHi, farLo, farHi) = delta < 0 ? (lo, mid, mid + 1, hi) : (mid + 1, hi, lo, mid)
        if let found = any(q, r2, nearLo, nearHi) { return found }
        return delta * delta <= r2 ? any(q, r2, farLo, farHi) : nil
    }

    func search(_ q: SIMD3<Double>, _ lo: Int, _ hi: Int, _ best: inout Int, _ bestD: inout Double) {
        if hi - lo <= KDTree.leafSize {
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
        // The near side holds q's half-space: first, unless its box is farther than the best
        // so far (a hint, or a query far from a surface); the far side only when both its
        // split plane and its box are closer than the best so far.
        if nearHi - nearLo <= KDTree.leafSize || boxDistance(q, nearLo, nearHi) < bestD {
            search(q, nearLo, nearHi, &best, &bestD)
        }
        if delta * delta < bestD, farHi - farLo <= KDTree.leafSize || boxDistance(q, farLo, farHi) < bestD {
            search(q, farLo, farHi, &best, &bestD)
        }
    }
}

/// Builds the tree in place: each node's range is partitioned around its median on the axis of
/// its bounding box's largest extent (quickselect, linear on average), the two halves in
/// parallel near the root.
private struct Builder: @unchecked Sendable {
    let points: UnsafePointer<SIMD3<Double>>
    let order: UnsafeMutablePointer<Int>
    let axes: UnsafeMutablePointer<Int8>
    let lower: UnsafeMutablePointer<SIMD3<Double>>
    let upper: UnsafeMutablePointer<SIMD3<Double>>

    /// Ranges at least this long split their two halves over two threads.
    static let parallelSize = 8192

    func build(_ lo: Int, _ hi: Int) {
        guard hi - lo > KDTree.leafSize else { return }
        var low = SIMD3<Double>(repeating: .infinity)
        var high = SIMD3<Double>(repeating: -.infinity)
        for i in lo..<hi {
            low = pointwiseMin(low, points[order[i]])
            high = pointwiseMax(high, points[order[i]])
        }
        let extent = high - low
        let axis = extent.x >= extent.y && extent.x >= extent.z ? 0 : (extent.y >= extent.z ? 1 : 2)
        let mid = (lo + hi) / 2
        select(mid, lo, hi, axis)
        axes[mid] = Int8(axis)
        lower[mid] = low
        upper[mid] = high
        if hi - lo >= Self.parallelSize && !Parallelism.singleThreaded {
            DispatchQueue.concurrentPerform(iterations: 2) { half in
                half == 0 ? build(lo, mid) : build(mid + 1, hi)
            }
        } else {
            build(lo, mid)
            build(mid + 1, hi)
        }
    }

    /// Reorders order[lo..<hi] so that position k holds the point that sorting by `axis`
    /// would put there, with no larger coordinate before it and no smaller one after.
    private func select(_ k: Int, _ lo: Int, _ hi: Int, _ axis: Int) {
        var (lo, hi) = (lo, hi - 1)
        func key(_ i: Int) -> Double { points[order[i]][axis] }
        while hi > lo {
            // Median of three as the pivot value.
            let m = (lo + hi) / 2
            let (a, b, c) = (key(lo), key(m), key(hi))
            let pivot = max(min(a, b), min(max(a, b), c))
            var (i, j) = (lo, hi)
            while i <= j {
                while key(i) < pivot { i += 1 }
                while key(j) > pivot { j -= 1 }
                if i <= j {
                    (order[i], order[j]) = (order[j], order[i])
                    i += 1
                    j -= 1
                }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }
}
