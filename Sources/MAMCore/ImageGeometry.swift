import Foundation

/// The number of voxels along each axis of a 3-D grid. Voxel `(i, j, k)` is stored at
/// linear index `i + x * (j + y * k)` (i fastest, as in NIfTI).
public struct GridSize: Sendable, Hashable, CustomStringConvertible {
    public var x: Int
    public var y: Int
    public var z: Int

    public init(_ x: Int, _ y: Int, _ z: Int) {
        precondition(x >= 0 && y >= 0 && z >= 0, "negative grid size")
        self.x = x
        self.y = y
        self.z = z
    }

    public var count: Int { x * y * z }

    @inlinable
    public func linearIndex(_ i: Int, _ j: Int, _ k: Int) -> Int { i + x * (j + y * k) }

    public func contains(_ i: Int, _ j: Int, _ k: Int) -> Bool {
        i >= 0 && j >= 0 && k >= 0 && i < x && j < y && k < z
    }

    public var description: String { "\(x) x \(y) x \(z)" }
}

/// Where every voxel of a grid lies in the world: voxel count plus one index-to-world matrix.
///
/// World coordinates are millimetres in the NIfTI convention, RAS+: +x points to the patient's
/// Right, +y Anterior, +z Superior (ITK and DICOM use LPS+, with x and y negated). The index of
/// a voxel's centre is integral; voxel `(0, 0, 0)`'s
/// centre lies at `origin`. As in ITK, the mapping goes through one precomputed matrix, and its
/// inverse is precomputed too.
///
/// `spacing` and `direction` are derived from the matrix: spacing is the length of each column
/// (mm per voxel step), direction the columns normalised. A NIfTI sform may hold a shear, so
/// `direction` need not be orthogonal; `isOrthogonal` tells.
public struct ImageGeometry: Sendable, Hashable, CustomStringConvertible {
    public let size: GridSize
    public let indexToWorld: Affine3D
    public let worldToIndex: Affine3D

    /// Precondition: `indexToWorld` is finite and not singular (readers check this and throw
    /// a typed error first).
    public init(size: GridSize, indexToWorld: Affine3D) {
        precondition(Self.isUsable(indexToWorld), "ImageGeometry needs a finite, non-singular affine")
        self.size = size
        self.indexToWorld = indexToWorld
        self.worldToIndex = indexToWorld.inverse
    }

    /// A grid with the given voxel spacing (mm), origin (world position of voxel 0's centre)
    /// and direction cosines (columns; identity = axes aligned with RAS).
    public init(size: GridSize, spacing: SIMD3<Double>, origin: SIMD3<Double> = .zero,
                direction: Matrix3 = .identity) {
        let linear = Matrix3(
            columns: direction.columns.0 * spacing.x, direction.columns.1 * spacing.y,
            direction.columns.2 * spacing.z)
        self.init(size: size, indexToWorld: Affine3D(linear: linear, translation: origin))
    }

    /// True when the affine is finite and its columns are far from linearly dependent
    /// (|det| > 1e-9 of the product of the column lengths).
    public static func isUsable(_ a: Affine3D) -> Bool {
        let m = a.linear
        let values = [m.columns.0, m.columns.1, m.columns.2, a.translation]
        guard values.allSatisfy({ $0.x.isFinite && $0.y.isFinite && $0.z.isFinite }) else { return false }
        let scale = length(m.columns.0) * length(m.columns.1) * length(m.columns.2)
        return scale > 0 && abs(m.determinant) > 1e-9 * scale
    }

    /// Voxel spacings the pipeline accepts, in mm: from 10 micrometres to 10 cm. Medical scans
    /// lie well inside; the bounds keep every index computed from a world position (and every
    /// array sized by a world extent) finite and small enough to convert to Int.
    public static let plausibleSpacingMM: ClosedRange<Double> = 0.01...100
    /// Every voxel centre lies within this distance of the scanner's origin (1 km).
    public static let maxCoordinateMM = 1e6

    /// Why a grid of `size` under `affine` lies outside the bounds above (nil when it does not):
    /// a spacing outside `plausibleSpacingMM`, or a voxel centre farther than `maxCoordinateMM`
    /// from the origin. `affine` must be usable.
    public static func implausibility(size: GridSize, indexToWorld affine: Affine3D) -> String? {
        let m = affine.linear
        let spacing = [length(m.columns.0), length(m.columns.1), length(m.columns.2)]
        // Within float32's rounding of the bounds (a stored 0.01 reads as 0.0099999998).
        let bounds = plausibleSpacingMM.lowerBound * (1 - 1e-6)...plausibleSpacingMM.upperBound * (1 + 1e-6)
        if let axis = spacing.indices.first(where: { !bounds.contains(spacing[$0]) }) {
            return String(format: "voxel spacing %g mm along axis %d is outside %g to %g mm", spacing[axis], axis + 1,
                          plausibleSpacingMM.lowerBound, plausibleSpacingMM.upperBound)
        }
        let far = ImageGeometry(size: size, indexToWorld: affine).cornerPoints
            .map { max(abs($0.x), abs($0.y), abs($0.z)) }.max() ?? 0
        if !(far <= maxCoordinateMM) {
            return String(format: "voxel centres lie up to %g mm from the origin (at most %g mm)", far, maxCoordinateMM)
        }
        return nil
    }

