/// The percentile definitions mam-quantify uses, all here, and why each.
///
/// - `linear`: for plain samples compared with other tools (HD95 between segmentations,
///   cohort summaries). Linear interpolation between order statistics at position q (n - 1),
///   numpy's default and what the field's surface-distance tools report, so that our HD95 can
///   be compared with theirs.
/// - `WeightedSample.lowerQuantile`: for samples that stand for areas (a tumour surface's
///   margins, each sample carrying the area it represents). The smallest value below which at
///   least q of the total weight lies: every reported percentile is a margin some part of the
///   surface really has, and the 0th is the minimum itself.
/// - `nearestRank`: for the registration's 95th-percentile surface distance, whose acceptance
///   threshold (protocols' `max_surface_distance_95_mm`) was set on it; a distance that really
///   occurs. Changing it would move every verdict near the threshold.
public enum Percentiles {
    /// The q-quantile (q in [0, 1]) with linear interpolation between order statistics at
    /// position q (n - 1) of the sorted values (numpy's default). The median of an even count
    /// is the mean of the middle two. `values` must not be empty.
    public static func linear(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = min(lower + 1, sorted.count - 1)
        return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
    }

    /// The value at position floor(q n) of the ascending `sorted` values (the last one at
    /// most); 0 when there is none.
    public static func nearestRank(sorted: [Double], _ q: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
    }
}

/// Values with weights (areas), sorted once, for weighted quantiles.
public struct WeightedSample: Sendable {
    public let values: [Double]
    public let weights: [Double]
    /// Indices of `values`, ascending by value.
    public let order: [Int]
    public let totalWeight: Double

    /// `values` and `weights` of the same, non-zero count; weights non-negative.
    public init(values: [Double], weights: [Double]) {
        precondition(values.count == weights.count && !values.isEmpty, "WeightedSample: one weight per value")
        self.values = values
        self.weights = weights
        order = values.indices.sorted { values[$0] < values[$1] }
        totalWeight = weights.reduce(0, +)
    }

    public var minimumIndex: Int { order.first! }
    public var maximum: Double { values[order.last!] }

    /// The smallest value v such that the values up to v carry at least q of the total weight.
    public func lowerQuantile(_ q: Double) -> Double {
        var accumulated = 0.0
        for i in order {
            accumulated += weights[i]
            if accumulated >= q * totalWeight { return values[i] }
        }
        return values[order.last!]
    }

    /// The fraction of the total weight whose value passes `test`.
    public func weightFraction(where test: (Double) -> Bool) -> Double {
        zip(values, weights).filter { test($0.0) }.map(\.1).reduce(0, +) / totalWeight
    }
}
