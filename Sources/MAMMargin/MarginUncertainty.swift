import Foundation
public import MAMCore
import MAMStatistics

/// How a margin's uncertainty is estimated (Docs/uncertainty.md: the method and its measured
/// calibration).
public struct UncertaintySettings: Sendable, Equatable {
    /// Monte-Carlo draws of (registration, boundary) errors.
    public var draws = 4000
    /// Scale of the registration spread: draws vary like the alternatives' deviations from
    /// the transform used, times this.
    public var registrationScale = 1.0
    /// Translation error (mm, standard deviation per axis) that remains when every plausible
    /// registration agrees.
    public var registrationFloorMM = 0.05
    /// Standard deviation of a mask boundary's position, as a share of the voxel's extent
    /// along the surface normal, per mask.
    public var boundaryFraction = 0.1
    public var seed: UInt64 = 1

    public init() {}
}

/// A margin's uncertainty: a 95% interval and the probabilities of reaching thresholds.
public struct MarginUncertainty: Sendable, Equatable {
    /// The 2.5th and 97.5th percentiles of the MAM over the draws (reflected about the
    /// measured MAM); where those leave out the measured MAM, the measured MAM plus or minus
    /// the farther of them (Docs/uncertainty.md).
    public var lowerMM: Double
    public var upperMM: Double
    /// P(MAM >= the protocol's target) and P(MAM >= 0 mm).
    public var probabilityAtLeastTarget: Double
    public var probabilityAtLeastZero: Double
    /// The registration part: RMS translation of the tumour centre over the draws (mm).
    public var registrationSpreadMM: Double
    /// The boundary part: standard deviation added to every draw (mm).
    public var boundarySDMM: Double
    public var draws: Int
}

