import Foundation
public import MAMImaging
import MAMDistance

/// What the margin engine is asked to measure.
public struct MarginCase: Sendable {
    /// One mask per tumour, on the pre-ablation grid (or crops of it).
    public var tumours: [Mask]
    /// The ablation zone(s), on the post-ablation grid; several zones act as their union.
    public var ablationZone: Mask
    /// The pre-ablation liver (tumour voxels included), for the peri-tumoural shells and the
    /// capsule exclusion; optional.
    public var preLiver: Mask?
    /// Maps pre-ablation world coordinates (mm, RAS) to post-ablation ones; identity when the
    /// masks are already co-registered.
    public var preToPost: Affine3D

    public init(tumours: [Mask], ablationZone: Mask, preLiver: Mask? = nil, preToPost: Affine3D = .identity) {
        self.tumours = tumours
        self.ablationZone = ablationZone
        self.preLiver = preLiver
        self.preToPost = preToPost
    }
}

public struct MarginSettings: Sendable, Equatable {
    /// The margin a protocol asks for (surface fractions below / at or above it).
    public var targetMarginMM: Double = 5
    /// Widths of the peri-tumoural shells whose ablated fraction is reported.
    public var shellWidthsMM: [Double] = [5, 10]
    /// When set, the surface statistics are also reported without the tumour surface lying
    /// within this distance of the liver capsule (needs `preLiver`).
    public var capsuleExclusionMM: Double?
    /// Fill enclosed holes of the ablation zone (gas, a closed needle track).
    public var fillAblationHoles = true
    /// Bin width of the surface-margin histogram.
    public var histogramBinMM: Double = 1
    /// Ascending cut-offs of the margin categories: n cut-offs make n + 1 categories, numbered
    /// from 1 ([0, 5]: 1 = below 0, 2 = [0, 5), 3 = at or above 5 mm).
    public var categoryCutoffsMM: [Double] = [0, 5]

    public init() {}

    /// The category (1-based) of a margin: 1 + the number of cut-offs at or below it.
    public func category(ofMarginMM margin: Double) -> Int {
        1 + categoryCutoffsMM.count(where: { $0 <= margin })
    }
}

public enum MarginError: Error, Equatable, CustomStringConvertible {
    case noTumour
    case gridNotOrthogonal(String)
    case liverGridMismatch

    public var description: String {
        switch self {
        case .noTumour: return "the tumour mask is empty: there is no tumour to measure"
        case .gridNotOrthogonal(let which): return "the \(which) grid's axes are not perpendicular (sheared affine)"
        case .liverGridMismatch: return "the pre-ablation liver and tumour masks are not on the same grid"
        }
    }
}

/// The margin engine: per tumour, the signed minimal ablation margin and the figures around it.
/// See Docs/margin-method.md for the method and its measured accuracy.
public enum MarginEngine {
    public static func analyse(_ input: MarginCase, settings: MarginSettings = MarginSettings()) throws -> MarginAnalysis {
        guard !input.tumours.isEmpty, input.tumours.contains(where: { !$0.isEmpty }) else { throw MarginError.noTumour }
        guard input.ablationZone.geometry.isOrthogonal else { throw MarginError.gridNotOrthogonal("post-ablation") }
        for t in input.tumours where !t.geometry.isOrthogonal { throw MarginError.gridNotOrthogonal("pre-ablation") }

        let post = input.ablationZone.geometry
        // The ablation zone's surface and everything about each tumour that does not need it
        // are independent: built side by side, so that neither's serial parts leave a core idle.
        var zone: AblationZone?
        var prepared: Result<[PreparedTumour], any Error> = .success([])
        concurrently({
            zone = AblationZone(input.ablationZone, fillHoles: settings.fillAblationHoles)
        }, {
            prepared = Result {
                try input.tumours.enumerated().filter { !$0.element.isEmpty }.map { index, tumour in
                    try PreparedTumour(tumour, number: index + 1, input: input, settings: settings)
                }
            }
        })
        let ablation = zone!
        let tumours = try prepared.get()
        let results = tumours.map { measure($0, zone: ablation, settings: settings) }
        return MarginAnalysis(tumours: results, ablationVolumeML: ablation.volumeML, postGeometry: post,
                              preToPost: input.preToPost, settings: settings, zone: ablation,
                              tumourSurfaces: tumours.map(\.surface))
    }

