import Foundation
import MAMCore

/// Reads MetaImage files (ITK's MetaIO, as SimpleITK and 3D Slicer write them): `.mha` with
/// the data after the header (`ElementDataFile = LOCAL`), or a `.mhd` header naming a `.raw` or
/// `.zraw` file; raw or zlib-compressed (`CompressedData = True`), either byte order. The grid
/// is placed by `TransformMatrix` (the direction of each voxel axis in turn), `ElementSpacing`
/// and `Offset`, in ITK's LPS world, turned into RAS; `AnatomicalOrientation` only restates the
/// matrix and is not read. Refused with one line: more than one channel or volume, data in
/// several files, a grid beyond `maxVoxels`. See Docs/inputs.md.
public struct MetaImageReader: Sendable {
    public var maxVoxels: Int

    public init(maxVoxels: Int = 1 << 28) {
        self.maxVoxels = maxVoxels
    }

    struct Header {
        var size: GridSize
        var geometry: ImageGeometry
        var datatype: NIfTIDatatype
        var bigEndian: Bool
        var compressed: Bool
        var compressedSize: Int?
        var dataPath: String
        var dataOffset: Int
        /// `HeaderSize` of a detached data file: bytes to skip (-1: the data end the file).
        var headerSize: Int
    }

    public func read(_ path: String) throws(ImageIOError) -> LabelImage {
        let header = try readHeader(path)
        return LabelImage(path: path, format: .metaImage, geometry: header.geometry, geometrySource: .transformMatrix,
                          voxels: try readVoxels(header), scaling: nil)
    }

    func fail(_ path: String, _ reason: String) -> ImageIOError {
        ImageIOError(path: path, problem: .badFormatHeader(format: .metaImage, reason: reason))
    }