extension PreparedCase {
    /// The uncertainty of tumour `index`'s MAM (the order of `measure`'s tumours) measured with
    /// `preToPost`, given `alternatives`: other plausible pre-to-post transforms (other fits).
    ///
    /// The registration error is modelled as a rigid perturbation about the tumour's centre whose
    /// covariance is that of the alternatives' deviations from `preToPost` (scaled by
    /// `registrationScale`), plus an isotropic translation floor. Each surface sample's averaged
    /// margin is linearised in the six perturbation parameters (the signed distance's gradient
    /// by central differences of 0.25 mm, averaged like the margins), so that a draw costs a dot
    /// product per sample rather than a new distance query. Each draw adds a boundary error: a
    /// normal variable with standard deviation `boundaryFraction` times the voxel extent along
    /// the surface normal at the MAM, per mask, combined for the two masks. Nil when the
    /// tumour has no measured margin.
    public func uncertainty(tumour index: Int, preToPost φ: Affine3D, alternatives: [Affine3D],
                            fitCovarianceColumns: [[Double]] = [],
                            settings: UncertaintySettings = UncertaintySettings()) -> MarginUncertainty? {
        let tumour = tumours[index]
        let surface = tumour.surface
        let post = surface.surface.samples.map(φ.apply)
        guard !zone.isEmpty, post.allSatisfy(zone.postGridContains),
              let raw = zone.signedDistances(post) else { return nil }
        let margins = surface.locallyAveraged(raw)
        let count = margins.count

        // Linearisation: d margin_i = g_i . (w, t), w a rotation vector about the tumour centre,
        // t a translation.
        let centre = φ.apply(tumour.centroid)
        let step = 0.25
        var gradient = [SIMD3<Double>](repeating: .zero, count: count)
        for axis in 0..<3 {
            var e = SIMD3<Double>.zero
            e[axis] = step
            let above = zone.signedDistances(post.map { $0 + e })!
            let below = zone.signedDistances(post.map { $0 - e })!
            for i in 0..<count { gradient[i][axis] = (above[i] - below[i]) / (2 * step) }
        }
        let rotationPart = (0..<count).map { cross(post[$0] - centre, gradient[$0]) }
        var g = [[Double]](repeating: [], count: 6)
        for c in 0..<3 {
            g[c] = surface.locallyAveraged(rotationPart.map { $0[c] })
            g[c + 3] = surface.locallyAveraged(gradient.map { $0[c] })
        }

        // The alternatives' deviations from φ, about the tumour centre.
        let inverse = φ.inverse
        let deviations: [[Double]] = alternatives.map { a in
            let d = a * inverse
            let w = d.linear.rotationVector
            let t = d.apply(centre) - centre
            return [w.x, w.y, w.z, t.x, t.y, t.z]
        }
        let scale = deviations.isEmpty ? 0 : settings.registrationScale / Double(deviations.count).squareRoot()
        // Columns whose standard-normal combination is a draw: the alternatives' deviations and
        // the fit's own covariance.
        let columns = deviations.map { $0.map { $0 * scale } } + fitCovarianceColumns

        // Boundary: voxel extents along the surface normal at the MAM, in both grids.
        let lowest = margins.indices.min { margins[$0] < margins[$1] }!
        let n = gradient[lowest] / max(length(gradient[lowest]), 1e-9)
        func extent(_ normal: SIMD3<Double>, _ grid: ImageGeometry) -> Double {
            let d = grid.direction, h = grid.spacing
            let along = SIMD3(dot(d[0], normal) * h.x, dot(d[1], normal) * h.y, dot(d[2], normal) * h.z)
            return length(along)
        }
        let preExtent = extent(φ.linear.inverse * n, tumour.crop.geometry)
        let postExtent = extent(n, zone.postGeometry)
        let boundarySD = settings.boundaryFraction * (preExtent * preExtent + postExtent * postExtent).squareRoot()

        // Only samples that could be the minimum under some draw need visiting: a sample whose
        // margin less six of its standard deviations (over the draws' covariance) stays above
        // the lowest margin plus six of that one's.
        var covariance = [Double](repeating: 0, count: 36)
        for d in columns { for r in 0..<6 { for c in 0..<6 { covariance[r * 6 + c] += d[r] * d[c] } } }
        for c in 3..<6 { covariance[c * 6 + c] += settings.registrationFloorMM * settings.registrationFloorMM }
        let sd = (0..<count).map { i -> Double in
            var v = 0.0
            for r in 0..<6 { for c in 0..<6 { v += g[r][i] * covariance[r * 6 + c] * g[c][i] } }
            return max(0, v).squareRoot()
        }
        let ceiling = (0..<count).map { margins[$0] + 6 * sd[$0] }.min()!
        let candidates = margins.indices.filter { margins[$0] - 6 * sd[$0] <= ceiling }

        var generator = SeededGenerator(seed: settings.seed)
        func normal() -> Double {
            // Box-Muller.
            let u = Double.random(in: Double.ulpOfOne..<1, using: &generator)
            let v = Double.random(in: 0..<1, using: &generator)
            return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
        }
        var perturbations = [[Double]](repeating: [0, 0, 0, 0, 0, 0], count: settings.draws)
        var boundary = [Double](repeating: 0, count: settings.draws)
        var centreShift = 0.0
        for k in 0..<settings.draws {
            var x = [Double](repeating: 0, count: 6)
            for column in columns {
                let z = normal()
                for c in 0..<6 { x[c] += z * column[c] }
            }
            for c in 3..<6 { x[c] += settings.registrationFloorMM * normal() }
            centreShift += x[3] * x[3] + x[4] * x[4] + x[5] * x[5]
            perturbations[k] = x
            boundary[k] = boundarySD * normal()
        }
        // The MAM is a minimum: any error of the transform tends to lower it, so the measured MAM
        // sits below the truth by about as much as the draws sit below the measured one.
        // Reflecting the draws about the measured MAM corrects for that (the basic bootstrap
        // interval); a symmetric spread is left as it is.
        let measured = margins[lowest]
        var mams = [Double](repeating: 0, count: settings.draws)
        mams.withUnsafeMutableBufferPointer { out in
            let out = out.baseAddress!
            concurrentChunks(settings.draws) { range in
                for k in range {
                    let x = perturbations[k]
                    var minimum = Double.infinity
                    for i in candidates {
                        var m = margins[i]
                        for c in 0..<6 { m += g[c][i] * x[c] }
                        minimum = min(minimum, m)
                    }
                    out[k] = 2 * measured - (minimum + boundary[k])
                }
            }
        }
        // Where the reflected draws' interval leaves out the measured MAM itself, the draws lie
        // on one side of it (every plausible transform lowers the MAM: the tumour sits at its
        // largest margin in each direction the registration is unsure of, as after a spread of
        // millimetres): whether the measured MAM lies below the truth or above it the data
        // cannot tell, the reflection would over-correct, and the interval becomes
        // the measured MAM plus or minus the farther of the two percentiles, with the draws
        // and their reflections together for the probabilities.
        var lower = Percentiles.linear(mams, 0.025), upper = Percentiles.linear(mams, 0.975)
        if !(lower <= measured && measured <= upper) {
            let half = max(measured - lower, upper - measured)
            (lower, upper) = (measured - half, measured + half)
            mams += mams.map { 2 * measured - $0 }
        }
        let target = self.settings.targetMarginMM
        return MarginUncertainty(
            lowerMM: lower, upperMM: upper,
            probabilityAtLeastTarget: Double(mams.count(where: { $0 >= target })) / Double(mams.count),
            probabilityAtLeastZero: Double(mams.count(where: { $0 >= 0 })) / Double(mams.count),
            registrationSpreadMM: (centreShift / Double(settings.draws)).squareRoot(),
            boundarySDMM: boundarySD, draws: settings.draws)
    }
}
