public import MAMCore
import MAMStatistics
import MAMSurface

/// How a tumour's measurement ended.
public enum MarginOutcome: String, Sendable, Codable {
    /// Margins measured.
    case measured
    /// The post-ablation mask has no ablation zone: no margin; the tumour counts as unablated.
    case noAblationZone
    /// Part of the tumour maps outside the post-ablation scan: its margin cannot be measured.
    case outsidePostFieldOfView
}

/// One histogram bin of surface margins: [lowerMM, lowerMM + width).
public struct MarginHistogramBin: Sendable, Equatable, Codable {
    public var lowerMM: Double
    public var upperMM: Double
    /// Fraction of the tumour surface area whose margin falls in the bin.
    public var areaFraction: Double
}

/// Surface margins of one tumour, every figure weighted by surface area.
public struct SurfaceMarginStatistics: Sendable, Equatable, Codable {
    /// The minimal ablation margin: positive inside the zone, negative outside.
    public var minimumMM: Double
    /// Post-ablation world position (RAS, mm) where the minimum lies.
    public var minimumLocationPostMM: [Double]
    public var p5MM: Double
    public var p25MM: Double
    public var p50MM: Double
    public var p75MM: Double
    public var p95MM: Double
    public var maximumMM: Double
    public var surfaceAreaMM2: Double
    /// Fractions of the surface area with margin < 0, in [0, target) and >= target.
    public var fractionBelowZero: Double
    public var fractionBelowTarget: Double
    public var fractionAtOrAboveTarget: Double
    public var histogram: [MarginHistogramBin]

    init(margins: [Double], areas: [Double], locations: [SIMD3<Double>], settings: MarginSettings) {
        let sample = WeightedSample(values: margins, weights: areas)
        let lowest = sample.minimumIndex
        minimumMM = margins[lowest]
        minimumLocationPostMM = [locations[lowest].x, locations[lowest].y, locations[lowest].z]
        p5MM = sample.lowerQuantile(0.05)
        p25MM = sample.lowerQuantile(0.25)
        p50MM = sample.lowerQuantile(0.5)
        p75MM = sample.lowerQuantile(0.75)
        p95MM = sample.lowerQuantile(0.95)
        maximumMM = sample.maximum
        let total = sample.totalWeight
        surfaceAreaMM2 = total
        let target = settings.targetMarginMM
        fractionBelowZero = sample.weightFraction { $0 < 0 }
        fractionBelowTarget = sample.weightFraction { $0 >= 0 && $0 < target }
        fractionAtOrAboveTarget = sample.weightFraction { $0 >= target }
        let width = settings.histogramBinMM
        let first = Int((minimumMM / width).rounded(.down))
        let last = Int((maximumMM / width).rounded(.down))
        var binned = [Double](repeating: 0, count: last - first + 1)
        for (m, a) in zip(margins, areas) { binned[Int((m / width).rounded(.down)) - first] += a }
        histogram = binned.enumerated().map { offset, area in
            MarginHistogramBin(lowerMM: Double(first + offset) * width, upperMM: Double(first + offset + 1) * width,
                               areaFraction: area / total)
        }
    }
}

/// The ablated part of the liver tissue within a distance of the tumour surface.
public struct ShellCoverage: Sendable, Equatable, Codable {
    public var widthMM: Double
    public var volumeML: Double
    /// nil when the shell holds no voxel (e.g. no liver around the tumour).
    public var fractionAblated: Double?
}

/// Everything measured for one tumour. Values that cannot be defined are nil, never NaN.
public struct TumourMargin: Sendable, Equatable, Codable {
    /// 1, 2, ... in the order of the engine's input (largest component first).
    public var number: Int
    public var outcome: MarginOutcome = .measured
    /// Why a figure is missing, in one sentence; nil when everything was measured.
    public var message: String?
    public var volumeML: Double
    public var centroidPreMM: SIMD3<Double>
    public var centroidPostMM: SIMD3<Double>
    /// The minimal ablation margin (same as `surface.minimumMM`).
    public var minimalMarginMM: Double?
    public var surface: SurfaceMarginStatistics?
    /// Fraction of the surface within the capsule-exclusion distance of the liver capsule.
    public var capsuleExcludedSurfaceFraction: Double?
    /// Surface statistics without that part (nil if nothing is left or no exclusion was asked).
    public var surfaceWithoutCapsule: SurfaceMarginStatistics?
    /// Fraction of the tumour volume inside the ablation zone.
    public var fractionInsideAblation: Double?
    /// Tumour volume outside the ablation zone.
    public var residualVolumeML: Double?
    public var shells: [ShellCoverage] = []

