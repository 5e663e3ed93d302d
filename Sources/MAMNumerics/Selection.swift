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
}
