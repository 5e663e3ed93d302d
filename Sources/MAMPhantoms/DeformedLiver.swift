import Foundation
public import MAMCore

func normalize(_ v: SIMD3<Double>) -> SIMD3<Double> { v / length(v) }

/// A liver phantom whose two scans differ as real ones do: the patient moved (rigid), the liver
/// deformed with breathing (largest at the dome) and one lobe bent, the post scan's field of view
/// cuts the liver, and the two livers were segmented by different hands. The tumour is a sphere
/// in the pre scan; the ablation zone a sphere in the post scan. The truth is computed on the
/// deformed geometry: the tumour's surface carried into the post scan by the true deformation,
/// and its signed distance to the zone's sphere.
///
/// The liver: a smooth union of three ellipsoids (right lobe, left lobe, inferior tip), each
/// size and angle drawn per seed, with a low-frequency ripple of the surface, so that no shape
/// has a symmetry a registration could slide along.
public struct DeformedLiverCase: Sendable {
    public enum TumourSite: String, Sendable, CaseIterable {
        case dome, middle
        case caudalTip = "caudal-tip"
    }

    public enum Truncation: String, Sendable, CaseIterable {
        case none, dome
        case caudalTip = "caudal-tip"
        /// The patient's right side cut away, as by a cone-beam CT's narrower field.
        case lateral
    }

    public struct Options: Sendable {
        public var seed: UInt64
        public var site: TumourSite
        /// Cranio-caudal breathing displacement at the dome (mm); 0 for none.
        public var breathingMM: Double = 0
        /// Displacement of the left lobe (mm); 0 for none.
        public var lobeBendMM: Double = 0
        public var truncation: Truncation = .none
        /// Share of the liver's extent along the cut axis that the post scan misses.
        public var truncatedFraction: Double = 0.25
        /// Patches of 1-2 voxels of erosion or dilation on each liver (a second segmenter).
        public var segmenterPatches: Int = 0
        public var preSpacing = SIMD3<Double>(1.5, 1.5, 1.5)
        public var postSpacing = SIMD3<Double>(1.5, 1.5, 1.5)
        /// Rigid motion of the patient: largest rotation (degrees) and translation (mm).
        public var maxRotationDegrees = 8.0
        public var maxTranslationMM = 20.0

        public init(seed: UInt64, site: TumourSite) {
            self.seed = seed
            self.site = site
        }

        /// A seeded draw of every kind of case (used for calibration): rigid, breathing,
        /// bent, truncated, second segmenter, and combinations; three tumour sites.
        public static func random(seed: UInt64) -> Options {
            var g = SeededGenerator(seed: seed &* 0x2545_F491_4F6C_DD1D &+ 17)
            var o = Options(seed: seed, site: TumourSite.allCases.randomElement(using: &g)!)
            let kind = Int.random(in: 0..<6, using: &g)
            if kind == 1 || kind >= 4 { o.breathingMM = Double.random(in: 3...6, using: &g) * (Bool.random(using: &g) ? 1 : -1) }
            if kind == 2 || kind == 5 { o.lobeBendMM = 4 }
            if kind == 3 || kind >= 4 {
                o.truncation = [.dome, .caudalTip, .lateral].randomElement(using: &g)!
                o.truncatedFraction = Double.random(in: 0.2...0.3, using: &g)
            }
            if kind >= 4 || Bool.random(using: &g) { o.segmenterPatches = Int.random(in: 4...10, using: &g) }
            // CT-like grids: thin and thick slices, fine and coarse pixels.
            let spacings: [SIMD3<Double>] = [SIMD3(0.8, 0.8, 1.0), SIMD3(0.8, 0.8, 2.5), SIMD3(1.0, 1.0, 1.0), SIMD3(1.5, 1.5, 1.5),
                                             SIMD3(1.2, 1.2, 2.5)]
            o.preSpacing = spacings.randomElement(using: &g)!
            o.postSpacing = spacings.randomElement(using: &g)!
            return o
        }