    init(number: Int, volumeML: Double, centroidPreMM: SIMD3<Double>, centroidPostMM: SIMD3<Double>) {
        self.number = number
        self.volumeML = volumeML
        self.centroidPreMM = centroidPreMM
        self.centroidPostMM = centroidPostMM
    }
}

/// The margin of every sample of one tumour's surface, where `SurfaceMarginStatistics` comes
/// from: the samples in pre and post world coordinates (mm), their margins (mm, averaged over
/// the surface as the statistics are) and the surface area each stands for (mm^2).
public struct SurfaceMargins: Sendable {
    public let prePoints: [SIMD3<Double>]
    public let postPoints: [SIMD3<Double>]
    public let marginsMM: [Double]
    public let areasMM2: [Double]
}

/// A prepared case measured under one transform: per-tumour results, the per-sample surface
/// margins, and what is needed to draw margin maps.
public struct MarginAnalysis: Sendable {
    public let tumours: [TumourMargin]
    /// Per tumour (same order), the margins of its surface samples; nil when no margin was
    /// measured (no ablation zone, or outside the post scan).
    public let surfaceMargins: [SurfaceMargins?]
    /// The pre-to-post transform each tumour was measured under.
    public let transforms: [Affine3D]
    let prepared: PreparedCase

    /// Volume of the ablation zone (holes filled when the settings say so).
    public var ablationVolumeML: Double { prepared.ablationVolumeML }
    public var postGeometry: ImageGeometry { prepared.zone.postGeometry }
    public var settings: MarginSettings { prepared.settings }