    /// How far (mm) around a tumour the engine looks: the widest shell, the capsule
    /// exclusion and two voxels.
    static func reachMM(_ settings: MarginSettings, spacing h: SIMD3<Double>) -> Double {
        (settings.shellWidthsMM.max() ?? 0) + (settings.capsuleExclusionMM ?? 0) + 2 * h.max()
    }

    /// The margin (voxels) a tumour crop needs around the tumour for every figure to be
    /// complete (see `Components.connected26`): crops with less lose part of their shells.
    public static func cropMarginVoxels(_ settings: MarginSettings, spacing h: SIMD3<Double>) -> Int {
        Int((reachMM(settings, spacing: h) / h.min()).rounded(.up))
    }

    static func measure(_ tumour: PreparedTumour, zone: AblationZone, settings: MarginSettings) -> TumourMargin {
        let pre = tumour.crop.geometry
        let φ = tumour.preToPost
        let surface = tumour.surface
        let count = tumour.voxels.count
        var result = TumourMargin(number: tumour.number, volumeML: tumour.volumeML, centroidPreMM: tumour.centroid,
                                  centroidPostMM: φ.apply(tumour.centroid))

        guard !zone.isEmpty else {
            result.outcome = .noAblationZone
            result.message = "the ablation zone is empty: no margin; the whole tumour is unablated"
            result.fractionInsideAblation = 0
            result.residualVolumeML = tumour.volumeML
            return result
        }
        let outsideFOV = surface.postPoints.filter { !zone.postGridContains($0) }.count
        if outsideFOV > 0 {
            result.outcome = .outsidePostFieldOfView
            let percent = Int((100 * Double(outsideFOV) / Double(surface.postPoints.count)).rounded(.up))
            result.message = "\(percent)% of the tumour surface maps outside the post-ablation field of view: no margin"
            return result
        }

        // Surface margins, averaged over a Gaussian neighbourhood of one voxel.
        let raw = zone.distance.signedDistances(surface.postPoints)!
        let margins = surface.locallyAveraged(raw)
        let areas = surface.surface.sampleAreasMM2
        result.surface = SurfaceMarginStatistics(margins: margins, areas: areas, locations: surface.postPoints,
                                                 settings: settings)
        result.minimalMarginMM = result.surface?.minimumMM

        // Capsule exclusion.
        if let capsule = settings.capsuleExclusionMM, let toCapsule = tumour.capsuleDistance {
            let keep = surface.surface.samples.map { p -> Bool in
                // Distance between voxel centres minus half a voxel: distance to the capsule.
                let d = SubvoxelSurface.interpolateClamped(toCapsule, at: toCapsule.geometry.index(atWorld: p))
                return d - pre.spacing.min() / 2 >= capsule
            }
            let keptArea = zip(keep, areas).filter { $0.0 }.map(\.1).reduce(0, +)
            result.capsuleExcludedSurfaceFraction = 1 - keptArea / surface.surface.areaMM2
            let indices = keep.indices.filter { keep[$0] }
            if !indices.isEmpty {
                result.surfaceWithoutCapsule = SurfaceMarginStatistics(
                    margins: indices.map { margins[$0] }, areas: indices.map { areas[$0] },
                    locations: indices.map { surface.postPoints[$0] }, settings: settings)
            }
        }

        // Volume coverage.
        let inside = concurrentMap(tumour.voxels) { zone.contains(φ.apply($0)) }.filter { $0 }.count
        result.fractionInsideAblation = Double(inside) / Double(count)
        result.residualVolumeML = Double(count - inside) * pre.voxelVolumeML

        // Peri-tumoural shells: whether each shell voxel maps inside the zone; in chunks of scan
        // order, so that each query's nearest surface point is a good hint for the next.
        let shell = tumour.shellVoxels
        var inZone = [Bool](repeating: false, count: shell.count)
        inZone.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(shell.count) { range in
                var hint: Int?
                for v in range { out[v] = zone.contains(φ.apply(pre.world(atIndex: shell[v].index)), hint: &hint) }
            }
        }
        let shellWidths = settings.shellWidthsMM
        var voxels = [Int](repeating: 0, count: shellWidths.count)
        var ablated = voxels
        for (voxel, isAblated) in zip(shell, inZone) {
            for (n, width) in shellWidths.enumerated() where voxel.distanceMM <= width {
                voxels[n] += 1
                if isAblated { ablated[n] += 1 }
            }
        }
        result.shells = shellWidths.indices.map { n in
            ShellCoverage(widthMM: shellWidths[n], volumeML: Double(voxels[n]) * pre.voxelVolumeML,
                          fractionAblated: voxels[n] == 0 ? nil : Double(ablated[n]) / Double(voxels[n]))
        }
        return result
    }
}

