import MAMCore
import MAMSurface
import MAMTestSupport
import Testing

@Suite("k-d tree")
struct KDTreeTests {
    /// Surface-like points (on a sphere and a plane, where tight boxes matter) and scattered ones.
    static func points(_ generator: inout SeededGenerator) -> [SIMD3<Double>] {
        var points: [SIMD3<Double>] = []
        for _ in 0..<3000 {
            let v = SIMD3(Double.random(in: -1...1, using: &generator), Double.random(in: -1...1, using: &generator),
                          Double.random(in: -1...1, using: &generator))
            if length(v) > 1e-3 { points.append(v / length(v) * 25) }
        }
        for _ in 0..<1000 {
            points.append(SIMD3(Double.random(in: -30...30, using: &generator), Double.random(in: -30...30, using: &generator), 40))
        }
        for _ in 0..<500 {
            points.append(SIMD3(Double.random(in: -50...50, using: &generator), Double.random(in: -50...50, using: &generator),
                                Double.random(in: -50...50, using: &generator)))
        }
        return points
    }

    @Test("nearest point (also under a bound), points within a radius and some point within it agree with brute force (exactly), with and without hints")
    func bruteForce() {
        var generator = SeededGenerator(seed: 11)
        let points = Self.points(&generator)
        let tree = KDTree(points)
        var hint: Int?
        for _ in 0..<2000 {
            let q = SIMD3(Double.random(in: -60...60, using: &generator), Double.random(in: -60...60, using: &generator),
                          Double.random(in: -60...60, using: &generator)) * (Bool.random(using: &generator) ? 1 : 0.1)
            let distances = points.map { (($0 - q) * ($0 - q)).sum() }
            let truth = distances.min()!
            let found = tree.nearest(to: q, hint: hint)
            // Exact: the same squared distance (ties may pick another point at that distance).
            #expect(found.squaredDistance == truth && distances[found.index] == truth)
            hint = found.index
            let radius = Double.random(in: 0...15, using: &generator)
            var within: [Int] = []
            tree.forEach(within: radius, of: q) { i, d2 in
                within.append(i)
                #expect(d2 == distances[i])
            }
            #expect(within.sorted() == distances.indices.filter { distances[$0] <= radius * radius })
            // The same points by tree position.
            var byPosition: [Int] = []
            tree.forEachPosition(within: radius, of: q) { p, d2 in
                byPosition.append(tree.inputIndexByPosition[p])
                #expect(d2 == distances[tree.inputIndexByPosition[p]])
            }
            #expect(byPosition.sorted() == within.sorted())
            // The nearest point under a bound: found exactly when it lies closer than the bound
            // (a hint farther than the bound must not be returned).
            for pointHint in [nil, hint] {
                let bounded = tree.nearest(to: q, hint: pointHint, closerThan: radius * radius)
                #expect((bounded != nil) == (truth < radius * radius))
                if let bounded { #expect(bounded.squaredDistance == truth && distances[bounded.index] == truth) }
            }
            // Some point within the radius exactly when there is one, with and without a hint.
            for pointHint in [nil, hint] {
                let any = tree.anyPoint(within: radius, of: q, hint: pointHint)
                #expect((any != nil) == !within.isEmpty)
                if let any { #expect(distances[any] <= radius * radius) }
            }
        }
    }
}
