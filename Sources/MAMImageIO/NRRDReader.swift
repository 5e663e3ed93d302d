import Foundation
import MAMCore

/// Reads NRRD files (teem's format, as 3D Slicer, ITK and pynrrd write it): `.nrrd` with the
/// data attached, or a `.nhdr` header with its `data file`; raw, gzip or ascii encoding, either
/// byte order; one 3-D scalar volume placed by `space`, `space directions` and `space origin`
/// (RAS, LAS or LPS; turned into RAS). A 4-D file with one non-spatial axis of size 1 (a 3D
/// Slicer segmentation of one layer) is that volume; its `Segment{N}_Name` and
/// `Segment{N}_LabelValue` keys name the structures. A Slicer segmentation of several layers
/// (overlapping segments, uint8, the layers as the first axis) is flattened into one label map
/// (`flatten`). Refused with one line: a non-anatomical or absent space (the voxels could not be
/// placed on the patient), other non-spatial axes, bzip2 or hex encoding, several data files, a
/// grid beyond `maxVoxels`. See Docs/inputs.md.
public struct NRRDReader: Sendable {
    public var maxVoxels: Int

    public init(maxVoxels: Int = 1 << 28) {
        self.maxVoxels = maxVoxels
    }

    /// The header, checked: everything but the voxels.
    struct Header {
        var size: GridSize
        var geometry: ImageGeometry
        var datatype: NIfTIDatatype
        var encoding: String
        var bigEndian: Bool
        /// The file holding the data (the header's own file when attached) and where they start.
        var dataPath: String
        var dataOffset: Int
        var byteSkip: Int
        var lineSkip: Int
        var segments: [LabelImage.Segment]
        /// Layers of a Slicer segmentation with overlapping segments (the first axis), 1 else;
        /// and each segment's layer.
        var layers = 1
        var segmentLayers: [Int] = []
    }

    public func read(_ path: String) throws(ImageIOError) -> LabelImage {
        let header = try readHeader(path)
        var voxels = try readVoxels(header, path: path)
        var segments = header.segments
        if header.layers > 1 { (voxels, segments) = Self.flatten(voxels, header) }
        return LabelImage(path: path, format: .nrrd, geometry: header.geometry, geometrySource: .spaceDirections,
                          voxels: voxels, scaling: nil, segments: segments)
    }

    /// A layered segmentation as one label map: segment k (in the file's order) becomes label
    /// k + 1, and where segments overlap the voxel goes to the one with fewer voxels, the more
    /// specific structure (a tumour drawn over its liver keeps its voxels; the liver mask, which
    /// counts tumour voxels as liver, loses nothing).
    static func flatten(_ voxels: VoxelArray, _ header: Header) -> (VoxelArray, [LabelImage.Segment]) {
        guard case .uint8(let stored) = voxels else { preconditionFailure("layered segmentations are read as uint8") }
        let layers = header.layers, count = header.size.count, segments = header.segments
        // The segment of each (layer, value); -1 for none.
        var index = [Int](repeating: -1, count: layers * 256)
        for (k, s) in segments.enumerated() where (0..<layers).contains(header.segmentLayers[k]) && (1...255).contains(s.labelValue) {
            index[header.segmentLayers[k] * 256 + s.labelValue] = k
        }
        var sizes = [Int](repeating: 0, count: segments.count)
        for n in 0..<count {
            for l in 0..<layers {
                let k = index[l * 256 + Int(stored[n * layers + l])]
                if k >= 0 { sizes[k] += 1 }
            }
        }
        var flat = [UInt16](repeating: 0, count: count)
        for n in 0..<count {
            var best = -1
            for l in 0..<layers {
                let k = index[l * 256 + Int(stored[n * layers + l])]
                if k >= 0, best < 0 || sizes[k] < sizes[best] || sizes[k] == sizes[best] && k < best { best = k }
            }
            flat[n] = UInt16(best + 1)
        }
        let renamed = segments.enumerated().map { LabelImage.Segment(name: $0.element.name, labelValue: $0.offset + 1) }
        return (segments.count < 256 ? .uint8(flat.map { UInt8($0) }) : .uint16(flat), renamed)
    }

    func fail(_ path: String, _ reason: String) -> ImageIOError {
        ImageIOError(path: path, problem: .badFormatHeader(format: .nrrd, reason: reason))
    }