    /// Margin maps on the post grid. Each post voxel whose centre lies in a tumour (mapped back
    /// into the pre grid) holds the margin of that tumour's nearest surface sample, and the
    /// voxel nearest to each sample holds at most that sample's margin: so the smallest value
    /// over a tumour's voxels is exactly its MAM, and its category is in the category map.
    /// Also a mask of those voxels (so that a true 0 mm stays distinguishable) and their margin
    /// category (1, 2, ... from the settings' cut-offs; 0 elsewhere). A tumour without a margin
    /// (no ablation zone, outside the post field of view) has no voxels. On the whole post grid,
    /// or by default on the sub-grid around the tumours (same spacing and orientation, so
    /// positions are identical). Nil on the sub-grid when no tumour maps into the post grid.
    public func marginMaps(wholeGrid: Bool = false, marginVoxels: Int = 2) -> MarginMaps? {
        let post = postGeometry
        let inverses = transforms.map(\.inverse)
        let tumourSurfaces = prepared.tumours.map(\.surface)
        // Each tumour's box on the post grid (its surface mapped there, a margin around it),
        // and the box of them all, which the sub-grid covers.
        let grown = SIMD3(repeating: marginVoxels)
        let gridUpper = SIMD3(post.size.x, post.size.y, post.size.z)
        let boxes = zip(tumourSurfaces, transforms).map { t, preToPost -> IndexBox in
            var box = IndexBox(lower: .zero, upper: .zero)
            for p in t.surface.samples {
                // Clamped to just around the grid before becoming an index: a tumour mapped far
                // outside it (no margin then) must not overflow the conversion.
                let i = post.index(atWorld: preToPost.apply(p))
                func index(_ x: Double, _ n: Int) -> Int { Int(min(max(x, -2), Double(n) + 2).rounded(.down)) }
                let lo = SIMD3(index(i.x, post.size.x), index(i.y, post.size.y), index(i.z, post.size.z))
                box = box.union(IndexBox(lower: lo, upper: lo &+ 2))
            }
            box = box.expanded(by: grown, within: post.size)
            return IndexBox(lower: pointwiseMax(box.lower, .zero), upper: pointwiseMin(box.upper, gridUpper))
        }
        let box = boxes.filter { !$0.isEmpty }.reduce(IndexBox(lower: .zero, upper: .zero)) { $0.union($1) }
        if box.isEmpty && !wholeGrid { return nil }
        // The voxels are looked for in each tumour's box and written on the output grid.
        let grid = wholeGrid ? post : post.subGrid(box)
        let offset = wholeGrid ? box.lower : .zero
        var margin = [Float](repeating: 0, count: grid.size.count)
        var inTumour = [Bool](repeating: false, count: grid.size.count)
        var category = [UInt8](repeating: 0, count: grid.size.count)
        // Voxels whose centre lies in a tumour, per tumour, in scan order; a voxel in two
        // tumours belongs to the first. Each tumour is looked for in its own box only, so the
        // cost grows with the tumours' volumes, not with their number times the union's; the
        // boxes' slices side by side.
        let slices = boxes.enumerated().flatMap { t, b in b.isEmpty ? [] : (b.lower.z..<b.upper.z).map { (tumour: t, k: $0) } }
        let found = concurrentMap(slices) { slice -> [(voxel: Int, position: SIMD3<Double>)] in
            let (t, k) = slice
            let tumourBox = boxes[t]
            var voxels: [(voxel: Int, position: SIMD3<Double>)] = []
            for j in tumourBox.lower.y..<tumourBox.upper.y {
                for i in tumourBox.lower.x..<tumourBox.upper.x {
                    let x = post.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                    guard tumourSurfaces[t].contains(inverses[t].apply(x)) else { continue }
                    let v = SIMD3(i, j, k) &- box.lower &+ offset
                    voxels.append((grid.size.linearIndex(v.x, v.y, v.z), x))
                }
            }
            return voxels
        }
        var inside = [[(voxel: Int, position: SIMD3<Double>)]](repeating: [], count: tumourSurfaces.count)
        var claimed = Set<Int>()
        for (slice, voxels) in zip(slices, found) {
            for voxel in voxels {
                if tumourSurfaces.count > 1, !claimed.insert(voxel.voxel).inserted { continue }
                inside[slice.tumour].append(voxel)
            }
        }
        // Each voxel's margin: that of its nearest surface sample, lowered to the margin of any
        // sample whose nearest voxel it is; the tumours side by side.
        let margins = concurrentMap(Array(inside.indices)) { t -> [Double] in
            let voxels = inside[t]
            guard !voxels.isEmpty, let samples = surfaceMargins[t] else { return [] }
            let sampleTree = KDTree(samples.postPoints)
            var values = [Double](repeating: 0, count: voxels.count)
            var hint: Int?
            for (n, voxel) in voxels.enumerated() {
                let nearest = sampleTree.nearest(to: voxel.position, hint: hint).index
                values[n] = samples.marginsMM[nearest]
                hint = nearest
            }
            let voxelTree = KDTree(voxels.map(\.position))
            hint = nil
            for (p, m) in zip(samples.postPoints, samples.marginsMM) {
                let n = voxelTree.nearest(to: p, hint: hint).index
                values[n] = min(values[n], m)
                hint = n
            }
            return values
        }
        for (voxels, values) in zip(inside, margins) {
            for (voxel, d) in zip(voxels, values) {
                margin[voxel.voxel] = Float(d)
                inTumour[voxel.voxel] = true
                category[voxel.voxel] = UInt8(settings.category(ofMarginMM: d))
            }
        }
        return MarginMaps(marginMM: Volume(geometry: grid, voxels: margin), tumourVoxels: Mask(geometry: grid, voxels: inTumour),
                          categories: Volume(geometry: grid, voxels: category))
    }
}

/// Volumes to open on top of the post-ablation scan in a viewer.
public struct MarginMaps: Sendable {
    public let marginMM: Volume<Float>
    public let tumourVoxels: Mask
    public let categories: Volume<UInt8>
}
