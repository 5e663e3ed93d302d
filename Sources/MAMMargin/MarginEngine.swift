import Foundation
public import MAMCore
public import MAMSurface

/// What the margin engine is asked to measure.
public struct MarginCase: Sendable {
    /// One mask per tumour, on the pre-ablation grid (or crops of it).
    public var tumours: [Mask]
    /// The ablation zone(s), on the post-ablation grid or a crop of it; several zones act as
    /// their union.
    public var ablationZone: Mask
    /// The post-ablation scan's whole grid (where its field of view ends), when `ablationZone`
    /// is a crop of it; nil: the zone's own grid.
    public var postGrid: ImageGeometry?
    /// The pre-ablation liver (tumour voxels included), for the peri-tumoural shells and the
    /// capsule exclusion; optional.
    public var preLiver: Mask?
    /// Maps pre-ablation world coordinates (mm, RAS) to post-ablation ones; identity when the
    /// masks are already co-registered.
    public var preToPost: Affine3D

    public init(tumours: [Mask], ablationZone: Mask, postGrid: ImageGeometry? = nil, preLiver: Mask? = nil,
                preToPost: Affine3D = .identity) {
        self.tumours = tumours
        self.ablationZone = ablationZone
        self.postGrid = postGrid
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
    /// Parts of the ablation zone and tumour components smaller than this (mL) are specks:
    /// set aside, with a warning, instead of bending a surface or counting as a tumour.
    public var minimumComponentML: Double = 0.02
    /// Ascending cut-offs of the margin categories: n cut-offs make n + 1 categories, numbered
    /// from 1 ([0, 5]: 1 = below 0, 2 = [0, 5), 3 = at or above 5 mm).
    public var categoryCutoffsMM: [Double] = [0, 5]

    public init() {}

    /// `minimumComponentML` in voxels of `grid` (at least 1).
    public func minimumComponentVoxels(_ grid: ImageGeometry) -> Int {
        max(1, Int((minimumComponentML / grid.voxelVolumeML).rounded(.up)))
    }

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
///
/// The work is in two parts: `prepare` builds everything that does not depend on the
/// pre-to-post transform (the sub-voxel surfaces of the ablation zone and of each tumour, the
/// distance fields, the shell voxels, the capsule exclusion); `PreparedCase.measure(preToPost:)`
/// maps the tumours through one transform and measures. A case measured under many transforms
/// is prepared once.
public enum MarginEngine {
    /// Prepares `input` and measures it under its `preToPost`.
    public static func analyse(_ input: MarginCase, settings: MarginSettings = MarginSettings()) throws -> MarginAnalysis {
        try prepare(input, settings: settings).measure(preToPost: input.preToPost)
    }

    /// Everything about the case that does not depend on the transform (`input.preToPost` is
    /// not used).
    public static func prepare(_ input: MarginCase, settings: MarginSettings = MarginSettings()) throws -> PreparedCase {
        guard !input.tumours.isEmpty, input.tumours.contains(where: { !$0.isEmpty }) else { throw MarginError.noTumour }
        guard input.ablationZone.geometry.isOrthogonal else { throw MarginError.gridNotOrthogonal("post-ablation") }
        for t in input.tumours where !t.geometry.isOrthogonal { throw MarginError.gridNotOrthogonal("pre-ablation") }

        // The ablation zone's surface and everything about each tumour that does not need it
        // are independent: built side by side, so that neither's serial parts leave a core idle.
        var zone: AblationZone?
        var prepared: Result<[PreparedTumour], any Error> = .success([])
        concurrently({
            zone = AblationZone(input.ablationZone, postGrid: input.postGrid ?? input.ablationZone.geometry,
                                fillHoles: settings.fillAblationHoles,
                                minimumVoxels: settings.minimumComponentVoxels(input.ablationZone.geometry))
        }, {
            // Tumour by tumour side by side, for the same reason as the zone's parts.
            let numbered = input.tumours.enumerated().filter { !$0.element.isEmpty }
            prepared = Result {
                try concurrentMap(numbered) { index, tumour in
                    Result { try PreparedTumour(tumour, number: index + 1, preLiver: input.preLiver, settings: settings) }
                }.map { try $0.get() }
            }
        })
        return PreparedCase(zone: zone!, tumours: try prepared.get(), settings: settings)
    }

    /// The tumours of a mask, one per 26-connected component (largest first), each cropped
    /// with room for every figure the settings ask for; components below the settings'
    /// minimum volume are set aside (their voxel counts returned).
    public static func separateTumours(_ mask: Mask, settings: MarginSettings) -> (tumours: [Mask], setAside: [Int]) {
        let found = Components.connected26(mask, margin: cropMarginVoxels(settings, spacing: mask.geometry.spacing),
                                           minimumVoxels: settings.minimumComponentVoxels(mask.geometry))
        return (found.parts, found.removed)
    }

    /// `mask` without its 26-connected components below the settings' minimum volume, and
    /// their voxel counts (largest first).
    public static func removingSpecks(_ mask: Mask, settings: MarginSettings) -> (mask: Mask, removed: [Int]) {
        Components.removingSmall(mask, minimumVoxels: settings.minimumComponentVoxels(mask.geometry))
    }

    /// How far (mm) around a tumour the engine looks: the widest shell, the capsule
    /// exclusion and two voxels.
    static func reachMM(_ settings: MarginSettings, spacing h: SIMD3<Double>) -> Double {
        (settings.shellWidthsMM.max() ?? 0) + (settings.capsuleExclusionMM ?? 0) + 2 * h.max()
    }

    /// The margin (voxels) a crop of the post grid needs around the ablation zone's voxels:
    /// what each zone part's own crop is grown by.
    public static let zoneCropMarginVoxels = SubvoxelSurface.cropMargin

    /// The margin (voxels) a tumour crop needs around the tumour for every figure to be
    /// complete (see `Components.connected26`): crops with less lose part of their shells.
    public static func cropMarginVoxels(_ settings: MarginSettings, spacing h: SIMD3<Double>) -> Int {
        Int((reachMM(settings, spacing: h) / h.min()).rounded(.up))
    }

    static func measure(_ tumour: PreparedTumour, under φ: Affine3D, zone: AblationZone,
                        settings: MarginSettings, figures: MarginFigures) -> (TumourMargin, SurfaceMargins?) {
        let pre = tumour.crop.geometry
        let surface = tumour.surface
        let count = tumour.voxels.count
        let postPoints = surface.surface.samples.map(φ.apply)
        var result = TumourMargin(number: tumour.number, volumeML: tumour.volumeML, centroidPreMM: tumour.centroid,
                                  centroidPostMM: φ.apply(tumour.centroid))

        guard !zone.isEmpty else {
            result.outcome = .noAblationZone
            result.message = "the ablation zone is empty: no margin; the whole tumour is unablated"
            result.fractionInsideAblation = 0
            result.residualVolumeML = tumour.volumeML
            return (result, nil)
        }
        let outsideFOV = postPoints.filter { !zone.postGridContains($0) }.count
        if outsideFOV > 0 {
            result.outcome = .outsidePostFieldOfView
            let percent = Int((100 * Double(outsideFOV) / Double(postPoints.count)).rounded(.up))
            result.message = "\(percent)% of the tumour surface maps outside the post-ablation field of view: no margin"
            return (result, nil)
        }

        // Surface margins, averaged over a Gaussian neighbourhood of one voxel.
        let raw = zone.signedDistances(postPoints)!
        let margins = surface.locallyAveraged(raw)
        let areas = surface.surface.sampleAreasMM2
        result.surface = SurfaceMarginStatistics(margins: margins, areas: areas, locations: postPoints,
                                                 settings: settings)
        result.minimalMarginMM = result.surface?.minimumMM

        // Capsule exclusion.
        if let keep = tumour.awayFromCapsule {
            let keptArea = zip(keep, areas).filter { $0.0 }.map(\.1).reduce(0, +)
            result.capsuleExcludedSurfaceFraction = 1 - keptArea / surface.surface.areaMM2
            let indices = keep.indices.filter { keep[$0] }
            if !indices.isEmpty {
                result.surfaceWithoutCapsule = SurfaceMarginStatistics(
                    margins: indices.map { margins[$0] }, areas: indices.map { areas[$0] },
                    locations: indices.map { postPoints[$0] }, settings: settings)
            }
        }

        let samples = SurfaceMargins(prePoints: surface.surface.samples, postPoints: postPoints, marginsMM: margins,
                                     areasMM2: areas)
        guard figures == .all else { return (result, samples) }

        // Volume coverage; only the zone parts that meet the crop's box as mapped can hold
        // its voxels.
        let candidates = zone.parts(meeting: pre.outerWorldBox(mappedBy: φ))
        let inside = concurrentMap(tumour.voxels) { zone.contains(φ.apply($0), among: candidates) }.filter { $0 }.count
        result.fractionInsideAblation = Double(inside) / Double(count)
        result.residualVolumeML = Double(count - inside) * pre.voxelVolumeML

        // Peri-tumoural shells: whether each shell voxel maps inside the zone; in chunks of scan
        // order, so that each query's nearest surface point is a good hint for the next.
        let shell = tumour.shellVoxels
        var inZone = [Bool](repeating: false, count: shell.count)
        inZone.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(shell.count) { range in
                zone.contains(range.map { φ.apply(shell[$0].position) }, among: candidates, into: out + range.lowerBound)
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
        return (result, samples)
    }
}

/// What `PreparedCase.measure` computes.
public enum MarginFigures: Sendable, Equatable {
    /// Every figure.
    case all
    /// The surface margins only: volume coverage and shells are left out (nil and empty).
    case surface
}

/// A case ready to be measured under any pre-to-post transform (`MarginEngine.prepare`).
public final class PreparedCase: Sendable {
    let zone: AblationZone
    let tumours: [PreparedTumour]
    public let settings: MarginSettings

    init(zone: AblationZone, tumours: [PreparedTumour], settings: MarginSettings) {
        self.zone = zone
        self.tumours = tumours
        self.settings = settings
    }

    /// Volume of the ablation zone (holes filled when the settings say so).
    public var ablationVolumeML: Double { zone.volumeML }
    /// Voxel counts of the ablation zone's specks, set aside (largest first).
    public var ablationZoneSetAside: [Int] { zone.setAsideVoxels }
    /// The ablation zone's long axis and perpendicular diameters (specks set aside, holes
    /// filled when the settings say so); nil when the zone is empty.
    public var ablationZoneShape: PrincipalExtents? { zone.shape }

    /// Every tumour's figures with the tumours mapped into the post scan by `preToPost`; with
    /// `figures: .surface`, only the surface margins (the MAM, its location and the
    /// distribution, with and without the capsule exclusion): what a margin's uncertainty
    /// re-evaluates under many transforms, at a fraction of the cost (coverage and shells
    /// test every tumour and shell voxel; Docs/benchmarks.md).
    public func measure(preToPost: Affine3D, figures: MarginFigures = .all) -> MarginAnalysis {
        measure(perTumour: [Affine3D](repeating: preToPost, count: tumours.count), figures: figures)
    }

    /// `measure` with each tumour mapped by its own transform (in `tumourCentroidsPre`'s
    /// order): a fit refined around each tumour, say.
    public func measure(perTumour transforms: [Affine3D], figures: MarginFigures = .all) -> MarginAnalysis {
        precondition(transforms.count == tumours.count, "one transform per tumour")
        // Tumours side by side (each measured on its own: the same figures on any number of cores).
        let measured = concurrentMap(Array(zip(tumours, transforms))) {
            MarginEngine.measure($0.0, under: $0.1, zone: zone, settings: settings, figures: figures)
        }
        return MarginAnalysis(tumours: measured.map(\.0), surfaceMargins: measured.map(\.1), transforms: transforms,
                              prepared: self)
    }

    /// Each tumour's centroid (pre world, mm), in the order of the measured tumours.
    public var tumourCentroidsPre: [SIMD3<Double>] { tumours.map(\.centroid) }
}

/// What the engine knows about a tumour before it looks at the ablation zone or the transform:
/// its crop with room for the shells, sub-voxel surface, voxel centres, which surface samples
/// lie away from the liver capsule and the voxels that may lie in a peri-tumoural shell.
struct PreparedTumour: Sendable {
    let number: Int
    /// The tumour on its bounding box grown by the engine's reach (`MarginEngine.reachMM`).
    let crop: Mask
    let surface: TumourSurface
    /// World (pre) positions of the tumour's voxel centres.
    let voxels: [SIMD3<Double>]
    let centroid: SIMD3<Double>
    let volumeML: Double
    /// Per surface sample: true when it lies at least the capsule-exclusion distance from the
    /// liver capsule; set when the settings ask for a capsule exclusion and a liver is given.
    let awayFromCapsule: [Bool]?
    /// The voxels of the peri-tumoural shells: voxels of the crop outside the tumour mask (in
    /// the liver, when given) within the widest shell's width of the tumour's sub-voxel
    /// surface; their centre (pre world, mm) and a distance (mm) that falls in the same shells as
    /// their distance to that surface (see `shellVoxels(...)`).
    let shellVoxels: [(position: SIMD3<Double>, distanceMM: Double)]

    init(_ tumourMask: Mask, number: Int, preLiver: Mask?, settings: MarginSettings) throws {
        self.number = number
        let pre = tumourMask.geometry
        let h = pre.spacing
        let reach = MarginEngine.reachMM(settings, spacing: h)
        let marginVoxels = SIMD3(Int((reach / h.x).rounded(.up)), Int((reach / h.y).rounded(.up)), Int((reach / h.z).rounded(.up)))
        // The liver on the tumour mask's grid (a crop of the pre grid, say).
        var liver = preLiver
        if let whole = liver, whole.geometry != pre {
            guard whole.geometry.voxelOffset(of: pre) != nil else { throw MarginError.liverGridMismatch }
            liver = whole.resampled(onto: pre, outside: false)
        }
        let tight = tumourMask.boundingBox
        let box = tight.expanded(by: marginVoxels, within: pre.size)
        let crop = tumourMask.cropped(to: box)
        self.crop = crop
        surface = TumourSurface(mask: SubvoxelSurface.crop(tumourMask, around: tight))

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
        if let capsule = settings.capsuleExclusionMM, let liverCrop {
            // Distance (mm) between voxel centres to the nearest voxel outside the liver. Where
            // the crop holds no voxel outside the liver it is infinite; capped at a kilometre,
            // so that interpolation (0 x infinity) never makes a NaN of it.
            let millimetres = DistanceTransform.distance(to: liverCrop.map { !$0 }).millimetres
            let toCapsule = Volume(geometry: liverCrop.geometry, voxels: millimetres.map { min($0, 1e6) })
            awayFromCapsule = surface.surface.samples.map { p -> Bool in
                // Distance between voxel centres minus half a voxel: distance to the capsule.
                let d = SubvoxelSurface.interpolateClamped(toCapsule, at: toCapsule.geometry.index(atWorld: p))
                return d - pre.spacing.min() / 2 >= capsule
            }
        } else {
            awayFromCapsule = nil
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
    ///
    /// Most of the time went into the widths that hold no surface point, where a search must rule
    /// out every point. Most surface points lie within half a voxel diagonal (τ) of a tumour
    /// voxel centre (median 0.4 mm, 90% within 0.6 mm on 0.7 x 0.7 x 1.0 mm grids); for those
    /// "near" points D >= d - τ, as the nearest one's tumour voxel centre is at least d away.
    /// So a width below d - τ can only hold one of the others (about one in twenty), which a
    /// tree of their own answers for: the same answer, from a twentieth of the points.
    static func shellVoxels(_ crop: Mask, liver: Mask?, surface: SubvoxelSurface,
                            widths unsorted: [Double]) -> [(position: SIMD3<Double>, distanceMM: Double)] {
        let toTumour = DistanceTransform.distance(to: crop)
        let diagonal = length(crop.geometry.spacing)
        let near = diagonal / 2
        // The points that may lie farther than `near` from every tumour voxel centre.
        let far = zip(surface.points, distancesToNearestCentre(surface.points, crop)).filter { $0.1 > near }.map(\.0)
        let farTree = KDTree(far)
        // 1e-4 mm: beyond the rounding of the single-precision distances.
        let nearOnlyBelow = near + 1e-4
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
                return concurrentFlatMap(size.z) { k -> [(position: SIMD3<Double>, distanceMM: Double)] in
                    var found: [(position: SIMD3<Double>, distanceMM: Double)] = []
                    var hint: Int?
                    for j in 0..<size.y {
                        let row = (k * size.y + j) * size.x
                        for i in 0..<size.x {
                            let d = Double(distance[row + i])
                            guard d > 0, d - diagonal <= maxShell, inLiver[row + i] else { continue }
                            let position = crop.geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                            var outside = d
                            for width in widths where width >= d - diagonal && width <= d {
                                let holds = width < d - nearOnlyBelow
                                    ? farTree.anyPoint(within: width, of: position) != nil
                                    : tumourDistance.hasPoint(within: width, of: position, hint: &hint)
                                if holds {
                                    outside = width
                                    break
                                }
                            }
                            if outside <= maxShell { found.append((position, outside)) }
                        }
                    }
                    return found
                }
            }
        }
    }

    /// For each of `points`, its distance to the nearest voxel centre of `mask` (mm), or an upper
    /// bound on it: only the 4 x 4 x 4 voxels around the point's cell are looked at (infinite
    /// when none of them is in the mask).
    static func distancesToNearestCentre(_ points: [SIMD3<Double>], _ mask: Mask) -> [Double] {
        let g = mask.geometry
        let last = SIMD3(g.size.x, g.size.y, g.size.z) &- 1
        return points.map { p in
            let index = g.index(atWorld: p)
            let cell = SIMD3(Int(index.x.rounded(.down)), Int(index.y.rounded(.down)), Int(index.z.rounded(.down)))
            let (lower, upper) = (pointwiseMax(cell &- 1, .zero), pointwiseMin(cell &+ 2, last))
            guard all(lower .<= upper) else { return .infinity }
            var nearest = Double.infinity
            for z in lower.z...upper.z {
                for y in lower.y...upper.y {
                    for x in lower.x...upper.x where mask[x, y, z] {
                        let d = p - g.world(atIndex: SIMD3(Double(x), Double(y), Double(z)))
                        nearest = min(nearest, (d * d).sum())
                    }
                }
            }
            return nearest.squareRoot()
        }
    }
}

/// The ablation zone on the post grid: specks set aside, each remaining 26-connected part with
/// its holes filled and its own sub-voxel surface (so that one part never bends another's
/// fitted surface), and the signed distance to their union.
final class AblationZone: Sendable {
    /// One per part, largest first.
    let parts: [SurfaceDistance]
    /// Each part's region (its crop's grid, to the voxels' outer faces) as a world box: a
    /// point outside it is outside the part, which `contains` can tell without the part.
    private let regions: [(lower: SIMD3<Double>, upper: SIMD3<Double>)]
    let volumeML: Double
    let isEmpty: Bool
    let postGeometry: ImageGeometry
    /// Voxel counts of the specks set aside (parts below the settings' minimum volume).
    let setAsideVoxels: [Int]
    /// Long axis and perpendicular diameters of the parts together; nil when empty.
    let shape: PrincipalExtents?

    /// Each part's region is its bounding box grown by `SubvoxelSurface.cropMargin` voxels;
    /// outside the regions nothing is inside the zone.
    init(_ mask: Mask, postGrid: ImageGeometry, fillHoles: Bool, minimumVoxels: Int) {
        postGeometry = postGrid
        let found = Components.connected26(mask, margin: MarginEngine.zoneCropMarginVoxels, minimumVoxels: minimumVoxels)
        setAsideVoxels = found.removed
        // Part by part side by side: a part's own parallel loops leave cores idle in their
        // serial steps, which with many small parts (a tumour each) add up.
        let crops = concurrentMap(found.parts) { fillHoles ? Components.fillingHoles($0) : $0 }
        isEmpty = crops.isEmpty
        volumeML = crops.map(\.volumeML).reduce(0, +)
        shape = PrincipalExtents(crops)
        parts = concurrentMap(crops) { SurfaceDistance(SubvoxelSurface(mask: $0)) }
        regions = parts.map { $0.surface.field.geometry.outerWorldBox() }
    }

    /// Whether `postPoint` lies in part `n`'s region.
    private func inRegion(_ n: Int, _ postPoint: SIMD3<Double>) -> Bool {
        all(postPoint .>= regions[n].lower) && all(postPoint .<= regions[n].upper)
    }

    /// Signed distances (mm, positive inside) to the union of the parts, as `SurfaceDistance`
    /// measures them to one surface: at the nearest point of the union's surface, which is the
    /// parts' surfaces together (they do not touch). Each point's search starts with the part
    /// that held its predecessor's nearest point, whose distance then bounds the searches of the
    /// others: a part that lies farther costs a few tests near its tree's root, so that many
    /// tumours and zone parts do not cost the product of their numbers. Nil when the zone is
    /// empty.
    func signedDistances(_ points: [SIMD3<Double>]) -> [Double]? {
        guard !isEmpty else { return nil }
        var results = [Double](repeating: 0, count: points.count)
        results.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(points.count) { range in
                var hints = [Int?](repeating: nil, count: parts.count)
                var first = 0
                for k in range {
                    let q = points[k]
                    var best: (part: Int, index: Int, squaredDistance: Double)?
                    // The previous point's part, then the others in their order.
                    for m in parts.indices {
                        let n = m == 0 ? first : (m <= first ? m - 1 : m)
                        if let found = parts[n].nearestPoint(to: q, closerThan: best?.squaredDistance ?? .infinity,
                                                             hint: &hints[n]) {
                            best = (n, found.index, found.squaredDistance)
                        }
                    }
                    first = best!.part
                    out[k] = parts[first].signedDistance(q, atPoint: best!.index)
                }
            }
        }
        return results
    }

    /// The parts whose regions meet the world box: the only ones a point in it can be inside.
    func parts(meeting box: (lower: SIMD3<Double>, upper: SIMD3<Double>)) -> [Int] {
        parts.indices.filter { all(regions[$0].lower .<= box.upper) && all(box.lower .<= regions[$0].upper) }
    }

    /// Inside the zone: inside one of the parts `candidates` (from `parts(meeting:)`; see
    /// `contains(_:among:into:)`).
    func contains(_ postPoint: SIMD3<Double>, among candidates: [Int]) -> Bool {
        candidates.contains { n in
            var hint: Int?
            return inRegion(n, postPoint) && Self.inside(parts[n], postPoint, hint: &hint)
        }
    }

    /// `contains` for a run of neighbouring points (`inside[k]` for `postPoints[k]`), among the
    /// parts `candidates`: part by part, each reading its field in one go, over the points no
    /// earlier part holds (which `contains` would ask it about, in the same order), its
    /// nearest-point searches each starting where the previous one ended.
    func contains(_ postPoints: [SIMD3<Double>], among candidates: [Int], into inside: UnsafeMutablePointer<Bool>) {
        for k in postPoints.indices { inside[k] = false }
        for n in candidates {
            let part = parts[n]
            let field = part.surface.field
            let toIndex = field.geometry.worldToIndex
            var hint: Int?
            field.voxels.withUnsafeBufferPointer { voxels in
                for (k, p) in postPoints.enumerated() where !inside[k] && inRegion(n, p) {
                    inside[k] = Self.inside(part, p, field: SubvoxelSurface.interpolate(voxels.baseAddress!, size: field.size,
                                                                                       at: toIndex.apply(p)), hint: &hint)
                }
            }
        }
    }

    /// Inside one part: its anti-aliased field far from 0.5, else the sign of the distance to
    /// its sub-voxel surface.
    private static func inside(_ part: SurfaceDistance, _ postPoint: SIMD3<Double>, hint: inout Int?) -> Bool {
        let field = part.surface.field
        return inside(part, postPoint, field: SubvoxelSurface.interpolate(field, at: field.geometry.index(atWorld: postPoint)),
                      hint: &hint)
    }

    /// `inside`, given the part's field `f` at the point.
    private static func inside(_ part: SurfaceDistance, _ postPoint: SIMD3<Double>, field f: Double, hint: inout Int?) -> Bool {
        if f > 0.9 { return true }
        if f < 0.1 { return false }
        return (part.signedDistance(postPoint, hint: &hint) ?? -1) > 0
    }

    /// Within the post grid (up to half a voxel beyond the outer voxel centres).
    func postGridContains(_ point: SIMD3<Double>) -> Bool {
        let i = postGeometry.index(atWorld: point)
        let s = postGeometry.size
        return i.x >= -0.5 && i.y >= -0.5 && i.z >= -0.5
            && i.x <= Double(s.x) - 0.5 && i.y <= Double(s.y) - 0.5 && i.z <= Double(s.z) - 0.5
    }
}

/// A tumour's sub-voxel surface (one sample per 1.5-voxel cell, see `SubvoxelSurface`) and,
/// for each sample, the neighbours and weights that average margins over the surface.
final class TumourSurface: Sendable {
    let surface: SubvoxelSurface
    /// The neighbours of sample i are `neighbours[start[i]..<start[i + 1]]`, with their
    /// weights `weights[...]` (Gaussian of the distance times the neighbour's area).
    private let start: [Int]
    private let neighbours: [Int]
    private let weights: [Double]

    init(mask: Mask) {
        let surface = SubvoxelSurface(mask: mask)
        self.surface = surface
        // The points within 2 sigma of each sample, in the k-d tree's order, with their weights;
        // sigma, the width of the averaging Gaussian, is the largest voxel spacing of the grid
        // the surface was fitted on (the native one for a resampled mask).
        let sigma = surface.field.geometry.spacing.max()
        let tree = KDTree(surface.samples)
        let s2 = 2 * sigma * sigma
        let reach = 2 * sigma
        let lists = surface.samples.withUnsafeBufferPointer { points in
            surface.sampleAreasMM2.withUnsafeBufferPointer { areas in
                concurrentMap(Array(points.indices)) { i -> [(Int, Double)] in
                    var list: [(Int, Double)] = []
                    tree.forEach(within: reach, of: points[i]) { j, d2 in list.append((j, exp(-d2 / s2) * areas[j])) }
                    return list
                }
            }
        }
        var start = [0]
        start.reserveCapacity(lists.count + 1)
        for list in lists { start.append(start.last! + list.count) }
        self.start = start
        neighbours = lists.flatMap { $0.map(\.0) }
        weights = lists.flatMap { $0.map(\.1) }
    }

    /// Each value replaced by its area-and-Gaussian-weighted mean over the samples within
    /// 2 sigma on the surface, so that one noisy point does not set the minimum.
    func locallyAveraged(_ values: [Double]) -> [Double] {
        var result = [Double](repeating: 0, count: values.count)
        result.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(values.count) { range in
                for i in range {
                    var weight = 0.0
                    var sum = 0.0
                    for n in start[i]..<start[i + 1] {
                        let w = weights[n]
                        weight += w
                        sum += w * values[neighbours[n]]
                    }
                    out[i] = sum / weight
                }
            }
        }
        return result
    }

    /// Inside the tumour (pre world point): its anti-aliased mask above 0.5.
    func contains(_ prePoint: SIMD3<Double>) -> Bool {
        let field = surface.field
        return SubvoxelSurface.interpolate(field, at: field.geometry.index(atWorld: prePoint)) > 0.5
    }
}
