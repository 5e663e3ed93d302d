/// Voxels plus their world geometry. Voxel `(i, j, k)` is `voxels[geometry.size.linearIndex(i, j, k)]`.
public struct Volume<Voxel: Sendable>: Sendable {
    public let geometry: ImageGeometry
    public var voxels: [Voxel]

    /// Precondition: `voxels.count == geometry.size.count`.
    public init(geometry: ImageGeometry, voxels: [Voxel]) {
        precondition(voxels.count == geometry.size.count,
                     "Volume: \(voxels.count) voxels for a \(geometry.size) grid")
        self.geometry = geometry
        self.voxels = voxels
    }

    public init(geometry: ImageGeometry, repeating value: Voxel) {
        self.init(geometry: geometry, voxels: Array(repeating: value, count: geometry.size.count))
    }

    public var size: GridSize { geometry.size }

    @inlinable
    public subscript(i: Int, j: Int, k: Int) -> Voxel {
        get { voxels[geometry.size.linearIndex(i, j, k)] }
        set { voxels[geometry.size.linearIndex(i, j, k)] = newValue }
    }

    /// The same geometry with voxels transformed one by one.
    @inlinable
    public func map<T: Sendable>(_ transform: (Voxel) throws -> T) rethrows -> Volume<T> {
        Volume<T>(geometry: geometry, voxels: try voxels.map(transform))
    }
}

/// A binary mask: `true` marks voxels inside the structure.
public typealias Mask = Volume<Bool>

extension Volume where Voxel == Bool {
    /// Number of voxels inside (a plain loop over the bytes, which the compiler vectorises).
    public var count: Int {
        voxels.withUnsafeBufferPointer { v in
            v.withMemoryRebound(to: UInt8.self) { bytes in
                var total = 0
                for b in bytes { total &+= Int(b) }
                return total
            }
        }
    }

    public var isEmpty: Bool { !voxels.contains(true) }

    /// Volume inside the mask in millilitres (voxel count times voxel volume).
    public var volumeML: Double { Double(count) * geometry.voxelVolumeML }
}