/// What the engine knows about a tumour before it looks at the ablation zone: its crop with
/// room for the shells, sub-voxel surface, voxel centres, the distance to the liver capsule
/// and the voxels that may lie in a peri-tumoural shell.
struct PreparedTumour {
    let number: Int
    let preToPost: Affine3D
    /// The tumour on its bounding box grown by the engine's reach (`MarginEngine.reachMM`).
    let crop: Mask
    let surface: TumourSurface
    /// World (pre) positions of the tumour's voxel centres.
    let voxels: [SIMD3<Double>]
    let centroid: SIMD3<Double>
    let volumeML: Double
    /// Distance (mm) between voxel centres to the nearest voxel outside the liver, on the crop;
    /// set when the settings ask for a capsule exclusion and a liver is given.
    let capsuleDistance: Volume<Float>?
    /// The voxels of the peri-tumoural shells: voxels of the crop outside the tumour mask (in
    /// the liver, when given) within the widest shell's width of the tumour's sub-voxel
    /// surface; their continuous index and a distance (mm) that falls in the same shells as
    /// their distance to that surface (see `shellVoxels(...)`).
    let shellVoxels: [(index: SIMD3<Double>, distanceMM: Double)]

    init(_ tumourMask: Mask, number: Int, input: MarginCase, settings: MarginSettings) throws {
        self.number = number
        preToPost = input.preToPost
        let pre = tumourMask.geometry
        let h = pre.spacing
        let reach = MarginEngine.reachMM(settings, spacing: h)
        let marginVoxels = SIMD3(Int((reach / h.x).rounded(.up)), Int((reach / h.y).rounded(.up)), Int((reach / h.z).rounded(.up)))
        // The liver on the tumour mask's grid (a crop of the pre grid, say).
        var liver = input.preLiver
        if let whole = liver, whole.geometry != pre {
            guard let onGrid = whole.resampledCrop(onto: pre, outside: false) else { throw MarginError.liverGridMismatch }
            liver = onGrid
        }
        let tight = tumourMask.boundingBox
        let box = tight.expanded(by: marginVoxels, within: pre.size)
        let crop = tumourMask.cropped(to: box)
        self.crop = crop
        surface = TumourSurface(
            mask: SubvoxelSurface.crop(tumourMask, around: tight),
            preToPost: input.preToPost)

        var voxels: [SIMD3<Double>] = []
        var centroid = SIMD3<Double>.zero
        for k in 0..<crop.size.z {
            for j in 0..<crop.size.y {
                for i in 0..<crop.size.x where crop[i, j, k] {
                    let p = crop.geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                    voxels.append(p)
                    centroid += p
                }
            }
        }
        self.voxels = voxels
        self.centroid = centroid / Double(voxels.count)
        volumeML = Double(voxels.count) * pre.voxelVolumeML

        let liverCrop = liver?.cropped(to: box)
        if settings.capsuleExclusionMM != nil, let liverCrop {
            // Where the crop holds no voxel outside the liver the distance is infinite; capped
            // at a kilometre, so that interpolation (0 x infinity) never makes a NaN of it.
            let toCapsule = DistanceTransform.distance(to: liverCrop.map { !$0 }).millimetres
            capsuleDistance = Volume(geometry: liverCrop.geometry, voxels: toCapsule.map { min($0, 1e6) })
        } else {
            capsuleDistance = nil
        }

        shellVoxels = Self.shellVoxels(crop, liver: liverCrop, surface: surface.surface, widths: settings.shellWidthsMM)
    }

