/// The header's bytes read and checked in Swift before libnifti sees them: a NIfTI-1 or
/// NIfTI-2 header or nothing, and every field that libnifti would trust to size its arrays or
/// that it would print its own complaint about (dimensions, datatype, voxel offset). libnifti is
/// only ever handed the bytes of a header that passed, never the file, so that a crafted file
/// cannot reach its parser with values it does not guard (a NIfTI-2 dim[0] above 7 overruns a
/// fixed array there) and cannot make it read extensions.
struct HeaderSniff {
    let isGzip: Bool
    /// From sizeof_hdr (libnifti reports NIfTI-2 files as nifti_type 1 in some versions).
    let format: ImageFormat
    /// pixdim[0...7] as stored (libnifti replaces zero or non-finite spacings by 1, which would
    /// hide a corrupt header).
    let pixdim: [Double]
    /// dim[1...dim[0]].
    let shape: [Int]
    /// The grid's extent along its seven axes (1 beyond dim[0]).
    var extent: [Int] { shape + Array(repeating: 1, count: 7 - shape.count) }
    let datatype: NIfTIDatatype
    /// Byte offset of the first voxel.
    let voxelOffset: Int
    /// The header's bytes as stored (348 or 540).
    let bytes: [UInt8]

    /// Largest voxel offset accepted (1 GiB of header extensions is far beyond any writer).
    static let maxVoxelOffset = 1 << 30

    init(path: String, maxVoxels: Int) throws(ImageIOError) {
        func fail(_ problem: ImageIOError.Problem) -> ImageIOError { ImageIOError(path: path, problem: problem) }
        let file = try GzipFile(path: path)
        var bytes = [UInt8](repeating: 0, count: 540)
        let got = try narrowingErrors { try bytes.withUnsafeMutableBytes { try file.read(into: $0) } }
        isGzip = file.isCompressed
        let header = Array(bytes[0..<got])

        func uint32(_ offset: Int, swapped: Bool) -> UInt32 {
            let v = header[offset..<offset + 4].enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
            return swapped ? v.byteSwapped : v
        }
        func magic(_ offset: Int, _ text: [UInt8]) -> Bool {
            header.count >= offset + text.count && Array(header[offset..<offset + text.count]) == text
        }
        guard header.count >= 4 else { throw fail(.notNIfTI) }
        let swapped: Bool
        let version: Int
        if uint32(0, swapped: false) == 348 || uint32(0, swapped: true) == 348 {
            swapped = uint32(0, swapped: false) != 348
            version = 1
            guard magic(344, Array("n+1\0".utf8)) else { throw fail(.notNIfTI) }
        } else if uint32(0, swapped: false) == 540 || uint32(0, swapped: true) == 540 {
            swapped = uint32(0, swapped: false) != 540
            version = 2
            guard magic(4, Array("n+2\0".utf8)) else { throw fail(.notNIfTI) }
        } else {
            throw fail(.notNIfTI)
        }
        format = version == 1 ? .nifti1 : .nifti2
        guard header.count >= (version == 1 ? 348 : 540) else {
            throw fail(.invalidHeader(reason: "the file ends inside the header"))
        }
        self.bytes = Array(header.prefix(version == 1 ? 348 : 540))
        func uint64(_ offset: Int) -> UInt64 {
            let v = UInt64(uint32(offset, swapped: false)) | UInt64(uint32(offset + 4, swapped: false)) << 32
            return swapped ? v.byteSwapped : v
        }
        func int16(_ offset: Int) -> Int {
            let v = UInt16(header[offset]) | UInt16(header[offset + 1]) << 8
            return Int(Int16(bitPattern: swapped ? v.byteSwapped : v))
        }
        // pixdim[0...7]: float32 at byte 76 (NIfTI-1) or float64 at byte 104 (NIfTI-2).
        pixdim = (0..<8).map { i in
            version == 1
                ? Double(Float(bitPattern: uint32(76 + 4 * i, swapped: swapped)))
                : Double(bitPattern: uint64(104 + 8 * i))
        }

        // dim[0...7]: int16 at byte 40 (NIfTI-1) or int64 at byte 16 (NIfTI-2).
        let dims: [Int] = (0..<8).map { i in
            version == 1 ? int16(40 + 2 * i) : Int(Int64(bitPattern: uint64(16 + 8 * i)))
        }
        let ndim = dims[0]
        guard (1...7).contains(ndim) else {
            throw fail(.invalidHeader(reason: "dim[0] is \(ndim); it must be 1 to 7"))
        }
        if let bad = (1...ndim).first(where: { dims[$0] < 1 }) {
            throw fail(.invalidHeader(reason: "dim[\(bad)] is \(dims[bad]); extents must be at least 1"))
        }
        shape = Array(dims[1...ndim])
        var total = 1
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= maxVoxels else {
                let shape = dims[1...ndim].map(String.init).joined(separator: " x ")
                throw fail(.tooLarge(voxels: shape, limit: maxVoxels))
            }
            total = product
        }

        // datatype: int16 at byte 70 (NIfTI-1) or 12 (NIfTI-2).
        let code = int16(version == 1 ? 70 : 12)
        guard let datatype = NIfTIDatatype(rawValue: code) else { throw fail(.unsupportedDatatype(code: code)) }
        self.datatype = datatype

        // vox_offset: float32 at byte 108 (NIfTI-1) or int64 at byte 168 (NIfTI-2). A single
        // file's voxels start after the header and the 4-byte extension flag (352 or 544 bytes).
        let smallest = version == 1 ? 352 : 544
        let offset: Double = version == 1
            ? Double(Float(bitPattern: uint32(108, swapped: swapped)))
            : Double(Int64(bitPattern: uint64(168)))
        guard offset.isFinite, offset == offset.rounded(), offset >= Double(smallest),
              offset <= Double(Self.maxVoxelOffset) else {
            throw fail(.invalidHeader(reason: "vox_offset \(version == 1 ? "\(offset)" : "\(Int64(bitPattern: uint64(168)))") "
                + "is not a whole number of bytes from \(smallest) to \(Self.maxVoxelOffset)"))
        }
        voxelOffset = Int(offset)
    }
}
