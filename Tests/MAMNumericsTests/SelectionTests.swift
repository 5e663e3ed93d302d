import MAMCore
import MAMNumerics
import Testing

@Suite("Order statistics by selection")
struct SelectionTests {
    /// Against the sorted array, exactly (selection only compares and moves values): random
    /// lengths, many ties, every position, and the same multiset left behind.
    @Test("nthSmallest equals sorted()[k] for every k, with ties, and keeps the values")
    func againstSort() {
        var generator = SeededGenerator(seed: 7)
        for n in [1, 2, 3, 7, 64, 501] {
            for ties in [false, true] {
                let values = (0..<n).map { _ in ties ? Double(Int.random(in: 0...4, using: &generator)) : Double.random(in: -5...5, using: &generator) }
                let sorted = values.sorted()
                for k in 0..<n {
                    var copy = values
                    #expect(Selection.nthSmallest(&copy, k) == sorted[k], "n \(n), k \(k), \(values)")
                    #expect(copy.sorted() == sorted)
                }
            }
        }
    }

    /// Against ordering by (key, position), exactly: the order a stable sort gives. Keys over
    /// many magnitudes (every digit of the radix sort differs somewhere), many ties, zero,
    /// infinity, subnormals, and sizes from 0 up.
    @Test("stableOrder(ofNonNegative:) is the stable ascending order, ties in their given order")
    func stableOrderAgainstSort() {
        var generator = SeededGenerator(seed: 11)
        for n in [0, 1, 2, 3, 17, 1000, 20000] {
            for kind in 0..<3 {
                let keys: [Double] = (0..<n).map { _ in
                    switch kind {
                    case 0: Double.random(in: 0..<10, using: &generator)  // pair distances, mm
                    case 1: Double(Int.random(in: 0...5, using: &generator)) / 4  // many ties
                    default: [0, .infinity, .leastNonzeroMagnitude, 1e-300, 3, 1e300][Int.random(in: 0...5, using: &generator)]
                        * Double.random(in: 0.5...2, using: &generator)
                    }
                }
                let expected = keys.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
                #expect(Selection.stableOrder(ofNonNegative: keys) == expected, "n \(n), kind \(kind)")
            }
        }
    }
}