    /// Shell voxels of a tumour crop. The distance d from a voxel's centre to the nearest tumour
    /// voxel centre (EDT) bounds its distance D to the sub-voxel surface from above, and from
    /// below by d minus a voxel diagonal; only for a width between those bounds is it asked
    /// whether a surface point lies within it (D the Euclidean distance to the nearest surface
    /// point; the points are under a voxel apart, so it exceeds the distance to the surface by
    /// hundredths of a millimetre at 5 mm). A voxel gets the smallest such width that holds a
    /// surface point, else d. Tumour voxels are never shell voxels: the tumour's volume is its
    /// voxel count, and no voxel counts twice.
    static func shellVoxels(_ crop: Mask, liver: Mask?, surface: SubvoxelSurface,
                            widths unsorted: [Double]) -> [(index: SIMD3<Double>, distanceMM: Double)] {
        let toTumour = DistanceTransform.distance(to: crop)
        let diagonal = length(crop.geometry.spacing)
        let widths = unsorted.sorted()
        let maxShell = widths.last ?? 0
        let size = crop.size
        let inLiver = liver?.voxels ?? [Bool](repeating: true, count: size.count)
        let tumourDistance = SurfaceDistance(surface)
        // Slice by slice in parallel, then in scan order; along a row, each voxel's surface
        // point is a good hint for the next.
        return toTumour.millimetres.withUnsafeBufferPointer { distance in
            inLiver.withUnsafeBufferPointer { inLiver in
                let (distance, inLiver) = (distance.baseAddress!, inLiver.baseAddress!)
                return concurrentFlatMap(size.z) { k -> [(index: SIMD3<Double>, distanceMM: Double)] in
                    var found: [(index: SIMD3<Double>, distanceMM: Double)] = []
                    var hint: Int?
                    for j in 0..<size.y {
                        let row = (k * size.y + j) * size.x
                        for i in 0..<size.x {
                            let d = Double(distance[row + i])
                            guard d > 0, d - diagonal <= maxShell, inLiver[row + i] else { continue }
                            let index = SIMD3(Double(i), Double(j), Double(k))
                            var outside = d
                            for width in widths where width >= d - diagonal && width <= d
                                && tumourDistance.hasPoint(within: width, of: crop.geometry.world(atIndex: index), hint: &hint) {
                                outside = width
                                break
                            }
                            if outside <= maxShell { found.append((index, outside)) }
                        }
                    }
                    return found
                }
            }
        }
    }
}

/// The ablation zone on its region of the post grid: holes filled, its sub-voxel surface, and
/// the signed distance to it.
final class AblationZone: Sendable {
    let distance: SurfaceDistance
    let volumeML: Double
    let isEmpty: Bool
    let postGeometry: ImageGeometry

