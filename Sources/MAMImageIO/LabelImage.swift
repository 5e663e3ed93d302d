public import MAMCore
/// Which header fields placed the voxels in the world, by the NIfTI standard's precedence.
public enum GeometrySource: String, Sendable, Codable, CaseIterable {
    /// sform_code > 0: the srow_x/y/z affine (the standard's method 3).
    case sform
    /// sform_code == 0, qform_code > 0: quaternion, offsets and pixdim (method 2).
    case qform
    /// Both codes 0: pixdim scaling from voxel 0 at the origin (method 1). nibabel instead
    /// centres the grid and flips x in this case; see Docs/geometry.md.
    case pixdim
    /// NRRD: `space directions` and `space origin` (in the file's `space`, turned into RAS).
    case spaceDirections = "space-directions"
    /// MetaImage: `TransformMatrix`, `ElementSpacing` and `Offset` (LPS, turned into RAS).
    case transformMatrix = "transform-matrix"
    /// DICOM-SEG: the frames' plane orientation, pixel spacing and positions (LPS, into RAS).
    case framePositions = "frame-positions"
    /// RTSTRUCT: the grid of the CT series the contours are drawn on (its slices' positions).
    case referencedSeries = "referenced-series"
}

/// The file formats images are read from (`ImageReaders` picks the reader).
public enum ImageFormat: String, Sendable, Codable {
    case nifti1 = "NIfTI-1"
    case nifti2 = "NIfTI-2"
    case nrrd = "NRRD"
    case metaImage = "MetaImage"
    case dicomSeg = "DICOM-SEG"
    case rtStruct = "RTSTRUCT"
}

/// The datatypes mam-quantify reads and writes, with their NIfTI codes.
public enum NIfTIDatatype: Int, Sendable, Codable, CaseIterable {
    case uint8 = 2, int16 = 4, int32 = 8, float32 = 16, float64 = 64
    case int8 = 256, uint16 = 512, uint32 = 768, int64 = 1024, uint64 = 1280

    public var bytesPerVoxel: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16, .uint16: return 2
        case .int32, .uint32, .float32: return 4
        case .int64, .uint64, .float64: return 8
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
}

/// Voxel values as stored in the file (before scl_slope/scl_inter), in native byte order.
public enum VoxelArray: Sendable, Equatable {
    case uint8([UInt8]), int8([Int8]), int16([Int16]), uint16([UInt16])
    case int32([Int32]), uint32([UInt32]), int64([Int64]), uint64([UInt64])
    case float32([Float]), float64([Double])

    public var datatype: NIfTIDatatype {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .int16: return .int16
        case .uint16: return .uint16
        case .int32: return .int32
        case .uint32: return .uint32
        case .int64: return .int64
        case .uint64: return .uint64
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    public var count: Int {
        switch self {
        case .uint8(let a): return a.count
        case .int8(let a): return a.count
        case .int16(let a): return a.count
        case .uint16(let a): return a.count
        case .int32(let a): return a.count
        case .uint32(let a): return a.count
        case .int64(let a): return a.count
        case .uint64(let a): return a.count
        case .float32(let a): return a.count
        case .float64(let a): return a.count
        }
    }

    /// Every value after `scaling` (if any), transformed by `transform`, in storage order.
    /// Integers beyond 2^53 round to the nearest double.
    @inlinable
    public func mapScaled<R>(_ scaling: LinearScaling?, _ transform: (Double) throws -> R) rethrows -> [R] {
        switch self {
        case .uint8(let a): return try Self.map(a, scaling, transform)
        case .int8(let a): return try Self.map(a, scaling, transform)
        case .int16(let a): return try Self.map(a, scaling, transform)
        case .uint16(let a): return try Self.map(a, scaling, transform)
        case .int32(let a): return try Self.map(a, scaling, transform)
        case .uint32(let a): return try Self.map(a, scaling, transform)
        case .int64(let a): return try Self.map(a, scaling, transform)
        case .uint64(let a): return try Self.map(a, scaling, transform)
        case .float32(let a): return try Self.map(a, scaling, transform)
        case .float64(let a): return try Self.map(a, scaling, transform)
        }
    }

    @inlinable
    static func map<T: StoredVoxel, R>(_ a: [T], _ scaling: LinearScaling?,
                                       _ transform: (Double) throws -> R) rethrows -> [R] {
        if let scaling { return try a.map { try transform(scaling.apply($0.asDouble)) } }
        return try a.map { try transform($0.asDouble) }
    }
}

/// A type NIfTI stores voxels in.
public protocol StoredVoxel: Sendable {
    var asDouble: Double { get }
}

extension UInt8: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension Int8: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension Int16: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension UInt16: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension Int32: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension UInt32: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension Int64: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension UInt64: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension Float: StoredVoxel { @inlinable public var asDouble: Double { Double(self) } }
extension Double: StoredVoxel { @inlinable public var asDouble: Double { self } }

/// scl_slope / scl_inter: stored value `v` means `v * slope + intercept`.
public struct LinearScaling: Sendable, Equatable, Codable {
    public var slope: Double
    public var intercept: Double