        /// What kind of case this is, e.g. `breathing+truncated(dome)+segmenter`.
        public var kind: String {
            var parts: [String] = []
            if breathingMM != 0 { parts.append("breathing") }
            if lobeBendMM != 0 { parts.append("lobe-bend") }
            if truncation != .none { parts.append("truncated(\(truncation.rawValue))") }
            if segmenterPatches > 0 { parts.append("segmenter") }
            return parts.isEmpty ? "rigid" : parts.joined(separator: "+")
        }

        /// No deformation and no truncation: a registration can be exact.
        public var isRigid: Bool { breathingMM == 0 && lobeBendMM == 0 && truncation == .none }
    }

    public let options: Options
    /// Pre: 1 liver, 2 tumour. Post: 1 liver, 2 ablation zone.
    public let preLabels: Volume<UInt8>
    public let postLabels: Volume<UInt8>
    public let tumourCentrePre: SIMD3<Double>
    public let tumourRadiusMM: Double
    /// Where the tumour centre truly is in the post scan.
    public let tumourCentrePost: SIMD3<Double>
    /// The true minimal ablation margin (mm) on the deformed geometry.
    public let trueMarginMM: Double
    /// The rigid part of the true motion (pre world to post world).
    public let motion: Affine3D
    /// The share of the liver's voxels outside the post field of view.
    public let truncatedLiverFraction: Double
    let deformation: Deformation

    /// The true position in the post scan of a pre-scan point.
    public func truePostPosition(of prePoint: SIMD3<Double>) -> SIMD3<Double> { deformation.forward(prePoint) }

    public init(_ options: Options) {
        self.options = options
        var g = SeededGenerator(seed: options.seed)
        let liver = LiverShape(using: &g)
        let motion = Affine3D(
            linear: Matrix3.rotation(axis: SIMD3(Double.random(in: -1...1, using: &g), Double.random(in: -1...1, using: &g),
                                                 Double.random(in: -1...1, using: &g)),
                                     degrees: Double.random(in: 0...options.maxRotationDegrees, using: &g)),
            translation: SIMD3(Double.random(in: -1...1, using: &g), Double.random(in: -1...1, using: &g),
                               Double.random(in: -1...1, using: &g)) * options.maxTranslationMM / 3.0.squareRoot())
        self.motion = motion
        let deformation = Deformation(motion: motion, liver: liver, breathingMM: options.breathingMM,
                                      lobeBendMM: options.lobeBendMM, using: &g)
        self.deformation = deformation

        // The tumour, at its site, 3-15 mm below the capsule; the zone around where it went.
        let radius = Double.random(in: 6...14, using: &g)
        let centre = liver.tumourCentre(site: options.site, radius: radius, depth: Double.random(in: 3...15, using: &g), using: &g)
        tumourCentrePre = centre
        tumourRadiusMM = radius
        let centrePost = deformation.forward(centre)
        tumourCentrePost = centrePost
        let wantedMargin = Double.random(in: -2...8, using: &g)
        let offset = Double.random(in: 0...4, using: &g) * unitVector(using: &g)
        let zoneRadius = radius + wantedMargin + length(offset)
        let zoneCentre = centrePost + offset
        let sphere = fibonacciSphere(20_000)
        trueMarginMM = sphere.map { zoneRadius - length(deformation.forward(centre + radius * $0) - zoneCentre) }.min()!

        // Pre grid: the liver's box with 10 mm around it.
        let (lo, hi) = liver.tightBounds
        let preGrid = Self.grid(lower: lo - 10, upper: hi + 10, spacing: options.preSpacing)
        var pre = Self.paint(preGrid) { p in liver.contains(p) ? (length(p - centre) <= radius ? 2 : 1) : 0 }

        // Post grid: the deformed liver's box, cut by the field of view.
        let corners = (0..<8).map { c in deformation.forward(SIMD3(c & 1 == 0 ? lo.x : hi.x, c & 2 == 0 ? lo.y : hi.y, c & 4 == 0 ? lo.z : hi.z)) }
        var postLower = corners.reduce(SIMD3(repeating: Double.infinity)) { pointwiseMin($0, $1) } - 10
        var postUpper = corners.reduce(SIMD3(repeating: -Double.infinity)) { pointwiseMax($0, $1) } + 10
        let uncut = Self.grid(lower: postLower, upper: postUpper, spacing: options.postSpacing)
        let fullPost = Self.paint(uncut) { q in
            length(q - zoneCentre) <= zoneRadius ? 2 : (liver.contains(deformation.backward(q)) ? 1 : 0)
        }
        let liverBox = Self.worldBox(of: fullPost)
        // The cut keeps the zone and 8 mm around it in view.
        let keep = (lower: zoneCentre - zoneRadius - 8, upper: zoneCentre + zoneRadius + 8)
        let cut: (axis: Int, fromTop: Bool)? = switch options.truncation {
        case .none: nil
        case .dome: (2, true)
        case .caudalTip: (2, false)
        case .lateral: (0, false)  // RAS: the patient's right is -x
        }
        if let (axis, fromTop) = cut {
            let extent = liverBox.upper[axis] - liverBox.lower[axis]
            if fromTop {
                postUpper[axis] = max(liverBox.upper[axis] - options.truncatedFraction * extent, keep.upper[axis])
            } else {
                postLower[axis] = min(liverBox.lower[axis] + options.truncatedFraction * extent, keep.lower[axis])
            }
        }
        let postGrid = Self.grid(lower: postLower, upper: postUpper, spacing: options.postSpacing)
        var post = fullPost.resampled(onto: postGrid, outside: 0)
        let inView = post.voxels.count(where: { $0 != 0 })
        let whole = fullPost.voxels.count(where: { $0 != 0 })
        truncatedLiverFraction = 1 - Double(inView) / Double(whole)

        if options.segmenterPatches > 0 {
            Self.segmenterPatches(&pre, count: options.segmenterPatches, using: &g)
            Self.segmenterPatches(&post, count: options.segmenterPatches, using: &g)
        }
        preLabels = pre
        postLabels = post
    }

