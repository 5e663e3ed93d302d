import Foundation
public import MAMCore
import MAMSurface
import MAMNumerics
import MAMStatistics

public struct RegistrationSettings: Sendable, Equatable {
    /// Spacing of the pre-ablation (moving) surface samples.
    public var sourceSpacingMM = 2.0
    /// Spacing of the post-ablation (fixed) surface samples.
    public var targetSpacingMM = 1.25
    /// Share of correspondences kept each iteration (the closest ones): trimming makes a liver
    /// cut by the field of view, or deformed in places, not drag the result.
    public var trimFraction = 0.7
    public var maxIterations = 150
    /// Stop when an iteration moves the transform by less than this (mm, at the surface).
    public var toleranceMM = 1e-3
    /// Livers whose volumes differ by more than this factor are not matched.
    public var maxVolumeRatio = 2.0
    /// A sample closer than this to the other surface counts as an inlier (quality measures).
    public var inlierDistanceMM = 3.0
    /// Surface within this distance of where a scan's field of view cuts its liver (the grid's
    /// border, or a slab face; see `FieldOfView`) is left out of the fit and of the quality
    /// measures: it is the scan's edge, not anatomy.
    public var borderExclusionMM = 5.0

    public init() {}
}

/// Acceptance thresholds (from the analysis protocol). Defaults: liver Dice >= 0.85, mean
/// surface distance <= 2 mm, 95th percentile <= 5 mm, inlier fraction >= 0.7.
public struct RegistrationThresholds: Sendable, Equatable, Codable {
    public var minLiverDice = 0.85
    public var maxMeanSurfaceDistanceMM = 2.0
    public var maxSurfaceDistance95MM = 5.0
    public var minInlierFraction = 0.7

    public init() {}
}

public struct RegistrationQuality: Sendable, Equatable, Codable {
    /// Dice of the post liver and the pre liver mapped into the post grid.
    public var liverDice: Double
    /// Symmetric surface distance: from each sample (within the post field of view) to the
    /// tangent plane of the nearest sample of the other surface.
    public var meanSurfaceDistanceMM: Double
    public var surfaceDistance95MM: Double
    /// RMS point-to-plane residual of the inliers.
    public var inlierRMSMM: Double
    public var inlierFraction: Double
    public var iterations: Int
}

public enum RegistrationVerdict: String, Sendable, Codable {
    case accepted
    case rejected
}

public struct RegistrationResult: Sendable {
    /// Pre-ablation world (RAS, mm) to post-ablation world.
    public let preToPost: Affine3D
    public let quality: RegistrationQuality
    public let verdict: RegistrationVerdict
    /// Why the verdict is `rejected` (one sentence each); empty when accepted.
    public let reasons: [String]
    /// The surfaces the fit matched (field-of-view cuts left out), for local refinement.
    public let surfaces: FittedSurfaces
}

/// The liver surfaces a registration matched, with the post scan's field of view.
public struct FittedSurfaces: Sendable {
    let source: SurfaceSample
    let target: SurfaceSample
    let tree: KDTree
    let preField: FieldOfView
    let postField: FieldOfView
    let settings: RegistrationSettings
    /// Where each scan's field of view cut its liver (`FieldOfView.cutSides`).
    public var preCutSides: [String] { preField.cutSides }
    public var postCutSides: [String] { postField.cutSides }
    /// Those of the cuts that face the head or the feet (`FieldOfView.cranioCaudalCuts`).
    public var preCranioCaudalCuts: [String] { preField.cranioCaudalCuts }
    public var postCranioCaudalCuts: [String] { postField.cranioCaudalCuts }
}

public enum RegistrationError: Error, Equatable, CustomStringConvertible {
    case emptyLiver(which: String)
    case liversCannotBeMatched(preVolumeML: Double, postVolumeML: Double, maxRatio: Double)
    case didNotConverge(iterations: Int)

    public var description: String {
        switch self {
        case .emptyLiver(let which):
            return "the \(which) liver mask is empty: there is nothing to register"
        case .liversCannotBeMatched(let pre, let post, let ratio):
            return String(format: "the livers cannot be matched: %.0f mL before and %.0f mL after ablation differ by more than a factor %.2g",
                          pre, post, ratio)
        case .didNotConverge(let iterations):
            return "registration did not converge in \(iterations) iterations"
        }
    }
}

