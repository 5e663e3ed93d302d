import Foundation
public import MAMCore
import MAMNumerics
import MAMSurface

/// How a rigid fit is refined around one tumour.
public struct LocalRefinementSettings: Sendable, Equatable {
    /// Width (mm) of the Gaussian that weights liver surface by its distance to the tumour.
    public var sigmaMM = 40.0
    /// Share of the weighted pairs kept each iteration (the closest).
    public var trimFraction = 0.9
    /// Pull toward the whole-liver fit, as a share of the total weight of the pairs: directions
    /// the local surface pins down move freely, the others stay with the global fit.
    public var regularisation = 0.02
    public var maxIterations = 40
    public var toleranceMM = 1e-3

    public init() {}
}

/// A rigid fit of the liver surface near one tumour.
public struct LocalFit: Sendable {
    public let preToPost: Affine3D
    public let iterations: Int
    /// Sum of the kept pairs' weights: how many samples' worth of surface pinned the fit.
    public let effectiveSamples: Double
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
            return w > 1e-3 ? (i, w) : nil
        }
        let points = active.map { source.points[$0.index] }
        let normals = active.map { source.normals[$0.index] }
        var transform = start
        var weightSum = 0.0
        for iteration in 1...settings.maxIterations {
            let moved = points.map(transform.apply)
            let nearest = nearestIndices(moved, in: tree)
            var pairs: [(i: Int, j: Int, distance: Double)] = []
            for i in moved.indices {
                let (j, d2) = nearest[i]
                guard dot(transform.linear * normals[i], target.normals[j]) > 0.5, postField.contains(moved[i]) else { continue }
                pairs.append((i, j, d2.squareRoot()))
            }
            pairs.sort { $0.distance < $1.distance }
            // Trim by weight: the closest pairs holding `trimFraction` of the total weight.
            let total = pairs.reduce(0) { $0 + active[$1.i].weight }
            var kept = 0, cumulative = 0.0
            while kept < pairs.count && cumulative < settings.trimFraction * total {
                cumulative += active[pairs[kept].i].weight
                kept += 1
            }
            guard kept >= 6 else { break }
            let centre = transform.apply(prePoint)
            var a = [Double](repeating: 0, count: 36), b = [Double](repeating: 0, count: 6)
            weightSum = 0
            for p in pairs.prefix(kept) {
                let w = active[p.i].weight
                let n = target.normals[p.j]
                let lever = cross(moved[p.i] - centre, n)
                let jacobian = [lever.x, lever.y, lever.z, n.x, n.y, n.z]
                let e = dot(n, moved[p.i] - target.points[p.j])
                for r in 0..<6 {
                    b[r] -= w * jacobian[r] * e
                    for c in 0..<6 { a[r * 6 + c] += w * jacobian[r] * jacobian[c] }
                }
                weightSum += w
            }
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
            guard let x = LinearSystem.solveSymmetricPositiveDefinite(a, b) else { break }
            let r = Matrix3.rotation(vector: SIMD3(x[0], x[1], x[2]))
            let update = Affine3D(linear: r, translation: centre + SIMD3(x[3], x[4], x[5]) - r * centre)
            transform = update * transform
            let step = pairs.prefix(kept).map { length(update.apply(moved[$0.i]) - moved[$0.i]) }.max() ?? 0
            if step < settings.toleranceMM {
                return LocalFit(preToPost: transform, iterations: iteration, effectiveSamples: weightSum)
            }
        }
        return LocalFit(preToPost: transform, iterations: settings.maxIterations, effectiveSamples: weightSum)
    }
}