    func readHeader(_ path: String) throws(ImageIOError) -> Header {
        try ImageReaders.checkFile(path)
        let bytes = try ImageReaders.contents(path)
        // The header is text up to the first empty line (or the end of a detached header).
        let limit = min(bytes.count, 1 << 20)
        let (lines, headerEnd) = bytes.withUnsafeBytes { raw -> ([String], Int) in
            var lines: [String] = [], start = 0, n = 0
            while n < limit {
                if raw[n] == 0x0A {
                    var line = String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<n]), as: UTF8.self)
                    if line.hasSuffix("\r") { line.removeLast() }
                    start = n + 1
                    if line.isEmpty { return (lines, start) }
                    lines.append(line)
                }
                n += 1
            }
            if start < limit { lines.append(String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<limit]), as: UTF8.self)) }
            return (lines, bytes.count)
        }
        guard let magic = lines.first, magic.hasPrefix("NRRD000"), magic.count == 8, let version = Int(magic.suffix(1)), (1...5).contains(version) else {
            throw fail(path, "the file does not start with NRRD0001 to NRRD0005")
        }
        var fields: [String: String] = [:], pairs: [String: String] = [:]
        for line in lines.dropFirst() where !line.hasPrefix("#") {
            if let range = line.range(of: ":=") {
                pairs[String(line[..<range.lowerBound])] = String(line[range.upperBound...])
            } else if let range = line.range(of: ": ") {
                fields[line[..<range.lowerBound].lowercased()] = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
            } else {
                let shown = String(line.prefix(40).map { $0.isASCII && ($0.isLetter || $0.isNumber || $0.isPunctuation || $0.isSymbol || $0 == " ") ? $0 : "?" })
                throw fail(path, "line '\(shown)' is neither a field ('name: value') nor a key ('key:=value'); is the empty line before the data missing?")
            }
        }
        func field(_ name: String) throws(ImageIOError) -> String {
            guard let value = fields[name] else { throw fail(path, "no '\(name)' field") }
            return value
        }

        guard let dimension = Int(try field("dimension")), (3...4).contains(dimension) else {
            throw fail(path, "dimension \(fields["dimension"]!): one 3-D volume is needed (3, or 4 with one layer)")
        }
        let sizes = try field("sizes").split(separator: " ").map { Int($0) }
        guard sizes.count == dimension, sizes.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw fail(path, "sizes '\(fields["sizes"]!)' are not \(dimension) positive integers")
        }
        let datatype = try Self.datatype(try field("type"), path: path, fail: fail)

        // Which axes are spatial: those with a direction; the others must be a single layer.
        guard let spaceName = fields["space"] else {
            throw fail(path, fields["space dimension"] != nil
                ? "'space dimension' without 'space': the voxels cannot be placed on the patient (RAS, LAS or LPS needed)"
                : "no 'space' field: the voxels cannot be placed on the patient (give space, space directions and space origin)")
        }
        guard let flip = Self.toRAS[spaceName.lowercased()] else {
            throw fail(path, "space '\(spaceName)' is not anatomical (supported: right-anterior-superior, left-anterior-superior, left-posterior-superior)")
        }
        let directions = try Self.vectors(try field("space directions"), count: dimension, path: path, fail: fail)
        let spatial = directions.indices.filter { directions[$0] != nil }
        guard spatial.count == 3 else { throw fail(path, "\(spatial.count) axes have space directions; 3 are needed") }
        // A non-spatial axis: one layer, or the first axis of a layered Slicer segmentation.
        var layers = 1
        for axis in directions.indices where directions[axis] == nil && sizes[axis]! != 1 {
            guard axis == 0, pairs["Segment0_Name"] != nil else {
                throw fail(path, "a non-spatial axis of size \(sizes[axis]!): one 3-D volume is needed (or a segmentation's layers as the first axis)")
            }
            guard datatype == .uint8 else { throw fail(path, "a layered segmentation of type \(datatype): uint8 is supported") }
            layers = sizes[axis]!
        }
        let size = GridSize(sizes[spatial[0]]!, sizes[spatial[1]]!, sizes[spatial[2]]!)
        guard let total = ImageReaders.voxelCount(size, limit: maxVoxels), case let (all, overflow) = total.multipliedReportingOverflow(by: layers),
              !overflow, all <= maxVoxels else {
            throw ImageIOError(path: path, problem: .tooLarge(voxels: (layers > 1 ? "\(layers) x " : "") + "\(size.x) x \(size.y) x \(size.z)", limit: maxVoxels))
        }
        let originVector = try fields["space origin"].map { (text) throws(ImageIOError) in
            try Self.vectors(text, count: 1, path: path, fail: fail)[0]
        } ?? SIMD3<Double>.zero
        guard let origin = originVector else { throw fail(path, "space origin is 'none'") }
        let linear = Matrix3(columns: directions[spatial[0]]! * flip, directions[spatial[1]]! * flip, directions[spatial[2]]! * flip)
        let affine = Affine3D(linear: linear, translation: origin * flip)
        guard ImageGeometry.isUsable(affine) else {
            throw ImageIOError(path: path, problem: .singularAffine(source: .spaceDirections))
        }
        if let reason = ImageGeometry.implausibility(size: size, indexToWorld: affine) {
            throw ImageIOError(path: path, problem: .implausibleGeometry(source: .spaceDirections, reason: reason))
        }
        if let units = fields["space units"], !units.split(separator: " ").allSatisfy({ $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) == "mm" }) {
            throw fail(path, "space units '\(units)': millimetres are needed")
        }

        let encoding = try field("encoding").lowercased()
        guard ["raw", "gzip", "gz", "ascii", "text", "txt"].contains(encoding) else {
            throw fail(path, "encoding '\(encoding)' is not supported (raw, gzip and ascii are)")
        }
        var bigEndian = false
        if datatype.bytesPerVoxel > 1, !["ascii", "text", "txt"].contains(encoding) {
            switch try field("endian").lowercased() {
            case "little": bigEndian = false
            case "big": bigEndian = true
            case let other: throw fail(path, "endian '\(other)' (little or big)")
            }
        }
        var dataPath = path, dataOffset = headerEnd
        if let file = fields["data file"] ?? fields["datafile"] {
            dataPath = try RawVoxels.dataFile(file, header: path, format: .nrrd)
            dataOffset = 0
        } else if headerEnd >= bytes.count, total > 0 {
            throw ImageIOError(path: path, problem: .dataTruncated(expectedBytes: total * datatype.bytesPerVoxel, availableBytes: 0))
        }
        guard let byteSkip = Int(fields["byte skip"] ?? "0"), byteSkip >= -1, let lineSkip = Int(fields["line skip"] ?? "0"), lineSkip >= 0 else {
            throw fail(path, "byte skip or line skip is not a valid count")
        }
        var segments: [LabelImage.Segment] = [], segmentLayers: [Int] = []
        for n in 0..<pairs.count {
            guard let name = pairs["Segment\(n)_Name"] else { break }
            guard let value = pairs["Segment\(n)_LabelValue"].flatMap({ Int($0) }) ?? (pairs["Segment\(n)_LabelValue"] == nil ? n + 1 : nil) else {
                throw fail(path, "Segment\(n)_LabelValue '\(pairs["Segment\(n)_LabelValue"]!)' is not an integer")
            }
            guard let layer = Int(pairs["Segment\(n)_Layer"] ?? "0"), (0..<layers).contains(layer) else {
                throw fail(path, "Segment\(n)_Layer '\(pairs["Segment\(n)_Layer"]!)' is not one of the \(layers) layers")
            }
            segments.append(.init(name: name, labelValue: value))
            segmentLayers.append(layer)
        }
        var header = Header(size: size, geometry: ImageGeometry(size: size, indexToWorld: affine), datatype: datatype, encoding: encoding,
                            bigEndian: bigEndian, dataPath: dataPath, dataOffset: dataOffset, byteSkip: byteSkip, lineSkip: lineSkip,
                            segments: segments)
        (header.layers, header.segmentLayers) = (layers, segmentLayers)
        return header
    }

    func readVoxels(_ header: Header, path: String) throws(ImageIOError) -> VoxelArray {
        let count = header.size.count * header.layers, expected = count * header.datatype.bytesPerVoxel
        let file = try ImageReaders.contents(header.dataPath)
        let dataPath = header.dataPath
        return try ImageReaders.withBytes(file) { (all) throws(ImageIOError) -> VoxelArray in
            var start = header.dataOffset
            for _ in 0..<header.lineSkip {
                guard let newline = all[start...].firstIndex(of: 0x0A) else {
                    throw ImageIOError(path: dataPath, problem: .badData(reason: "fewer lines than the header's line skip"))
                }
                start = newline + 1
            }
            let data = UnsafeRawBufferPointer(rebasing: all[start...])
            switch header.encoding {
            case "raw":
                let block = try RawVoxels.rawBlock(data, skip: header.byteSkip, expected: expected, path: dataPath)
                return RawVoxels.decode(block, header.datatype, count: count, bigEndian: header.bigEndian)
            case "gzip", "gz":
                guard header.byteSkip >= 0 else { throw fail(path, "byte skip -1 needs raw encoding") }
                let inflated = try RawVoxels.inflate(data, .gzip, expectedBytes: header.byteSkip + expected, path: dataPath)
                return inflated.withUnsafeBytes {
                    RawVoxels.decode(UnsafeRawBufferPointer(rebasing: $0[header.byteSkip...]), header.datatype, count: count, bigEndian: header.bigEndian)
                }
            default:  // ascii
                let text = String(decoding: data, as: UTF8.self)
                return try RawVoxels.decodeText(Substring(text), header.datatype, count: count, path: dataPath)
            }
        }
    }

    /// NRRD's names of the types (every spelling the format allows).
    static func datatype(_ name: String, path: String, fail: (String, String) -> ImageIOError) throws(ImageIOError) -> NIfTIDatatype {
        switch name.lowercased() {
        case "uchar", "unsigned char", "uint8", "uint8_t": return .uint8
        case "signed char", "int8", "int8_t": return .int8
        case "short", "short int", "signed short", "signed short int", "int16", "int16_t": return .int16
        case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t": return .uint16
        case "int", "signed int", "int32", "int32_t": return .int32
        case "uint", "unsigned int", "uint32", "uint32_t": return .uint32
        case "longlong", "long long", "long long int", "signed long long", "signed long long int", "int64", "int64_t": return .int64
        case "ulonglong", "unsigned long long", "unsigned long long int", "uint64", "uint64_t": return .uint64
        case "float": return .float32
        case "double": return .float64
        default: throw fail(path, "type '\(name)' is not supported (integers of 8 to 64 bits, float, double)")
        }
    }

    /// The sign flips taking a space's coordinates to RAS.
    static let toRAS: [String: SIMD3<Double>] = [
        "right-anterior-superior": SIMD3(1, 1, 1), "ras": SIMD3(1, 1, 1),
        "left-anterior-superior": SIMD3(-1, 1, 1), "las": SIMD3(-1, 1, 1),
        "left-posterior-superior": SIMD3(-1, -1, 1), "lps": SIMD3(-1, -1, 1),
    ]

    /// `count` vectors written `(x,y,z)` or `none`, separated by spaces.
    static func vectors(_ text: String, count: Int, path: String, fail: (String, String) -> ImageIOError) throws(ImageIOError) -> [SIMD3<Double>?] {
        var result: [SIMD3<Double>?] = []
        var rest = Substring(text)
        while let first = rest.first(where: { $0 != " " }) {
            rest = rest.drop { $0 == " " }
            if first == "(" {
                guard let close = rest.firstIndex(of: ")") else { throw fail(path, "'\(text)': a vector without ')'") }
                let numbers = rest[rest.index(after: rest.startIndex)..<close].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard numbers.count == 3, let x = numbers[0], let y = numbers[1], let z = numbers[2], x.isFinite, y.isFinite, z.isFinite else {
                    throw fail(path, "'\(text)': vectors of 3 finite numbers are needed")
                }
                result.append(SIMD3(x, y, z))
                rest = rest[rest.index(after: close)...]
            } else if rest.hasPrefix("none") {
                result.append(nil)
                rest = rest.dropFirst(4)
            } else {
                throw fail(path, "'\(text)': expected (x,y,z) or none")
            }
        }
        guard result.count == count else { throw fail(path, "'\(text)': \(result.count) vectors for \(count) axes") }
        return result
    }
}