/// Rigid registration of the pre-ablation liver onto the post-ablation liver: ICP on surface
/// samples. See Docs/registration.md.
public enum RigidRegistration {
    /// Where ICP starts: centroids aligned, and the rotation among the identity and the four
    /// proper principal-axis alignments that fits best after a few iterations. The trials use
    /// every fourth source sample and three iterations.
    private static func bestStart(source: SurfaceSample, target: SurfaceSample, icp: ICP, postField: FieldOfView,
                                  settings: RegistrationSettings) -> Affine3D {
        let sparse = SurfaceSample(points: stride(from: 0, to: source.points.count, by: 4).map { source.points[$0] },
                                   normals: stride(from: 0, to: source.normals.count, by: 4).map { source.normals[$0] })
        let trialICP = ICP(source: sparse, target: target, tree: icp.tree, postField: postField, settings: settings)
        // The trials side by side (each one's serial steps leave a core idle), the best taken
        // in the rotations' order.
        let (pc, qc) = (centroid(source.points), centroid(target.points))
        let trials = concurrentMap(initialRotations(source.points, target.points)) { rotation in
            trialICP.run(from: Affine3D(linear: rotation, translation: qc - rotation * pc), iterations: 3)
        }
        var best = trials[0]
        for trial in trials.dropFirst() where trial.rms < best.rms { best = trial }
        return best.transform
    }

    public static func register(preLiver: Mask, postLiver: Mask, settings: RegistrationSettings = RegistrationSettings(),
                                thresholds: RegistrationThresholds = RegistrationThresholds()) throws -> RegistrationResult {
        let (preVolume, postVolume) = (preLiver.volumeML, postLiver.volumeML)
        guard preVolume > 0 else { throw RegistrationError.emptyLiver(which: "pre-ablation") }
        guard postVolume > 0 else { throw RegistrationError.emptyLiver(which: "post-ablation") }
        guard max(preVolume, postVolume) <= settings.maxVolumeRatio * min(preVolume, postVolume) else {
            throw RegistrationError.liversCannotBeMatched(preVolumeML: preVolume, postVolumeML: postVolume,
                                                         maxRatio: settings.maxVolumeRatio)
        }
        // Both livers sampled at once, each on a thread of its own: their normals' parallel
        // loops then get every core the other leaves idle (two iterations of one parallel
        // loop would run each liver's normals on one core).
        var preSample: SurfaceSample?, postSample: SurfaceSample?
        concurrently({ preSample = SurfaceSample(mask: preLiver, spacingMM: settings.sourceSpacingMM) },
                     { postSample = SurfaceSample(mask: postLiver, spacingMM: settings.targetSpacingMM) })
        // The field of view is not anatomy: samples near a cut are not fitted.
        let fields = concurrentMap([preLiver, postLiver]) { FieldOfView(mask: $0, marginMM: settings.borderExclusionMM) }
        let (preField, postField) = (fields[0], fields[1])
        let (source, target) = (preSample!.filtered(preField.contains), postSample!.filtered(postField.contains))
        guard source.points.count >= 6 else { throw RegistrationError.emptyLiver(which: "pre-ablation") }
        guard target.points.count >= 6 else { throw RegistrationError.emptyLiver(which: "post-ablation") }
        let icp = ICP(source: source, target: target, postField: postField, settings: settings)

        // The same liver voxels on the same grid (a scan registered onto itself): the identity,
        // exactly, with no iteration and no start to search for (ICP on two different samplings
        // of one surface settles some hundredths of a millimetre away).
        let identical = preLiver.geometry.isSamePhysicalSpace(as: postLiver.geometry) && preLiver.voxels == postLiver.voxels
        let final = identical ? (transform: Affine3D.identity, rms: 0, iterations: 0, converged: true)
            : icp.run(from: bestStart(source: source, target: target, icp: icp, postField: postField, settings: settings),
                      iterations: settings.maxIterations)
        guard final.converged else { throw RegistrationError.didNotConverge(iterations: settings.maxIterations) }

        let quality = icp.quality(final.transform, preField: preField, iterations: final.iterations,
                                  liverDice: dice(preLiver, postLiver, final.transform))
        var reasons: [String] = []
        if quality.liverDice < thresholds.minLiverDice {
            reasons.append(String(format: "liver Dice %.3f is below %.3f", quality.liverDice, thresholds.minLiverDice))
        }
        if quality.meanSurfaceDistanceMM > thresholds.maxMeanSurfaceDistanceMM {
            reasons.append(String(format: "mean surface distance %.2f mm exceeds %.2f mm", quality.meanSurfaceDistanceMM,
                                  thresholds.maxMeanSurfaceDistanceMM))
        }
        if quality.surfaceDistance95MM > thresholds.maxSurfaceDistance95MM {
            reasons.append(String(format: "95th-percentile surface distance %.2f mm exceeds %.2f mm", quality.surfaceDistance95MM,
                                  thresholds.maxSurfaceDistance95MM))
        }
        if quality.inlierFraction < thresholds.minInlierFraction {
            reasons.append(String(format: "inlier fraction %.2f is below %.2f", quality.inlierFraction, thresholds.minInlierFraction))
        }
        return RegistrationResult(preToPost: final.transform, quality: quality,
                                  verdict: reasons.isEmpty ? .accepted : .rejected, reasons: reasons,
                                  surfaces: FittedSurfaces(source: source, target: target, tree: icp.tree, preField: preField,
                                                           postField: postField, settings: settings))
    }