    /// An axis-aligned grid over a world box.
    static func grid(lower: SIMD3<Double>, upper: SIMD3<Double>, spacing h: SIMD3<Double>) -> ImageGeometry {
        let lower = SIMD3((lower.x / h.x).rounded(.down) * h.x, (lower.y / h.y).rounded(.down) * h.y, (lower.z / h.z).rounded(.down) * h.z)
        let n = (upper - lower) / h
        return ImageGeometry(size: GridSize(Int(n.x.rounded(.up)) + 1, Int(n.y.rounded(.up)) + 1, Int(n.z.rounded(.up)) + 1),
                             spacing: h, origin: lower)
    }

    static func paint(_ grid: ImageGeometry, _ label: (SIMD3<Double>) -> UInt8) -> Volume<UInt8> {
        let s = grid.size
        let voxels = concurrentFlatMap(s.z) { k -> [UInt8] in
            var slice = [UInt8](repeating: 0, count: s.x * s.y)
            for j in 0..<s.y {
                for i in 0..<s.x {
                    slice[j * s.x + i] = label(grid.world(atIndex: SIMD3(Double(i), Double(j), Double(k))))
                }
            }
            return slice
        }
        return Volume(geometry: grid, voxels: voxels)
    }

    /// The world box of a label map's non-zero voxels (centres).
    static func worldBox(of map: Volume<UInt8>) -> (lower: SIMD3<Double>, upper: SIMD3<Double>) {
        var lower = SIMD3(repeating: Double.infinity), upper = SIMD3(repeating: -Double.infinity)
        let s = map.size
        for k in 0..<s.z {
            for j in 0..<s.y {
                for i in 0..<s.x where map[i, j, k] != 0 {
                    let p = map.geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
                    lower = pointwiseMin(lower, p)
                    upper = pointwiseMax(upper, p)
                }
            }
        }
        return (lower, upper)
    }