    /// The region is the zone's bounding box grown by `SubvoxelSurface.cropMargin` voxels;
    /// outside it nothing is inside the zone.
    init(_ mask: Mask, fillHoles: Bool) {
        let g = mask.geometry
        postGeometry = g
        let box = mask.boundingBox
        isEmpty = box.isEmpty
        var crop = SubvoxelSurface.crop(mask, around: box)
        if fillHoles && !isEmpty { crop = Components.fillingHoles(crop) }
        volumeML = crop.volumeML
        distance = SurfaceDistance(SubvoxelSurface(mask: crop))
    }

    /// Inside the zone: the anti-aliased field far from 0.5, else the sign of the distance to
    /// the sub-voxel surface.
    func contains(_ postPoint: SIMD3<Double>) -> Bool {
        var hint: Int?
        return contains(postPoint, hint: &hint)
    }

    /// `contains` for a run of neighbouring points; see `SurfaceDistance.signedDistance(_:hint:)`.
    func contains(_ postPoint: SIMD3<Double>, hint: inout Int?) -> Bool {
        let field = distance.surface.field
        let f = SubvoxelSurface.interpolate(field, at: field.geometry.index(atWorld: postPoint))
        if f > 0.9 { return true }
        if f < 0.1 { return false }
        return (distance.signedDistance(postPoint, hint: &hint) ?? -1) > 0
    }

    /// Within the post grid (up to half a voxel beyond the outer voxel centres).
    func postGridContains(_ point: SIMD3<Double>) -> Bool {
        let i = postGeometry.index(atWorld: point)
        let s = postGeometry.size
        return i.x >= -0.5 && i.y >= -0.5 && i.z >= -0.5
            && i.x <= Double(s.x) - 0.5 && i.y <= Double(s.y) - 0.5 && i.z <= Double(s.z) - 0.5
    }
}

/// A tumour's sub-voxel surface; its samples (one per 1.5-voxel cell, see `SubvoxelSurface`)
/// in post world coordinates, where margins are evaluated; neighbourhoods for averaging
/// margins over the surface.
final class TumourSurface: Sendable {
    let surface: SubvoxelSurface
    let postPoints: [SIMD3<Double>]
    let tree: KDTree
    /// Width of the averaging Gaussian: the largest voxel spacing of the pre grid.
    let sigmaMM: Double

    init(mask: Mask, preToPost: Affine3D) {
        surface = SubvoxelSurface(mask: mask)
        postPoints = surface.samples.map(preToPost.apply)
        tree = KDTree(surface.samples)
        sigmaMM = mask.geometry.spacing.max()
    }

    /// Each value replaced by its area-and-Gaussian-weighted mean over the points within
    /// 2 sigma on the surface, so that one noisy point does not set the minimum.
    func locallyAveraged(_ values: [Double]) -> [Double] {
        let s2 = 2 * sigmaMM * sigmaMM
        var result = [Double](repeating: 0, count: values.count)
        surface.sampleAreasMM2.withUnsafeBufferPointer { areas in
            values.withUnsafeBufferPointer { values in
                surface.samples.withUnsafeBufferPointer { points in
                    result.withUnsafeMutableBufferPointer { out in
                        let out = out.baseAddress!
                        concurrentChunks(points.count) { range in
                            for i in range {
                                var weight = 0.0
                                var sum = 0.0
                                tree.forEach(within: 2 * sigmaMM, of: points[i]) { j, d2 in
                                    let w = exp(-d2 / s2) * areas[j]
                                    weight += w
                                    sum += w * values[j]
                                }
                                out[i] = sum / weight
                            }
                        }
                    }
                }
            }
        }
        return result
    }
}

extension SubvoxelSurface {
    /// Trilinear interpolation at a continuous index, clamped to the grid.
    static func interpolateClamped(_ v: Volume<Float>, at index: SIMD3<Double>) -> Double {
        let s = v.size
        let clamped = SIMD3(min(max(index.x, 0), Double(s.x - 1)), min(max(index.y, 0), Double(s.y - 1)),
                            min(max(index.z, 0), Double(s.z - 1)))
        return interpolate(v, at: clamped)
    }
}
