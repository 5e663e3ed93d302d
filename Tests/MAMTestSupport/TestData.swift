import Foundation
public import MAMCore
public import MAMImageIO

public enum TestVolumes {
    /// `affine` with every element rounded to float32, so that a NIfTI-1 header (which stores
    /// srow as float32) holds it exactly.
    public static func float32Representable(_ a: Affine3D) -> Affine3D {
        func r(_ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(Double(Float(v.x)), Double(Float(v.y)), Double(Float(v.z))) }
        return Affine3D(linear: Matrix3(columns: r(a.linear[0]), r(a.linear[1]), r(a.linear[2])),
                        translation: r(a.translation))
    }

    /// A grid 90 degrees about z with anisotropic spacing, and an oblique one (25 degrees about
    /// (1, 2, 3)) with 0.7 x 0.8 x 2.5 mm voxels; both float32-representable.
    public static let rotatedGeometry = ImageGeometry(
        size: GridSize(6, 5, 4),
        indexToWorld: float32Representable(Affine3D(
            linear: Matrix3.rotation(axis: SIMD3(0, 0, 1), degrees: 90) * .diagonal(SIMD3(0.75, 0.75, 2.5)),
            translation: SIMD3(-100.25, 20.5, 33))))

    public static let obliqueGeometry = ImageGeometry(
        size: GridSize(7, 6, 5),
        indexToWorld: float32Representable(Affine3D(
            linear: Matrix3.rotation(axis: SIMD3(1, 2, 3), degrees: 25) * .diagonal(SIMD3(0.7, 0.8, 2.5)),
            translation: SIMD3(-120.5, 33.25, 71))))

    /// Values spread over the datatype's whole range (integers beyond 2^53 excluded, so that
    /// comparisons through doubles stay exact).
    public static func randomVoxels(_ datatype: NIfTIDatatype, count: Int, seed: UInt64) -> VoxelArray {
        var g = SeededGenerator(seed: seed)
        func ints<T: FixedWidthInteger>(_: T.Type, limit: T = .max) -> [T] {
            let lower: T = T.isSigned ? (limit == .max ? .min : 0 - limit) : 0
            return (0..<count).map { _ in T.random(in: lower...limit, using: &g) }
        }
        switch datatype {
        case .uint8: return .uint8(ints(UInt8.self))
        case .int8: return .int8(ints(Int8.self))
        case .int16: return .int16(ints(Int16.self))
        case .uint16: return .uint16(ints(UInt16.self))
        case .int32: return .int32(ints(Int32.self))
        case .uint32: return .uint32(ints(UInt32.self))
        case .int64: return .int64(ints(Int64.self, limit: 1 << 53))
        case .uint64: return .uint64(ints(UInt64.self, limit: 1 << 53))
        case .float32: return .float32((0..<count).map { _ in Float.random(in: -1e6...1e6, using: &g) })
        case .float64: return .float64((0..<count).map { _ in Double.random(in: -1e12...1e12, using: &g) })
        }
    }

    /// A small uint8 label map (labels 0, 1, 2) on `geometry`.
    public static func labelMap(_ geometry: ImageGeometry, seed: UInt64 = 7) -> Volume<UInt8> {
        var g = SeededGenerator(seed: seed)
        return Volume(geometry: geometry, voxels: (0..<geometry.size.count).map { _ in UInt8.random(in: 0...2, using: &g) })
    }
}