    /// A second segmenter: in `count` balls (radius 12-25 mm) centred on the liver's boundary,
    /// the liver (label 1) grows or shrinks by 1 or 2 voxels; tumour and zone labels are left
    /// as they are.
    static func segmenterPatches(_ map: inout Volume<UInt8>, count: Int, using g: inout SeededGenerator) {
        let s = map.size
        var boundary: [SIMD3<Int>] = []
        for k in 1..<(s.z - 1) {
            for j in 1..<(s.y - 1) {
                for i in 1..<(s.x - 1) where map[i, j, k] == 1 && (map[i - 1, j, k] == 0 || map[i + 1, j, k] == 0
                    || map[i, j - 1, k] == 0 || map[i, j + 1, k] == 0 || map[i, j, k - 1] == 0 || map[i, j, k + 1] == 0) {
                    boundary.append(SIMD3(i, j, k))
                }
            }
        }
        guard !boundary.isEmpty else { return }
        let h = map.geometry.spacing
        for _ in 0..<count {
            let c = boundary.randomElement(using: &g)!
            let radius = Double.random(in: 12...25, using: &g)
            let grow = Bool.random(using: &g)
            let steps = Int.random(in: 1...2, using: &g)
            let r = SIMD3(Int((radius / h.x).rounded(.up)), Int((radius / h.y).rounded(.up)), Int((radius / h.z).rounded(.up)))
            let lo = pointwiseMax(c &- r, SIMD3(1, 1, 1)), hi = pointwiseMin(c &+ r, SIMD3(s.x - 2, s.y - 2, s.z - 2))
            for _ in 0..<steps {
                var changes: [Int] = []
                for k in lo.z...hi.z {
                    for j in lo.y...hi.y {
                        for i in lo.x...hi.x {
                            let d = SIMD3(Double(i - c.x), Double(j - c.y), Double(k - c.z)) * h
                            guard dot(d, d) <= radius * radius else { continue }
                            let v = map[i, j, k]
                            let neighbours = [map[i - 1, j, k], map[i + 1, j, k], map[i, j - 1, k], map[i, j + 1, k],
                                              map[i, j, k - 1], map[i, j, k + 1]]
                            if grow ? (v == 0 && neighbours.contains(1)) : (v == 1 && neighbours.contains(0)) {
                                changes.append(s.linearIndex(i, j, k))
                            }
                        }
                    }
                }
                for v in changes { map.voxels[v] = grow ? 1 : 0 }
            }
        }
    }
}

/// Points evenly spread over the unit sphere.
func fibonacciSphere(_ n: Int) -> [SIMD3<Double>] {
    let golden = Double.pi * (3 - 5.0.squareRoot())
    return (0..<n).map { i in
        let z = 1 - 2 * (Double(i) + 0.5) / Double(n)
        let r = (1 - z * z).squareRoot()
        let a = golden * Double(i)
        return SIMD3(r * cos(a), r * sin(a), z)
    }
}

func unitVector(using g: inout SeededGenerator) -> SIMD3<Double> {
    while true {
        let v = SIMD3(Double.random(in: -1...1, using: &g), Double.random(in: -1...1, using: &g), Double.random(in: -1...1, using: &g))
        let n = length(v)
        if n > 0.1 && n <= 1 { return v / n }
    }
}

/// The liver: a smooth union of three ellipsoids with a ripple.
struct LiverShape: Sendable {
    struct Lobe: Sendable {
        let centre: SIMD3<Double>
        /// World to the lobe's unit-sphere coordinates.
        let toUnit: Matrix3
    }

    let lobes: [Lobe]
    let ripples: [(wave: SIMD3<Double>, phase: Double)]
    let bounds: (lower: SIMD3<Double>, upper: SIMD3<Double>)

