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
}