    func readHeader(_ path: String) throws(ImageIOError) -> Header {
        try ImageReaders.checkFile(path)
        let bytes = try ImageReaders.contents(path)
        // "Key = Value" lines; ElementDataFile is the last, and LOCAL data start after it.
        var keys: [String: String] = [:]
        var dataOffset = -1
        bytes.withUnsafeBytes { raw in
            var start = 0, n = 0
            let limit = min(raw.count, 1 << 20)
            while n < limit {
                if raw[n] == 0x0A {
                    let line = String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<n]), as: UTF8.self)
                        .trimmingCharacters(in: .whitespacesAndNewlines)
                    start = n + 1
                    if let equals = line.firstIndex(of: "=") {
                        let key = line[..<equals].trimmingCharacters(in: .whitespaces)
                        keys[key] = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
                        if key == "ElementDataFile" {
                            dataOffset = start
                            return
                        }
                    }
                }
                n += 1
            }
        }
        guard keys["ObjectType"].map({ $0 == "Image" }) ?? true, keys["NDims"] != nil || keys["ObjectType"] != nil else {
            throw fail(path, "not a MetaImage header (no 'ObjectType = Image' or 'NDims')")
        }
        guard let dataFile = keys["ElementDataFile"], dataOffset >= 0 else { throw fail(path, "no ElementDataFile line") }
        func numbers(_ key: String, _ count: Int, default value: [Double]? = nil) throws(ImageIOError) -> [Double] {
            guard let text = keys[key] else {
                if let value { return value }
                throw fail(path, "no \(key)")
            }
            let parsed = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { Double($0) }
            guard parsed.count == count, parsed.allSatisfy({ $0?.isFinite == true }) else {
                throw fail(path, "\(key) '\(text)' is not \(count) numbers")
            }
            return parsed.map { $0! }
        }
        let dims = try numbers("NDims", 1)[0]
        // Checked before it counts anything (a huge or fractional NDims must not trap).
        guard dims == 3 || dims == 4 else { throw fail(path, "NDims '\(keys["NDims"]!)': 3 (or 4, of one volume) is needed") }
        let sizes = try numbers("DimSize", Int(dims)).map { Int(exactly: $0) }
        // A 4th dimension of size 1 is one volume.
        guard dims == 3 || dims == 4 && sizes[3] == 1, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw fail(path, "NDims \(Int(dims)) and DimSize '\(keys["DimSize"]!)': one 3-D volume is needed")
        }
        guard Int(keys["ElementNumberOfChannels"] ?? "1") == 1 else {
            throw fail(path, "ElementNumberOfChannels \(keys["ElementNumberOfChannels"]!): one value per voxel is needed")
        }
        let size = GridSize(sizes[0]!, sizes[1]!, sizes[2]!)
        guard ImageReaders.voxelCount(size, limit: maxVoxels) != nil else {
            throw ImageIOError(path: path, problem: .tooLarge(voxels: "\(size.x) x \(size.y) x \(size.z)", limit: maxVoxels))
        }
        let datatype: NIfTIDatatype
        switch keys["ElementType"] ?? "" {
        case "MET_UCHAR": datatype = .uint8
        case "MET_CHAR": datatype = .int8
        case "MET_SHORT": datatype = .int16
        case "MET_USHORT": datatype = .uint16
        case "MET_INT", "MET_LONG": datatype = .int32
        case "MET_UINT", "MET_ULONG": datatype = .uint32
        case "MET_LONG_LONG": datatype = .int64
        case "MET_ULONG_LONG": datatype = .uint64
        case "MET_FLOAT": datatype = .float32
        case "MET_DOUBLE": datatype = .float64
        case let other: throw fail(path, "ElementType '\(other)' is not supported (MET_UCHAR to MET_ULONG_LONG, MET_FLOAT, MET_DOUBLE)")
        }
        let first = { (names: [String]) in names.first { keys[$0] != nil } ?? names[0] }
        let spacing = try numbers(first(["ElementSpacing", "ElementSize"]), Int(dims), default: Array(repeating: 1, count: Int(dims)))
        let offset = try numbers(first(["Offset", "Position", "Origin"]), Int(dims), default: Array(repeating: 0, count: Int(dims)))
        let identity: [Double] = dims == 3 ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
        let matrix = try numbers(first(["TransformMatrix", "Rotation", "Orientation"]), Int(dims * dims), default: identity)
        let d = Int(dims)
        func axis(_ i: Int) -> SIMD3<Double> { SIMD3(matrix[i * d], matrix[i * d + 1], matrix[i * d + 2]) * spacing[i] }
        // LPS to RAS: negate x and y.
        let flip = SIMD3<Double>(-1, -1, 1)
        let affine = Affine3D(linear: Matrix3(columns: axis(0) * flip, axis(1) * flip, axis(2) * flip),
                              translation: SIMD3(offset[0], offset[1], offset[2]) * flip)
        guard spacing.allSatisfy({ $0 > 0 }), ImageGeometry.isUsable(affine) else {
            throw ImageIOError(path: path, problem: .singularAffine(source: .transformMatrix))
        }
        if let reason = ImageGeometry.implausibility(size: size, indexToWorld: affine) {
            throw ImageIOError(path: path, problem: .implausibleGeometry(source: .transformMatrix, reason: reason))
        }
        let msb = (keys["BinaryDataByteOrderMSB"] ?? keys["ElementByteOrderMSB"] ?? "False").lowercased() == "true"
        let compressed = (keys["CompressedData"] ?? "False").lowercased() == "true"
        guard (keys["BinaryData"] ?? "True").lowercased() == "true" else { throw fail(path, "BinaryData False (text voxels) is not supported") }
        var dataPath = path
        if dataFile != "LOCAL" {
            dataPath = try RawVoxels.dataFile(dataFile, header: path, format: .metaImage)
            dataOffset = 0
        }
        guard let headerSize = Int(keys["HeaderSize"] ?? "0"), headerSize >= -1 else { throw fail(path, "HeaderSize '\(keys["HeaderSize"]!)'") }
        let compressedSize = keys["CompressedDataSize"].flatMap { Int($0) }
        return Header(size: size, geometry: ImageGeometry(size: size, indexToWorld: affine), datatype: datatype, bigEndian: msb,
                      compressed: compressed, compressedSize: compressedSize, dataPath: dataPath, dataOffset: dataOffset,
                      headerSize: dataFile == "LOCAL" ? 0 : headerSize)
    }

    func readVoxels(_ header: Header) throws(ImageIOError) -> VoxelArray {
        let count = header.size.count, expected = count * header.datatype.bytesPerVoxel
        let file = try ImageReaders.contents(header.dataPath)
        let path = header.dataPath
        return try ImageReaders.withBytes(file) { (all) throws(ImageIOError) -> VoxelArray in
            var data = UnsafeRawBufferPointer(rebasing: all[min(header.dataOffset, all.count)...])
            if header.compressed {
                if let size = header.compressedSize, size < data.count { data = UnsafeRawBufferPointer(rebasing: data.prefix(size)) }
                let inflated = try RawVoxels.inflate(data, .zlib, expectedBytes: expected, path: path)
                return inflated.withUnsafeBytes { RawVoxels.decode($0, header.datatype, count: count, bigEndian: header.bigEndian) }
            }
            let block = try RawVoxels.rawBlock(data, skip: header.headerSize, expected: expected, path: path)
            return RawVoxels.decode(block, header.datatype, count: count, bigEndian: header.bigEndian)
        }
    }
}
