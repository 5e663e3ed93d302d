import Foundation
public import MAMCore
public import MAMPhantoms

/// Masks painted from analytic shapes (voxel inside iff its centre is).
public func paint(_ geometry: ImageGeometry, _ shapes: [Shape]) -> Mask {
    Phantom.labelMap(geometry: geometry, shapes: shapes.map { (1, $0) }).map { $0 == 1 }
}

/// A cube-ish grid of `extentMM` around `center` with the given spacing and orientation.
public func grid(around center: SIMD3<Double> = .zero, extentMM: Double, spacing: SIMD3<Double>,
          direction: Matrix3 = .identity) -> ImageGeometry {
    let size = GridSize(Int((extentMM / spacing.x).rounded(.up)), Int((extentMM / spacing.y).rounded(.up)),
                        Int((extentMM / spacing.z).rounded(.up)))
    return .centred(on: center, size: size, spacing: spacing, direction: direction)
}

/// Volume (mm^3) of the intersection of two balls with radii r1, r2 whose centres are d apart.
public func ballIntersectionVolume(_ r1: Double, _ r2: Double, distance d: Double) -> Double {
    if d >= r1 + r2 { return 0 }
    if d <= abs(r1 - r2) { return 4 / 3 * Double.pi * pow(min(r1, r2), 3) }
    return Double.pi * pow(r1 + r2 - d, 2) * (d * d + 2 * d * (r1 + r2) - 3 * pow(r1 - r2, 2)) / (12 * d)
}

public func ballVolume(_ r: Double) -> Double { 4 / 3 * Double.pi * r * r * r }
