public import MAMCore

/// A solid in world coordinates (mm) with a known analytic description.
public enum Shape: Sendable {
    case sphere(center: SIMD3<Double>, radius: Double)
    /// An ellipsoid with semi-axes `radii` along the columns of `axes` (a rotation).
    case ellipsoid(center: SIMD3<Double>, radii: SIMD3<Double>, axes: Matrix3)

    public func contains(_ p: SIMD3<Double>) -> Bool {
        switch self {
        case .sphere(let c, let r):
            let d = p - c
            return dot(d, d) <= r * r
        case .ellipsoid(let c, let radii, let axes):
            let local = axes.transposed * (p - c) / radii
            return dot(local, local) <= 1
        }
    }

    /// An axis-aligned world box that holds the shape.
    public var boundingBox: (lower: SIMD3<Double>, upper: SIMD3<Double>) {
        switch self {
        case .sphere(let c, let r):
            return (c - r, c + r)
        case .ellipsoid(let c, let radii, _):
            let r = radii.max()
            return (c - r, c + r)
        }
    }

    /// Analytic volume in millilitres.
    public var volumeML: Double {
        switch self {
        case .sphere(_, let r): return 4 / 3 * Double.pi * r * r * r / 1000
        case .ellipsoid(_, let radii, _): return 4 / 3 * Double.pi * radii.x * radii.y * radii.z / 1000
        }
    }
}

/// Label maps painted from shapes: a voxel takes the label of the last shape holding its centre.
public enum Phantom {
    public static func labelMap(geometry: ImageGeometry, shapes: [(label: UInt8, shape: Shape)]) -> Volume<UInt8> {
        var map = Volume<UInt8>(geometry: geometry, repeating: 0)
        let size = geometry.size
        for (label, shape) in shapes {
            // Visit only the index box that covers the shape's world bounding box.
            let (lo, hi) = shape.boundingBox
            var minIndex = SIMD3<Double>(repeating: .infinity)
            var maxIndex = SIMD3<Double>(repeating: -.infinity)
            for corner in 0..<8 {
                let p = SIMD3(corner & 1 == 0 ? lo.x : hi.x, corner & 2 == 0 ? lo.y : hi.y,
                              corner & 4 == 0 ? lo.z : hi.z)
                let index = geometry.index(atWorld: p)
                minIndex = pointwiseMin(minIndex, index)
                maxIndex = pointwiseMax(maxIndex, index)
            }
            let first = SIMD3(Int(max(0, minIndex.x.rounded(.down))), Int(max(0, minIndex.y.rounded(.down))),
                              Int(max(0, minIndex.z.rounded(.down))))
            let last = SIMD3(min(size.x - 1, Int(min(Double(size.x), maxIndex.x.rounded(.up)))),
                             min(size.y - 1, Int(min(Double(size.y), maxIndex.y.rounded(.up)))),
                             min(size.z - 1, Int(min(Double(size.z), maxIndex.z.rounded(.up)))))
            guard first.x <= last.x, first.y <= last.y, first.z <= last.z else { continue }
            for k in first.z...last.z {
                for j in first.y...last.y {
                    for i in first.x...last.x
                    where shape.contains(geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))) {
                        map[i, j, k] = label
                    }
                }
            }
        }
        return map
    }
}

extension Phantom {
    /// A mask of the voxels whose centre satisfies `inside` (world mm), for shapes that are not
    /// a union of `Shape`s (deformed ones, say). Visits every voxel of `geometry`.
    public static func mask(geometry: ImageGeometry, inside: (SIMD3<Double>) -> Bool) -> Mask {
        var mask = Mask(geometry: geometry, repeating: false)
        let s = geometry.size
        for k in 0..<s.z {
            for j in 0..<s.y {
                for i in 0..<s.x where inside(geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))) {
                    mask[i, j, k] = true
                }
            }
        }
        return mask
    }
}