    public var origin: SIMD3<Double> { indexToWorld.translation }

    /// Millimetres per voxel step along each grid axis.
    public var spacing: SIMD3<Double> {
        let m = indexToWorld.linear
        return SIMD3(length(m.columns.0), length(m.columns.1), length(m.columns.2))
    }

    /// The unit vector of each grid axis in world space (columns).
    public var direction: Matrix3 {
        let m = indexToWorld.linear
        let s = spacing
        return Matrix3(columns: m.columns.0 / s.x, m.columns.1 / s.y, m.columns.2 / s.z)
    }

    /// True when the grid axes are mutually perpendicular (within 1e-6 in cosine).
    public var isOrthogonal: Bool {
        let d = direction
        return abs(dot(d[0], d[1])) < 1e-6 && abs(dot(d[0], d[2])) < 1e-6 && abs(dot(d[1], d[2])) < 1e-6
    }

    /// Volume of one voxel in millilitres (mm^3 / 1000).
    public var voxelVolumeML: Double { abs(indexToWorld.linear.determinant) / 1000 }

    /// World position (mm) of a continuous voxel index.
    @inlinable
    public func world(atIndex index: SIMD3<Double>) -> SIMD3<Double> { indexToWorld.apply(index) }

    /// The axis-aligned world box holding the grid to its voxels' outer faces, the grid mapped
    /// by `transform` first when one is given.
    public func outerWorldBox(mappedBy transform: Affine3D? = nil) -> (lower: SIMD3<Double>, upper: SIMD3<Double>) {
        let far = SIMD3(Double(size.x), Double(size.y), Double(size.z)) - 0.5
        var lower = SIMD3<Double>(repeating: .infinity), upper = SIMD3<Double>(repeating: -.infinity)
        for corner in 0..<8 {
            let index = SIMD3(corner & 1 == 0 ? -0.5 : far.x, corner & 2 == 0 ? -0.5 : far.y, corner & 4 == 0 ? -0.5 : far.z)
            let p = transform.map { $0.apply(world(atIndex: index)) } ?? world(atIndex: index)
            lower = pointwiseMin(lower, p)
            upper = pointwiseMax(upper, p)
        }
        return (lower, upper)
    }

    /// Continuous voxel index of a world position (mm); voxel centres are integral.
    @inlinable
    public func index(atWorld point: SIMD3<Double>) -> SIMD3<Double> { worldToIndex.apply(point) }

    /// The eight world corners of the grid, at the centres of the corner voxels.
    public var cornerPoints: [SIMD3<Double>] {
        let hi = SIMD3(Double(size.x - 1), Double(size.y - 1), Double(size.z - 1))
        var corners: [SIMD3<Double>] = []
        for k in [0.0, hi.z] {
            for j in [0.0, hi.y] {
                for i in [0.0, hi.x] { corners.append(world(atIndex: SIMD3(i, j, k))) }
            }
        }
        return corners
    }

    /// Three-letter orientation code, the world direction each grid axis points to most
    /// (as nibabel's `aff2axcodes`): "RAS" for a NIfTI-canonical grid, "LPS" for a DICOM one.
    public var orientationCode: String {
        let letters: [(Character, Character)] = [("R", "L"), ("A", "P"), ("S", "I")]
        var code = ""
        for axis in 0..<3 {
            let v = direction[axis]
            let magnitudes = [abs(v.x), abs(v.y), abs(v.z)]
            let w = magnitudes.firstIndex(of: magnitudes.max()!)!
            code.append(v[w] >= 0 ? letters[w].0 : letters[w].1)
        }
        return code
    }

    /// True when both grids have the same size and their voxel centres coincide within
    /// `toleranceMM` everywhere (checked at the eight corners, which bounds the whole grid for
    /// an affine map). Filters that combine two images voxel by voxel require this.
    public func isSamePhysicalSpace(as other: ImageGeometry, toleranceMM: Double = 1e-4) -> Bool {
        guard size == other.size else { return false }
        return zip(cornerPoints, other.cornerPoints).allSatisfy { length($0 - $1) <= toleranceMM }
    }

    public var description: String {
        let s = spacing
        func f(_ v: Double) -> String { String(format: "%.4g", v) }
        return "\(size) voxels, spacing \(f(s.x)) x \(f(s.y)) x \(f(s.z)) mm, \(orientationCode)"
    }
}