    public init(slope: Double, intercept: Double) {
        self.slope = slope
        self.intercept = intercept
    }

    /// The header's scaling, or `nil` when it means none: a slope of 0 or a non-finite slope
    /// (the NIfTI standard), or exactly slope 1 and intercept 0.
    public init?(headerSlope slope: Double, intercept: Double) {
        guard slope != 0, slope.isFinite, !(slope == 1 && intercept == 0) else { return nil }
        self.init(slope: slope, intercept: intercept)
    }

    @inlinable
    public func apply(_ v: Double) -> Double { v * slope + intercept }
}

/// A label image as every stage after reading sees it, whatever file format it came from:
/// the world geometry (RAS, mm), the stored voxel values and their scaling. `ImageReaders.read`
/// makes one from a file.
public struct LabelImage: Sendable {
    /// The path the image was read from (or will be written to).
    public let path: String
    public let format: ImageFormat
    public let geometry: ImageGeometry
    public let geometrySource: GeometrySource
    public let voxels: VoxelArray
    public let scaling: LinearScaling?
    /// Named segments (3D Slicer's .seg.nrrd, DICOM-SEG, RTSTRUCT): each segment's name and label
    /// value; empty for formats that name none.
    public let segments: [Segment]

    /// A named structure of a segmentation file and the voxel value that marks it.
    public struct Segment: Sendable, Equatable {
        public var name: String
        public var labelValue: Int

        public init(name: String, labelValue: Int) {
            self.name = name
            self.labelValue = labelValue
        }
    }

    public init(path: String, format: ImageFormat, geometry: ImageGeometry, geometrySource: GeometrySource,
                voxels: VoxelArray, scaling: LinearScaling?, segments: [Segment] = []) {
        precondition(voxels.count == geometry.size.count, "LabelImage: voxel count does not match the grid")
        self.path = path
        self.format = format
        self.geometry = geometry
        self.geometrySource = geometrySource
        self.segments = segments
        self.voxels = voxels
        self.scaling = scaling
    }

    public var datatype: NIfTIDatatype { voxels.datatype }

    /// Every voxel's value after scaling, as doubles, in storage order.
    public func scaledValues() -> [Double] { voxels.mapScaled(scaling) { $0 } }

    /// The voxels whose scaled value is one of `labels`. Throws `.nonFiniteVoxels` when the file
    /// holds NaN or infinite values (a corrupt mask) and `.labelAbsent` when none of the labels
    /// occurs at all, listing the labels that do.
    public func mask(labels: Set<Int>) throws(ImageIOError) -> Mask {
        let wanted = labels.sorted()
        let inside: [Bool]
        if scaling == nil, case .uint8(let raw) = voxels {
            // The common case (label maps from segmentation tools): byte comparisons.
            inside = Self.bytes(of: raw, in: IndexBox(geometry.size), size: geometry.size, matching: Self.byteValues(wanted))
        } else {
            let targets = wanted.map(Double.init)
            var nonFinite = 0
            inside = voxels.mapScaled(scaling) { v in
                if !v.isFinite { nonFinite += 1 }
                return targets.contains(v)
            }
            if nonFinite > 0 { throw ImageIOError(path: path, problem: .nonFiniteVoxels(count: nonFinite)) }
        }
        guard inside.contains(true) else {
            throw ImageIOError(path: path, problem: .labelAbsent(label: wanted.first ?? 0,
                                                                 present: try labelCounts().keys.sorted()))
        }
        return Mask(geometry: geometry, voxels: inside)
    }

    public func mask(label: Int) throws(ImageIOError) -> Mask { try mask(labels: [label]) }

    /// What `croppedMasks` makes: the voxels whose scaled value is one of `labels`, on the
    /// bounding box of those voxels grown by `padVoxels` on every side (within the grid).
    public struct CropRequest: Sendable {
        public var labels: Set<Int>
        public var padVoxels: Int

        public init(labels: Set<Int>, padVoxels: Int) {
            self.labels = labels
            self.padVoxels = padVoxels
        }
    }

