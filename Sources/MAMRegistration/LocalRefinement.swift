import Foundation
public import MAMCore
import MAMNumerics
import MAMSurface

/// How a rigid fit is refined around one tumour.
public struct LocalRefinementSettings: Sendable, Equatable {
    /// Width (mm) of the Gaussian that weights liver surface by its distance to the tumour.
    public var sigmaMM = 30.0
    /// Share of the weighted pairs kept each iteration (the closest).
    public var trimFraction = 0.9
    /// Pull toward the whole-liver fit, as a share of the total weight of the pairs: directions
    /// the local surface pins down move freely, the others stay with the global fit.
    public var regularisation = 0.005
    public var maxIterations = 40
    /// Stop when an iteration moves no pair by more than this (mm).
    public var toleranceMM = 0.01
    /// Iterations of each alternative fit (`localEnsemble`), which start from the local fit.
    public var alternativeIterations = 3
    /// Surface samples that err together (a patch of segmentation difference spans many):
    /// the fit's covariance counts this many weighted samples as one independent observation.
    public var correlatedSamples = 100.0
    /// Pairs are weighted down by 1 / (1 + (e / c)^2), e their point-to-plane residual, c this
    /// scale (mm): a patch where one segmenter drew the liver a voxel or two wider or narrower
    /// should not carry the fit; 0 for none.
    public var robustScaleMM = 0.6
    /// Smallest prior standard deviation (mm) of the whole-liver fit's error at the tumour, in
    /// the directions the local surface cannot pin down.
    public var priorMinimumMM = 0.2
    /// Where the local fit explains the surface better than the whole-liver fit, the liver
    /// deformed there, and a rigid fit of a deformed region errs by more than its residuals
    /// say: a translation error of this many times sqrt(start residual^2 - fit residual^2) is
    /// added to the fit's covariance (calibrated, Docs/uncertainty.md).
    public var modelErrorScale = 3.0

    public init() {}
}

/// A rigid fit of the liver surface near one tumour.
public struct LocalFit: Sendable {
    public let preToPost: Affine3D
    public let iterations: Int
    /// Sum of the kept pairs' weights: how many samples' worth of surface pinned the fit.
    public let effectiveSamples: Double
    /// Weighted RMS point-to-plane residual (mm) near the tumour under the start (whole-liver)
    /// transform and under the local fit.
    public let startResidualMM: Double
    public let residualMM: Double
    /// The fit's error covariance about the tumour's post position, as the columns of a
    /// square root (6-vectors: rotation vector, then translation in mm): a Gaussian posterior
    /// with the data's information (scaled by residual variance times `correlatedSamples`) and
    /// a prior centred on the start whose standard deviation is the larger of
    /// `priorMinimumMM`, the start's residual and the fit's move at the tumour. Empty when
    /// the fit failed.
    public let covarianceColumns: [[Double]]
}