    init(using g: inout SeededGenerator) {
        func jitter(_ v: Double) -> Double { v * Double.random(in: 0.9...1.1, using: &g) }
        func lobe(_ c: SIMD3<Double>, _ r: SIMD3<Double>, degrees: Double) -> Lobe {
            let axes = Matrix3.rotation(axis: SIMD3(Double.random(in: -1...1, using: &g), 1, Double.random(in: -1...1, using: &g)),
                                        degrees: degrees + Double.random(in: -5...5, using: &g))
            let radii = SIMD3(jitter(r.x), jitter(r.y), jitter(r.z))
            return Lobe(centre: c, toUnit: Matrix3.diagonal(1 / radii) * axes.transposed)
        }
        // RAS mm: the right lobe on the patient's right (-x), the dome on top (+z).
        lobes = [lobe(SIMD3(-35, 0, 0), SIMD3(65, 80, 70), degrees: 0),
                 lobe(SIMD3(45, 15, 25), SIMD3(55, 45, 28), degrees: 15),
                 lobe(SIMD3(-55, -5, -45), SIMD3(35, 45, 40), degrees: -10)]
        ripples = (0..<3).map { _ in (wave: unitVector(using: &g) * 2 * .pi / Double.random(in: 70...120, using: &g),
                                      phase: Double.random(in: 0...(2 * .pi), using: &g)) }
        bounds = (SIMD3(-115, -95, -100), SIMD3(110, 95, 85))
    }

    /// The box of the liver's points on a 2 mm lattice, grown by 2 mm.
    var tightBounds: (lower: SIMD3<Double>, upper: SIMD3<Double>) {
        var lower = SIMD3(repeating: Double.infinity), upper = SIMD3(repeating: -Double.infinity)
        for z in stride(from: bounds.lower.z, through: bounds.upper.z, by: 2) {
            for y in stride(from: bounds.lower.y, through: bounds.upper.y, by: 2) {
                for x in stride(from: bounds.lower.x, through: bounds.upper.x, by: 2) where contains(SIMD3(x, y, z)) {
                    lower = pointwiseMin(lower, SIMD3(x, y, z))
                    upper = pointwiseMax(upper, SIMD3(x, y, z))
                }
            }
        }
        return (lower - 2, upper + 2)
    }

    /// Negative inside: a soft minimum of the lobes' normalised radii minus one, rippled.
    func value(_ p: SIMD3<Double>) -> Double {
        // The ripple: about 2 mm on a 70 mm lobe, over wavelengths of 70-120 mm.
        let s = 0.12
        var sum = 0.0
        for lobe in lobes {
            let q = length(lobe.toUnit * (p - lobe.centre)) - 1
            sum += exp(-q / s)
        }
        var f = -s * log(sum)
        for r in ripples { f += 0.025 * sin(dot(r.wave, p) + r.phase) }
        return f
    }

    func contains(_ p: SIMD3<Double>) -> Bool {
        guard p.x >= bounds.lower.x, p.y >= bounds.lower.y, p.z >= bounds.lower.z,
              p.x <= bounds.upper.x, p.y <= bounds.upper.y, p.z <= bounds.upper.z else { return false }
        return value(p) <= 0
    }