    /// One mask per request: the voxels `mask(labels:)` gives, on the sub-grid of their
    /// bounding box grown by the request's pad (same spacing and orientation, so every voxel
    /// keeps its world position), with the same errors. A label map of bytes is never made into
    /// a whole-grid mask: one pass finds every value's box and count (rows of zeros skipped 8
    /// bytes at a time, runs of equal bytes as one), then each crop is filled from its box.
    public func croppedMasks(_ requests: [CropRequest]) -> [Result<Mask, ImageIOError>] {
        guard scaling == nil, case .uint8(let raw) = voxels else {
            return requests.map { request in
                Result { () throws(ImageIOError) -> Mask in
                    let whole = try mask(labels: request.labels)
                    return whole.cropped(to: whole.boundingBox.expanded(by: SIMD3(repeating: request.padVoxels), within: geometry.size))
                }
            }
        }
        let size = geometry.size
        let found = ByteValueBoxes(raw, size: size)
        return requests.map { request in
            let wanted = Self.byteValues(request.labels.sorted())
            let box = wanted.reduce(IndexBox(lower: .zero, upper: .zero)) { $0.union(found.boxes[Int($1)]) }
            guard !box.isEmpty else {
                let present = found.counts.indices.filter { found.counts[$0] > 0 }
                return .failure(ImageIOError(path: path, problem: .labelAbsent(label: request.labels.min() ?? 0, present: present)))
            }
            let crop = box.expanded(by: SIMD3(repeating: request.padVoxels), within: size)
            return .success(Mask(geometry: geometry.subGrid(crop), voxels: Self.bytes(of: raw, in: crop, size: size, matching: wanted)))
        }
    }

    /// The labels that a byte can hold, as bytes.
    private static func byteValues(_ labels: [Int]) -> [UInt8] {
        labels.filter { (0...255).contains($0) }.map { UInt8($0) }
    }

    /// Whether each voxel of `box` (of a `size` grid of bytes) is one of `values`, in the box's
    /// storage order: 16 bytes compared at a time, rows shared among the cores.
    private static func bytes(of raw: [UInt8], in box: IndexBox, size: GridSize, matching values: [UInt8]) -> [Bool] {
        let sub = box.size
        return [Bool](unsafeUninitializedCapacity: sub.count) { out, initialized in
            let target = UnsafeMutableRawPointer(out.baseAddress!).assumingMemoryBound(to: UInt8.self)
            raw.withUnsafeBufferPointer { source in
                let source = source.baseAddress!
                concurrentChunks(sub.y * sub.z) { rows in
                    for r in rows {
                        let (j, k) = (box.lower.y + r % sub.y, box.lower.z + r / sub.y)
                        let from = source + size.linearIndex(box.lower.x, j, k)
                        let to = target + r * sub.x
                        var i = 0
                        while i + 16 <= sub.x {
                            let v = UnsafeRawPointer(from + i).loadUnaligned(as: SIMD16<UInt8>.self)
                            var hit = SIMDMask<SIMD16<Int8>>(repeating: false)
                            for b in values { hit .|= v .== SIMD16(repeating: b) }
                            UnsafeMutableRawPointer(to + i).storeBytes(
                                of: SIMD16<UInt8>(repeating: 0).replacing(with: 1, where: hit), as: SIMD16<UInt8>.self)
                            i += 16
                        }
                        while i < sub.x {
                            to[i] = values.contains(from[i]) ? 1 : 0
                            i += 1
                        }
                    }
                }
            }
            initialized = sub.count
        }
    }

    /// Voxel count per label value (0 included). Throws `.nonFiniteVoxels` for NaN or infinite
    /// values and `.notALabelMap` when some value is not an integer. The distinct stored values
    /// are counted first (a table for 8- and 16-bit types, runs of equal values otherwise, as
    /// label maps have long runs), and only those go through the scaling and the checks.
    public func labelCounts() throws(ImageIOError) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        var nonFinite = 0
        var nonIntegral = 0
        for (stored, count) in voxels.distinctValues() {
            let v = scaling.map { $0.apply(stored) } ?? stored
            if !v.isFinite {
                nonFinite += count
            } else if v == v.rounded(), abs(v) < 1e15 {
                counts[Int(v), default: 0] += count
            } else {
                nonIntegral += count
            }
        }
        if nonFinite > 0 { throw ImageIOError(path: path, problem: .nonFiniteVoxels(count: nonFinite)) }
        if nonIntegral > 0 { throw ImageIOError(path: path, problem: .notALabelMap(nonIntegerVoxels: nonIntegral)) }
        return counts
    }
}

