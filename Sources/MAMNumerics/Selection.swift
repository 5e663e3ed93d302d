/// Order statistics without a full sort.
public enum Selection {
    /// The value that would sit at position `k` (from 0) of `values` sorted ascending, by
    /// Hoare's selection in expected linear time; `values` is left reordered. Precondition:
    /// `0 <= k < values.count`, no NaN.
    public static func nthSmallest(_ values: inout [Double], _ k: Int) -> Double {
        precondition(values.indices.contains(k), "nthSmallest: position \(k) outside 0..<\(values.count)")
        return values.withUnsafeMutableBufferPointer { v in
            var (low, high) = (0, v.count - 1)
            while low < high {
                let pivot = v[(low + high) / 2]
                var (i, j) = (low, high)
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while v[j] > pivot { j -= 1 }
                    if i <= j {
                        v.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                // Now v[low...j] <= pivot <= v[i...high], and anything between equals the pivot.
                if k <= j { high = j } else if k >= i { low = i } else { break }
            }
            return v[k]
        }
    }

    /// The positions of `keys` in the order a stable ascending sort puts them (equal keys in
    /// their given order), by a least-significant-digit radix sort of their bits, 11 at a time:
    /// the bit patterns of non-negative doubles order as their values do. Linear in the count,
    /// where a comparison sort takes n log n; digits that every key shares (the sign and most of
    /// the exponent, for keys of similar size) cost one counting pass. Precondition: no key
    /// negative, -0 or NaN.
    public static func stableOrder(ofNonNegative keys: [Double]) -> [Int] {
        let n = keys.count
        var order = Array(0..<n)
        guard n > 1 else { return order }
        precondition(keys.allSatisfy { $0.sign == .plus && !$0.isNaN }, "stableOrder: a negative, -0 or NaN key")
        var bits = keys.map(\.bitPattern)
        var (nextOrder, nextBits) = ([Int](repeating: 0, count: n), [UInt64](repeating: 0, count: n))
        let digitBits: UInt64 = 11
        let mask: UInt64 = (1 << digitBits) - 1
        var counts = [Int](repeating: 0, count: 1 << digitBits)
        for shift in stride(from: UInt64(0), to: 64, by: Int(digitBits)) {
            for d in counts.indices { counts[d] = 0 }
            for b in bits { counts[Int((b >> shift) & mask)] += 1 }
            guard counts[Int((bits[0] >> shift) & mask)] < n else { continue }
            var start = 0
            for d in counts.indices { (counts[d], start) = (start, start + counts[d]) }
            for k in 0..<n {
                let d = Int((bits[k] >> shift) & mask)
                (nextOrder[counts[d]], nextBits[counts[d]]) = (order[k], bits[k])
                counts[d] += 1
            }
            swap(&order, &nextOrder)
            swap(&bits, &nextBits)
        }
        return order
    }
}