    static func centroid(_ points: [SIMD3<Double>]) -> SIMD3<Double> {
        points.reduce(.zero, +) / Double(points.count)
    }

    /// The identity and the four proper rotations taking the source's principal axes onto the
    /// target's (each axis' sign is ambiguous; the ones with determinant +1).
    static func initialRotations(_ source: [SIMD3<Double>], _ target: [SIMD3<Double>]) -> [Matrix3] {
        func axes(_ points: [SIMD3<Double>]) -> Matrix3 {
            let c = centroid(points)
            var m = [Double](repeating: 0, count: 9)
            for p in points {
                let d = p - c
                for r in 0..<3 { for k in 0..<3 { m[r * 3 + k] += d[r] * d[k] } }
            }
            return principalAxes(m)
        }
        let (a, b) = (axes(source), axes(target))
        let signs: [SIMD3<Double>] = [SIMD3(1, 1, 1), SIMD3(-1, -1, 1), SIMD3(-1, 1, -1), SIMD3(1, -1, -1)]
        return [.identity] + signs.map { b * .diagonal($0) * a.transposed }
    }

    /// The margin (voxels) a crop of a scan's grid needs around the liver's voxels for
    /// registration to see what it sees on the whole grid: the Dice's box, grown by this much;
    /// at least one voxel, so that the liver touches the crop's border only where it touches
    /// the grid's (`FieldOfView`).
    public static let liverCropMarginVoxels = 10

    /// Dice of the post liver and the pre liver mapped into the post grid (each post voxel
    /// centre looked up in the pre grid, nearest voxel), estimated on every second voxel along
    /// each axis of the post liver's bounding box grown by 10 voxels: for a liver that is
    /// about 400,000 voxels, whose estimate is within about 0.001 of the full count.
    static func dice(_ pre: Mask, _ post: Mask, _ preToPost: Affine3D) -> Double {
        let inverse = preToPost.inverse
        let g = post.geometry
        let box = post.boundingBox.expanded(by: SIMD3(repeating: liverCropMarginVoxels), within: g.size)
        let counts = concurrentMap(Array(stride(from: box.lower.z, to: box.upper.z, by: 2))) { k -> (both: Int, pre: Int, post: Int) in
            var (both, inPre, inPost) = (0, 0, 0)
            for j in stride(from: box.lower.y, to: box.upper.y, by: 2) {
                for i in stride(from: box.lower.x, to: box.upper.x, by: 2) {
                    let p = pre.geometry.index(atWorld: inverse.apply(g.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))))
                    let (a, b, c) = (Int(p.x.rounded()), Int(p.y.rounded()), Int(p.z.rounded()))
                    let isPre = pre.size.contains(a, b, c) && pre[a, b, c]
                    let isPost = post[i, j, k]
                    if isPre { inPre += 1 }
                    if isPost { inPost += 1 }
                    if isPre && isPost { both += 1 }
                }
            }
            return (both, inPre, inPost)
        }
        let both = counts.map(\.both).reduce(0, +)
        let total = counts.map(\.pre).reduce(0, +) + counts.map(\.post).reduce(0, +)
        return total > 0 ? 2 * Double(both) / Double(total) : 0
    }
}