extension FittedSurfaces {
    /// Refines `start` (the whole-liver fit) around `prePoint` (pre world, mm): point-to-plane
    /// ICP with each source sample weighted by exp(-d^2 / 2 sigma^2), d its distance to the
    /// point, and a ridge toward `start` (`regularisation`), solved exactly per iteration (a 6 x 6
    /// system, GSL's Cholesky). `sampleWeights`, when given, multiplies the weights (resampling
    /// the surface for an uncertainty estimate). See Docs/registration.md.
    public func refine(_ start: Affine3D, around prePoint: SIMD3<Double>, settings: LocalRefinementSettings,
                       sampleWeights: [Double]? = nil) -> LocalFit {
        let sigma = settings.sigmaMM
        let active = source.points.indices.compactMap { i -> (index: Int, weight: Double)? in
            let d = source.points[i] - prePoint
            let w = exp(-dot(d, d) / (2 * sigma * sigma)) * (sampleWeights?[i] ?? 1)
            // Beyond 3 sigma (weight 0.011) a sample hardly counts; leaving it out saves its
            // nearest-point query.
            return w > 0.01 ? (i, w) : nil
        }
        let points = active.map { source.points[$0.index] }
        let normals = active.map { source.normals[$0.index] }
        var transform = start
        var weightSum = 0.0
        var startResidual = 0.0, residual = 0.0
        var information = [Double](repeating: 0, count: 36)
        func finished(_ iterations: Int) -> LocalFit {
            let move = length(transform.apply(prePoint) - start.apply(prePoint))
            let prior = max(settings.priorMinimumMM, startResidual, move)
            let noise = max(residual * residual, 1e-4) * settings.correlatedSamples
            var precision = information.map { $0 / noise }
            for r in 0..<3 {
                precision[r * 6 + r] += 1 / (prior * prior * sigma * sigma)
                precision[(r + 3) * 6 + r + 3] += 1 / (prior * prior)
            }
            var columns: [[Double]] = []
            let modelError = settings.modelErrorScale * max(0, startResidual * startResidual - residual * residual).squareRoot()
            if var covariance = LinearSystem.inverseSymmetricPositiveDefinite(precision, n: 6) {
                for r in 3..<6 { covariance[r * 6 + r] += modelError * modelError }
                if let l = LinearSystem.choleskyFactor(covariance, n: 6) {
                    columns = (0..<6).map { c in (0..<6).map { r in l[r * 6 + c] } }
                }
            }
            return LocalFit(preToPost: transform, iterations: iterations, effectiveSamples: weightSum,
                            startResidualMM: startResidual, residualMM: residual, covarianceColumns: columns)
        }
        // Each sample's match in the previous iteration: its search's hint in the next.
        var previous: [(index: Int, squaredDistance: Double)]?
        for iteration in 1...settings.maxIterations {
            let moved = points.map(transform.apply)
            let nearest = nearestIndices(moved, in: tree, hints: previous)
            previous = nearest
            var pairs: [(i: Int, j: Int, distance: Double)] = []
            for i in moved.indices {
                let (j, d2) = nearest[i]
                guard dot(transform.linear * normals[i], target.normals[j]) > 0.5, postField.contains(moved[i]) else { continue }
                pairs.append((i, j, d2.squareRoot()))
            }
            // Closest first; pairs at equal distances in sample order (a stable sort).
            pairs = Selection.stableOrder(ofNonNegative: pairs.map(\.distance)).map { pairs[$0] }
            // Trim by weight: the closest pairs holding `trimFraction` of the total weight.
            let total = pairs.reduce(0) { $0 + active[$1.i].weight }
            var kept = 0, cumulative = 0.0
            while kept < pairs.count && cumulative < settings.trimFraction * total {
                cumulative += active[pairs[kept].i].weight
                kept += 1
            }
            guard kept >= 6 else { return finished(iteration) }
            let centre = transform.apply(prePoint)
            // The normal equations' rows (lanes 0-5) and right-hand side, in registers.
            var rows = (SIMD8<Double>.zero, SIMD8<Double>.zero, SIMD8<Double>.zero,
                        SIMD8<Double>.zero, SIMD8<Double>.zero, SIMD8<Double>.zero)
            var rhs = SIMD8<Double>.zero
            weightSum = 0
            var squares = 0.0
            let c2 = settings.robustScaleMM * settings.robustScaleMM
            for p in pairs.prefix(kept) {
                let n = target.normals[p.j]
                let lever = cross(moved[p.i] - centre, n)
                // The residual's derivatives: rotation (the lever), then translation (the normal).
                let jacobian = SIMD8<Double>(lever.x, lever.y, lever.z, n.x, n.y, n.z, 0, 0)
                let e = dot(n, moved[p.i] - target.points[p.j])
                let w = active[p.i].weight * (c2 > 0 ? 1 / (1 + e * e / c2) : 1)
                let weighted = w * jacobian
                rhs -= weighted * e
                rows.0 += weighted[0] * jacobian
                rows.1 += weighted[1] * jacobian
                rows.2 += weighted[2] * jacobian
                rows.3 += weighted[3] * jacobian
                rows.4 += weighted[4] * jacobian
                rows.5 += weighted[5] * jacobian
                weightSum += w
                squares += w * e * e
            }
            var a = [Double](repeating: 0, count: 36)
            for (r, row) in [rows.0, rows.1, rows.2, rows.3, rows.4, rows.5].enumerated() {
                for c in 0..<6 { a[r * 6 + c] = row[c] }
            }
            var b = (0..<6).map { rhs[$0] }
            residual = (squares / weightSum).squareRoot()
            if iteration == 1 { startResidual = residual }
            information = a
            // Ridge toward the start: its deviation at the tumour (rotation vector, translation).
            let lambda = settings.regularisation * weightSum
            let deviationRotation = (transform.linear * start.linear.transposed).rotationVector
            let deviationTranslation = centre - start.apply(prePoint)
            for r in 0..<3 {
                a[r * 6 + r] += lambda * sigma * sigma
                b[r] -= lambda * sigma * sigma * deviationRotation[r]
                a[(r + 3) * 6 + r + 3] += lambda
                b[r + 3] -= lambda * deviationTranslation[r]
            }
            guard let x = LinearSystem.solveSymmetricPositiveDefinite(a, b) else { return finished(iteration) }
            let r = Matrix3.rotation(vector: SIMD3(x[0], x[1], x[2]))
            let update = Affine3D(linear: r, translation: centre + SIMD3(x[3], x[4], x[5]) - r * centre)
            transform = update * transform
            let step = pairs.prefix(kept).map { length(update.apply(moved[$0.i]) - moved[$0.i]) }.max() ?? 0
            if step < settings.toleranceMM { return finished(iteration) }
        }
        return finished(settings.maxIterations)
    }
}