    /// Depth (mm) of a point below the capsule along -z (dome) or +z (tip), or its distance to the
    /// nearest outside point along the six axes (middle): crude, enough to place a tumour.
    func tumourCentre(site: DeformedLiverCase.TumourSite, radius: Double, depth: Double,
                      using g: inout SeededGenerator) -> SIMD3<Double> {
        for _ in 0..<1000 {
            switch site {
            case .dome, .caudalTip:
                let (x, y) = site == .dome
                    ? (Double.random(in: -60...(-10), using: &g), Double.random(in: -30...30, using: &g))
                    : (Double.random(in: -70...(-40), using: &g), Double.random(in: -25...15, using: &g))
                let step = site == .dome ? -0.5 : 0.5
                var z = site == .dome ? bounds.upper.z : bounds.lower.z
                while z >= bounds.lower.z && z <= bounds.upper.z && !contains(SIMD3(x, y, z)) { z += step }
                let c = SIMD3(x, y, z + (step > 0 ? 1 : -1) * (radius + depth))
                if clearance(c) >= radius + 2 { return c }
            case .middle:
                let c = SIMD3(Double.random(in: -40...0, using: &g), Double.random(in: -20...20, using: &g),
                              Double.random(in: -15...15, using: &g))
                if clearance(c) >= radius + depth { return c }
            }
        }
        return SIMD3(-35, 0, 0)
    }

    /// The smallest distance from `p` to the outside along 26 directions (1 mm steps).
    func clearance(_ p: SIMD3<Double>) -> Double {
        var best = Double.infinity
        for dx in -1...1 {
            for dy in -1...1 {
                for dz in -1...1 where dx != 0 || dy != 0 || dz != 0 {
                    let d = normalize(SIMD3(Double(dx), Double(dy), Double(dz)))
                    var t = 0.0
                    while t < best && contains(p + t * d) { t += 1 }
                    best = min(best, t)
                }
            }
        }
        return best
    }
}

/// The true motion from the pre scan to the post scan: q = R (p + u(p)) + t, u the breathing and
/// the lobe's bend (smooth; its gradient is far below 1, so the inverse is a fixed point).
struct Deformation: Sendable {
    let motion: Affine3D
    let inverseMotion: Affine3D
    let breathingMM: Double
    let breathingDirection: SIMD3<Double>
    let zRange: (Double, Double)
    let lateralPhase: Double
    let bendMM: Double
    let bendDirection: SIMD3<Double>

    init(motion: Affine3D, liver: LiverShape, breathingMM: Double, lobeBendMM: Double, using g: inout SeededGenerator) {
        self.motion = motion
        inverseMotion = motion.inverse
        self.breathingMM = breathingMM
        // Mostly cranio-caudal, a little anterior-posterior and lateral.
        breathingDirection = normalize(SIMD3(Double.random(in: -0.15...0.15, using: &g), Double.random(in: -0.3...0.3, using: &g), 1))
        zRange = (liver.bounds.lower.z + 10, liver.bounds.upper.z - 10)
        lateralPhase = Double.random(in: 0...(2 * .pi), using: &g)
        bendMM = lobeBendMM
        bendDirection = normalize(SIMD3(Double.random(in: -0.3...0.3, using: &g), Double.random(in: 0.3...1, using: &g),
                                        -Double.random(in: 0.3...1, using: &g)))
    }

    /// u(p): breathing grows as the square of the height in the liver (0 at the caudal tip, the
    /// full amount at the dome), varying by 20% from side to side; the left lobe (x > 10 mm)
    /// bends, smoothly over 30 mm.
    func displacement(_ p: SIMD3<Double>) -> SIMD3<Double> {
        var u = SIMD3<Double>.zero
        if breathingMM != 0 {
            let s = min(1, max(0, (p.z - zRange.0) / (zRange.1 - zRange.0)))
            let side: Double = 1 + 0.2 * sin(p.x / 50 + lateralPhase)
            let amount: Double = breathingMM * s * s * side
            u += amount * breathingDirection
        }
        if bendMM != 0 {
            let t = min(1, max(0, (p.x - 10) / 30))
            let smooth: Double = t * t * (3 - 2 * t)
            u += bendMM * smooth * bendDirection
        }
        return u
    }

    func forward(_ p: SIMD3<Double>) -> SIMD3<Double> { motion.apply(p + displacement(p)) }

    func backward(_ q: SIMD3<Double>) -> SIMD3<Double> {
        let target = inverseMotion.apply(q)
        var p = target
        for _ in 0..<6 { p = target - displacement(p) }
        return p
    }
}