/// Trimmed point-to-plane ICP.
///
/// Source and target samples near a field-of-view cut are left out beforehand. Each iteration:
/// every source sample, moved by the current transform into the post scan's trusted field of
/// view, is paired with its nearest target sample (k-d tree) whose normal agrees within 60 degrees; the closest
/// `trimFraction` of the pairs are kept; the rigid update (rotation vector w about the kept
/// samples' centroid c, translation t) minimising the sum of squared point-to-plane residuals,
/// linearised in the rotation as usual for point-to-plane ICP,
/// `e = n.(m - q) + w.((m - c) x n) + t.n`, is found by GSL's BFGS
/// (`gsl_multimin_fdfminimizer_vector_bfgs2`) with the exact gradient, on the sum of squares
/// gathered as a quadratic in (w, t) once per iteration; the update is then
/// applied as the exact rotation R(w), and the next iteration linearises again. Stopping rule: the update moves no kept sample by more than
/// `toleranceMM`, or, after 10 iterations, the kept pairs' RMS residual differs by less than
/// `toleranceMM / 100` from the previous iteration's or the one before (trimmed ICP can cycle
/// between two sets of pairs); otherwise not converged after `maxIterations` iterations.
struct ICP {
    let source: SurfaceSample
    let target: SurfaceSample
    let tree: KDTree
    let postField: FieldOfView
    let settings: RegistrationSettings

    init(source: SurfaceSample, target: SurfaceSample, tree: KDTree? = nil, postField: FieldOfView, settings: RegistrationSettings) {
        self.source = source
        self.target = target
        self.settings = settings
        self.postField = postField
        self.tree = tree ?? KDTree(target.points)
    }

    struct Pair {
        let moved: SIMD3<Double>
        let target: SIMD3<Double>
        let normal: SIMD3<Double>
        let distance: Double
    }

    func pairs(_ transform: Affine3D) -> [Pair] {
        let moved = source.points.map(transform.apply)
        let normals = source.normals.map { transform.linear * $0 }
        let nearest = nearestIndices(moved, in: tree)
        return moved.indices.compactMap { i -> Pair? in
            let (j, d2) = nearest[i]
            guard dot(normals[i], target.normals[j]) > 0.5, postField.contains(moved[i]) else { return nil }
            return Pair(moved: moved[i], target: target.points[j], normal: target.normals[j], distance: d2.squareRoot())
        }
    }

    func run(from start: Affine3D, iterations: Int) -> (transform: Affine3D, rms: Double, iterations: Int, converged: Bool) {
        var transform = start
        var rms = Double.infinity
        var earlier = Double.infinity  // the RMS of the iteration before the previous one
        for iteration in 1...iterations {
            let kept = trimmed(pairs(transform))
            guard kept.count >= 6 else { return (transform, .infinity, iteration, false) }
            let centre = kept.map(\.moved).reduce(.zero, +) / Double(kept.count)
            // Linearised point-to-plane residual of pair i for the update x = (w, t) about
            // `centre`: e_i = o_i + J_i.x, o_i = n.(m - q), J_i = ((m - c) x n, n), exact to first
            // order in the rotation. The sum of squares is the quadratic c + 2 b.x + x'Ax with
            // A = sum J J', b = sum o J, c = sum o^2, gathered once so that each of the
            // optimiser's evaluations costs 36 products instead of a pass over the pairs.
            var a = [Double](repeating: 0, count: 36), b = [Double](repeating: 0, count: 6), c = 0.0
            for pair in kept {
                let o = dot(pair.normal, pair.moved - pair.target)
                let lever = cross(pair.moved - centre, pair.normal)
                let j = SIMD8(lever.x, lever.y, lever.z, pair.normal.x, pair.normal.y, pair.normal.z, 0, 0)
                for r in 0..<6 {
                    b[r] += o * j[r]
                    for s in r..<6 { a[r * 6 + s] += j[r] * j[s] }
                }
                c += o * o
            }
            for r in 0..<6 { for s in 0..<r { a[r * 6 + s] = a[s * 6 + r] } }
            func objective(_ x: [Double], _ gradient: inout [Double]) -> Double {
                var sum = c
                for r in 0..<6 {
                    var ax = 0.0
                    for s in 0..<6 { ax += a[r * 6 + s] * x[s] }
                    gradient[r] = 2 * (b[r] + ax)
                    sum += x[r] * (2 * b[r] + ax)
                }
                return sum
            }
            let result = try? Minimizer.bfgs(start: [0, 0, 0, 0, 0, 0], initialStep: 0.1,
                                             gradientTolerance: 1e-9 * Double(kept.count), maxIterations: 50, objective: objective)
            guard let x = result?.x else { return (transform, rms, iteration, false) }
            let r = Matrix3.rotation(vector: SIMD3(x[0], x[1], x[2]))
            let t = SIMD3(x[3], x[4], x[5])
            let update = Affine3D(linear: r, translation: centre + t - r * centre)
            transform = update * transform
            let previous = rms
            var unused = [Double](repeating: 0, count: 6)
            // At least 0: the gathered quadratic can round below zero where the fit is exact.
            rms = (max(0, objective(x, &unused)) / Double(kept.count)).squareRoot()
            // The largest displacement of a kept sample by this update.
            let moved = kept.map { length(update.apply($0.moved) - $0.moved) }.max() ?? 0
            if moved < settings.toleranceMM { return (transform, rms, iteration, true) }
            // Trimmed ICP can cycle between two sets of kept pairs: stop when the fit no longer
            // improves, or when it is back where it was two iterations before (the two sets
            // trade places, each update undoing the last).
            if iteration > 10 && min(abs(previous - rms), abs(earlier - rms)) < settings.toleranceMM / 100 {
                return (transform, rms, iteration, true)
            }
            earlier = previous
        }
        return (transform, rms, iterations, false)
    }