/// A tumour's local fit and the other plausible fits around it.
public struct LocalEnsemble: Sendable {
    /// The local fit at the settings' width.
    public let fit: LocalFit
    /// The whole-liver fit, local fits at 2/3 and 3/2 of the width, and local fits on the
    /// surface resampled in blocks (each a few iterations from the local fit): what the
    /// uncertainty of the margin varies over.
    public let alternatives: [Affine3D]
}

extension FittedSurfaces {
    /// The local fit around `prePoint` and its alternatives. The resampled fits give each
    /// cube of 15 mm of the source surface a weight drawn from an exponential distribution (a
    /// Bayesian bootstrap by blocks, so that a patch of segmentation difference, which moves
    /// neighbouring samples together, varies as a whole).
    public func localEnsemble(_ global: Affine3D, around prePoint: SIMD3<Double>, settings: LocalRefinementSettings,
                              resamples: Int = 6, seed: UInt64 = 1) -> LocalEnsemble {
        let fit = refine(global, around: prePoint, settings: settings)
        var alternative = settings
        alternative.maxIterations = settings.alternativeIterations
        var narrow = alternative, wide = alternative
        narrow.sigmaMM = settings.sigmaMM * 2 / 3
        wide.sigmaMM = settings.sigmaMM * 3 / 2
        var generator = SeededGenerator(seed: seed)
        let block = 15.0
        let weightSets: [[Double]] = (0..<resamples).map { _ in
            var blockWeights: [SIMD3<Int>: Double] = [:]
            return source.points.map { p in
                let key = SIMD3(Int((p.x / block).rounded(.down)), Int((p.y / block).rounded(.down)), Int((p.z / block).rounded(.down)))
                if let w = blockWeights[key] { return w }
                let w = -log(Double.random(in: Double.ulpOfOne..<1, using: &generator))
                blockWeights[key] = w
                return w
            }
        }
        let jobs: [(LocalRefinementSettings, [Double]?)] = [(narrow, nil), (wide, nil)] + weightSets.map { (alternative, $0) }
        let others = concurrentMap(jobs) { refine(fit.preToPost, around: prePoint, settings: $0.0, sampleWeights: $0.1).preToPost }
        return LocalEnsemble(fit: fit, alternatives: [global] + others)
    }
}