extension VoxelArray {
    /// Each distinct stored value (as a double) with its voxel count, in no set order.
    func distinctValues() -> [(value: Double, count: Int)] {
        switch self {
        case .uint8(let a): return Self.table(a, offset: 0)
        case .int8(let a): return Self.table(a, offset: 128)
        case .uint16(let a): return Self.table(a, offset: 0)
        case .int16(let a): return Self.table(a, offset: 32768)
        case .int32(let a): return Self.runs(a) { UInt64(UInt32(bitPattern: $0)) }
        case .uint32(let a): return Self.runs(a) { UInt64($0) }
        case .int64(let a): return Self.runs(a) { UInt64(bitPattern: $0) }
        case .uint64(let a): return Self.runs(a) { $0 }
        // Floats by bit pattern, so that every NaN is counted (NaN never equals itself).
        case .float32(let a): return Self.runs(a) { UInt64($0.bitPattern) }
        case .float64(let a): return Self.runs(a) { $0.bitPattern }
        }
    }

    /// Counts in a table with one entry per value of an 8- or 16-bit type, `offset` added.
    private static func table<T: FixedWidthInteger>(_ a: [T], offset: Int) -> [(value: Double, count: Int)] {
        var counts = [Int](repeating: 0, count: 1 << T.bitWidth)
        counts.withUnsafeMutableBufferPointer { counts in
            for v in a { counts[Int(v) &+ offset] &+= 1 }
        }
        return counts.indices.filter { counts[$0] > 0 }.map { (Double($0 - offset), counts[$0]) }
    }

    private static func runs<T: StoredVoxel>(_ a: [T], _ key: (T) -> UInt64) -> [(value: Double, count: Int)] {
        var counts: [UInt64: (value: Double, count: Int)] = [:]
        var i = 0
        while i < a.count {
            let k = key(a[i])
            var j = i + 1
            while j < a.count, key(a[j]) == k { j += 1 }
            counts[k, default: (a[i].asDouble, 0)].count += j - i
            i = j
        }
        return Array(counts.values)
    }
}

extension LabelImage {
    /// One mask per distinct label value in `labels` (a protocol may number tumours 2, 3, ...
    /// instead of separating them by connectivity), in ascending label order; labels absent
    /// from the image are skipped.
    public func masks(byLabel labels: [Int]) throws(ImageIOError) -> [(label: Int, mask: Mask)] {
        let present = try labelCounts()
        var result: [(label: Int, mask: Mask)] = []
        for label in labels.sorted() where present[label, default: 0] > 0 {
            result.append((label, try mask(label: label)))
        }
        return result
    }
}

/// Each byte value's voxel count and bounding box in a grid of bytes, found in one pass.
struct ByteValueBoxes {
    /// Indexed by value.
    var counts = [Int](repeating: 0, count: 256)
    var boxes = [IndexBox](repeating: IndexBox(lower: .zero, upper: .zero), count: 256)

    init(_ raw: [UInt8], size: GridSize) {
        // Slabs of slices side by side, each with its own tallies, merged in order.
        let slabs = min(size.z, 64)
        let tallies = concurrentMap(Array(0..<slabs)) { slab -> (counts: [Int], lower: [SIMD3<Int>], upper: [SIMD3<Int>]) in
            var counts = [Int](repeating: 0, count: 256)
            var lower = [SIMD3<Int>](repeating: SIMD3(repeating: .max), count: 256)
            var upper = [SIMD3<Int>](repeating: SIMD3(repeating: .min), count: 256)
            raw.withUnsafeBufferPointer { source in
                for k in (size.z * slab / slabs)..<(size.z * (slab + 1) / slabs) {
                    for j in 0..<size.y {
                        let row = source.baseAddress! + size.linearIndex(0, j, k)
                        if Self.allZero(row, size.x) {
                            counts[0] += size.x
                            lower[0] = pointwiseMin(lower[0], SIMD3(0, j, k))
                            upper[0] = pointwiseMax(upper[0], SIMD3(size.x, j + 1, k + 1))
                            continue
                        }
                        var i = 0
                        while i < size.x {
                            let v = row[i]
                            var end = i + 1
                            while end < size.x && row[end] == v { end += 1 }
                            let n = Int(v)
                            counts[n] += end - i
                            lower[n] = pointwiseMin(lower[n], SIMD3(i, j, k))
                            upper[n] = pointwiseMax(upper[n], SIMD3(end, j + 1, k + 1))
                            i = end
                        }
                    }
                }
            }
            return (counts, lower, upper)
        }
        for tally in tallies {
            for n in 0..<256 where tally.counts[n] > 0 {
                counts[n] += tally.counts[n]
                boxes[n] = boxes[n].union(IndexBox(lower: tally.lower[n], upper: tally.upper[n]))
            }
        }
    }

    private static func allZero(_ row: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let raw = UnsafeRawPointer(row)
        var any: UInt64 = 0
        var i = 0
        while i + 8 <= count {
            any |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < count {
            any |= UInt64(row[i])
            i += 1
        }
        return any == 0
    }
}