    /// The `trimFraction` closest pairs (at least 6), in their original order; of pairs as far
    /// as the farthest kept one, the first.
    func trimmed(_ all: [Pair]) -> [Pair] {
        let count = max(6, Int(Double(all.count) * settings.trimFraction))
        guard count < all.count else { return all }
        var distances = all.map(\.distance)
        let threshold = Selection.nthSmallest(&distances, count - 1)
        var ties = count - all.count(where: { $0.distance < threshold })
        return all.filter { pair in
            if pair.distance < threshold { return true }
            guard pair.distance == threshold, ties > 0 else { return false }
            ties -= 1
            return true
        }
    }

    /// The quality measures of a final transform: surface distances, inliers and RMS over
    /// samples inside both scans' trusted fields of view, with the run's iterations and Dice.
    func quality(_ transform: Affine3D, preField: FieldOfView, iterations: Int, liverDice: Double) -> RegistrationQuality {
        let inverse = transform.inverse
        let kept = source.points.indices.filter { postField.contains(transform.apply(source.points[$0])) }
        let moved = kept.map { transform.apply(source.points[$0]) }
        let movedNormals = kept.map { transform.linear * source.normals[$0] }
        let movedTree = KDTree(moved)
        // Distances to the nearest sample's tangent plane, so that the samples' spacing does
        // not count as misalignment.
        let forward = zip(moved, nearestIndices(moved, in: tree)).map { p, nearest in
            abs(dot(target.normals[nearest.index], p - target.points[nearest.index]))
        }
        let inField = target.points.filter { preField.contains(inverse.apply($0)) }
        let backward = zip(inField, nearestIndices(inField, in: movedTree)).map { q, nearest in
            abs(dot(movedNormals[nearest.index], q - moved[nearest.index]))
        }
        let distances = (forward + backward).sorted()
        let inliers = forward.filter { $0 <= settings.inlierDistanceMM }
        let rms = inliers.isEmpty ? 0 : (inliers.map { $0 * $0 }.reduce(0, +) / Double(inliers.count)).squareRoot()
        return RegistrationQuality(
            liverDice: liverDice,
            meanSurfaceDistanceMM: distances.isEmpty ? 0 : distances.reduce(0, +) / Double(distances.count),
            surfaceDistance95MM: Percentiles.nearestRank(sorted: distances, 0.95),
            inlierRMSMM: rms,
            inlierFraction: forward.isEmpty ? 0 : Double(inliers.count) / Double(forward.count),
            iterations: iterations)
    }
}

/// The nearest point of `tree` to each query, in parallel; queries in scan order share search
/// bounds (the previous answer is a hint), unless `hints` gives each query its own (say, its
/// answer in the previous iteration of a fit, a few tenths of a millimetre off, where the
/// neighbouring query's lies a sample spacing away).
func nearestIndices(_ queries: [SIMD3<Double>], in tree: KDTree,
                    hints: [(index: Int, squaredDistance: Double)]? = nil) -> [(index: Int, squaredDistance: Double)] {
    var results = [(index: Int, squaredDistance: Double)](repeating: (0, 0), count: queries.count)
    results.withUnsafeMutableBufferPointer { out in
        let out = out.baseAddress!
        queries.withUnsafeBufferPointer { q in
            concurrentChunks(q.count) { range in
                var hint: Int?
                for i in range {
                    out[i] = tree.nearest(to: q[i], hint: hints?[i].index ?? hint)
                    hint = out[i].index
                }
            }
        }
    }
    return results
}
