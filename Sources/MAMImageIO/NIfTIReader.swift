public import MAMCore
import Foundation
internal import _CNIfTI

/// Reads `.nii` and `.nii.gz` files (NIfTI-1 and NIfTI-2) into `LabelImage`s.
///
/// libnifti parses and checks the header (both versions, either byte order); the voxel bytes are
/// then read with zlib straight into the image's array, and a gzip stream is read to its end so
/// that its checksum is verified. Every failure is an `ImageIOError` naming the file; nothing is
/// allocated for voxels before the grid passed the size bound.
public struct NIfTIReader: Sendable {
    /// Largest grid accepted, in voxels. The default (2^28, 268 million voxels, e.g.
    /// 512 x 512 x 1024) holds any diagnostic CT volume and keeps a case's memory bounded
    /// (Docs/limits.md); a small file claiming a bigger grid is refused before allocating.
    public var maxVoxels: Int

    public init(maxVoxels: Int = 1 << 28) {
        self.maxVoxels = maxVoxels
        LibNIfTI.configure()
    }

    /// Reads the whole file.
    public func read(_ path: String) throws(ImageIOError) -> LabelImage {
        let header = try readHeader(path)
        let voxels = try Self.readVoxels(path: path, header: header)
        return LabelImage(path: path, format: header.format, geometry: header.geometry,
                          geometrySource: header.geometrySource, voxels: voxels, scaling: header.scaling)
    }

    /// Reads and checks the header only: geometry, datatype and scaling, no voxels.
    public func readHeader(_ path: String) throws(ImageIOError) -> NIfTIHeader {
        func fail(_ problem: ImageIOError.Problem) -> ImageIOError { ImageIOError(path: path, problem: problem) }

        try ImageReaders.checkFile(path)
        // Everything libnifti would size arrays by or complain about is checked here first.
        let sniffed = try HeaderSniff(path: path, maxVoxels: maxVoxels)
        let extent = sniffed.extent
        let volumes = extent[3...].reduce(1, *)  // cannot overflow: the product of all is checked
        guard volumes == 1 else { throw fail(.multipleVolumes(count: volumes, dims: sniffed.shape)) }

        // libnifti converts the checked header bytes (swapping them if need be); it never
        // opens the file, and gets a neutral name: it would take a file named .img or .hdr for
        // the two-file Analyze layout, whatever the header's magic says.
        let converted: UnsafeMutablePointer<nifti_image>? = sniffed.bytes.withUnsafeBytes { raw in
            if sniffed.format == .nifti1 {
                var header = nifti_1_header()
                withUnsafeMutableBytes(of: &header) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix($0.count))) }
                return nifti_convert_n1hdr2nim(header, "header.nii")
            }
            var header = nifti_2_header()
            withUnsafeMutableBytes(of: &header) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw.prefix($0.count))) }
            return nifti_convert_n2hdr2nim(header, "header.nii")
        }
        guard let nim = converted else {
            throw fail(.invalidHeader(reason: "libnifti rejected the header"))
        }
        defer { nifti_image_free(nim) }
        let n = nim.pointee

        guard n.nifti_type == NIFTI_FTYPE_NIFTI1_1 || n.nifti_type == NIFTI_FTYPE_NIFTI2_1 else {
            throw fail(.notNIfTI)
        }
        let dims = withUnsafeBytes(of: n.dim) { $0.bindMemory(to: Int64.self).map { Int($0) } }
        guard dims[0] == sniffed.shape.count, Array(dims[1...dims[0]]) == sniffed.shape,
              n.datatype == Int32(sniffed.datatype.rawValue), Int(n.iname_offset) == sniffed.voxelOffset else {
            throw fail(.invalidHeader(reason: "libnifti read the header differently"))
        }
        let datatype = sniffed.datatype
        let size = GridSize(extent[0], extent[1], extent[2])
        let (affine, source) = try Self.worldAffine(n, size: size, storedPixdim: sniffed.pixdim, path: path)

        let slope = n.scl_slope
        let intercept = n.scl_inter
        let scaling = LinearScaling(headerSlope: slope, intercept: intercept)
        if scaling != nil, !intercept.isFinite {
            throw fail(.invalidHeader(reason: "scl_slope \(slope) is valid but scl_inter \(intercept) is not finite"))
        }
        return NIfTIHeader(
            format: sniffed.format,
            geometry: ImageGeometry(size: size, indexToWorld: affine),
            geometrySource: source,
            sformCode: Int(n.sform_code), qformCode: Int(n.qform_code),
            datatype: datatype, scaling: scaling,
            voxelOffset: sniffed.voxelOffset,
            swapBytes: n.byteorder != nifti_short_order(),
            isGzip: sniffed.isGzip)
    }

    // MARK: Geometry

    /// The index-to-world affine by the NIfTI precedence: sform if sform_code > 0, else qform if
    /// qform_code > 0, else pixdim scaling only (the standard's method 1, origin at voxel 0).
    /// `storedPixdim` is pixdim[0...7] as in the file.
    static func worldAffine(_ n: nifti_image, size: GridSize, storedPixdim: [Double],
                            path: String) throws(ImageIOError) -> (Affine3D, GeometrySource) {
        let pixdim = SIMD3(storedPixdim[1], storedPixdim[2], storedPixdim[3])
        func checkedSpacing() throws(ImageIOError) -> SIMD3<Double> {
            guard (0..<3).allSatisfy({ pixdim[$0].isFinite && pixdim[$0] > 0 }) else {
                throw ImageIOError(path: path, problem: .invalidSpacing(pixdim: [pixdim.x, pixdim.y, pixdim.z]))
            }
            return pixdim
        }
        let affine: Affine3D
        let source: GeometrySource
        if n.sform_code > 0 {
            let m = n.sto_xyz.m
            affine = Affine3D(
                linear: Matrix3(rows: SIMD3(m.0.0, m.0.1, m.0.2), SIMD3(m.1.0, m.1.1, m.1.2),
                                SIMD3(m.2.0, m.2.1, m.2.2)),
                translation: SIMD3(m.0.3, m.1.3, m.2.3))
            source = .sform
        } else if n.qform_code > 0 {
            let spacing = try checkedSpacing()
            affine = qformAffine(b: n.quatern_b, c: n.quatern_c, d: n.quatern_d,
                                 offset: SIMD3(n.qoffset_x, n.qoffset_y, n.qoffset_z),
                                 spacing: spacing, qfac: storedPixdim[0] < 0 ? -1 : 1)
            source = .qform
        } else {
            affine = Affine3D(linear: .diagonal(try checkedSpacing()), translation: .zero)
            source = .pixdim
        }
        guard ImageGeometry.isUsable(affine) else {
            throw ImageIOError(path: path, problem: .singularAffine(source: source))
        }
        if let reason = ImageGeometry.implausibility(size: size, indexToWorld: affine) {
            throw ImageIOError(path: path, problem: .implausibleGeometry(source: source, reason: reason))
        }
        return (affine, source)
    }

    /// The qform affine (NIfTI-1 standard, method 2): rotation from the unit quaternion
    /// (a, b, c, d) with a = sqrt(1 - b^2 - c^2 - d^2), times diag(spacing) with the third
    /// column negated when qfac is -1, plus the offsets. As in the reference implementation,
    /// a quaternion with 1 - b^2 - c^2 - d^2 < 1e-7 is a 180-degree rotation (a = 0, (b, c, d)
    /// renormalised).
    public static func qformAffine(b: Double, c: Double, d: Double, offset: SIMD3<Double>,
                                   spacing: SIMD3<Double>, qfac: Double) -> Affine3D {
        var (b, c, d) = (b, c, d)
        var a = 1 - (b * b + c * c + d * d)
        if a < 1e-7 {
            let s = 1 / (b * b + c * c + d * d).squareRoot()
            b *= s
            c *= s
            d *= s
            a = 0
        } else {
            a = a.squareRoot()
        }
        let rotation = Matrix3(
            rows: SIMD3(a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)),
            SIMD3(2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)),
            SIMD3(2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b))
        let scale = SIMD3(spacing.x, spacing.y, qfac < 0 ? -spacing.z : spacing.z)
        return Affine3D(linear: rotation * .diagonal(scale), translation: offset)
    }

    // MARK: Voxels

    /// Deflate's largest possible expansion (zlib's technical details: 1032:1).
    static let maxDeflateRatio = 1032

    static func readVoxels(path: String, header: NIfTIHeader) throws(ImageIOError) -> VoxelArray {
        let count = header.geometry.size.count
        // Before allocating: can the file hold what the header promises?
        let expected = count * header.datatype.bytesPerVoxel
        let fileSize = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if header.isGzip {
            if header.voxelOffset + expected > fileSize * maxDeflateRatio {
                throw ImageIOError(path: path, problem: .compressedDataTooShort(
                    expectedBytes: expected, compressedBytes: fileSize))
            }
        } else if header.voxelOffset + expected > fileSize {
            throw ImageIOError(path: path, problem: .dataTruncated(
                expectedBytes: expected, availableBytes: max(0, fileSize - header.voxelOffset)))
        }
        switch header.datatype {
        case .uint8: return .uint8(try read(UInt8.self, count, path, header))
        case .int8: return .int8(try read(Int8.self, count, path, header))
        case .int16: return .int16(try read(Int16.self, count, path, header))
        case .uint16: return .uint16(try read(UInt16.self, count, path, header))
        case .int32: return .int32(try read(Int32.self, count, path, header))
        case .uint32: return .uint32(try read(UInt32.self, count, path, header))
        case .int64: return .int64(try read(Int64.self, count, path, header))
        case .uint64: return .uint64(try read(UInt64.self, count, path, header))
        case .float32: return .float32(try read(Float.self, count, path, header))
        case .float64: return .float64(try read(Double.self, count, path, header))
        }
    }

    private static func read<T>(_ type: T.Type, _ count: Int, _ path: String,
                                _ header: NIfTIHeader) throws(ImageIOError) -> [T] {
        let file = try GzipFile(path: path)
        let expected = count * MemoryLayout<T>.stride
        // A .nii.gz: the whole member at once (libdeflate), straight into the voxels' array (the
        // header's bytes first, then moved down over them); a file it does not take whole goes
        // through the streaming reader below, which says why.
        if file.isCompressed {
            let stride = MemoryLayout<T>.stride
            let total = header.voxelOffset + expected
            var whole = false
            let values = [T](unsafeUninitializedCapacity: (total + stride - 1) / stride) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                whole = GzipFile.inflateWhole(path: path, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<total]))
                guard whole else { return }
                let voxels = UnsafeMutableRawBufferPointer(rebasing: raw[0..<expected])
                voxels.baseAddress!.copyMemory(from: raw.baseAddress! + header.voxelOffset, byteCount: expected)
                if header.swapBytes { RawVoxels.swapBytes(voxels, width: stride) }
                initialized = count
            }
            if whole { return values }
        }
        try file.skip(header.voxelOffset)
        var failure: ImageIOError?
        let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            do {
                let got = try file.read(into: raw)
                guard got == expected else {
                    throw ImageIOError(path: path, problem: .dataTruncated(
                        expectedBytes: expected, availableBytes: max(0, got)))
                }
                try file.verifyToEnd()
            } catch let error as ImageIOError {
                failure = error
                raw.initializeMemory(as: UInt8.self, repeating: 0)
            } catch {
                preconditionFailure("GzipFile throws ImageIOError only")
            }
            if header.swapBytes { RawVoxels.swapBytes(raw, width: MemoryLayout<T>.stride) }
            initialized = count
        }
        if let failure { throw failure }
        return values
    }
}

/// What a NIfTI header says, checked: everything but the voxels.
public struct NIfTIHeader: Sendable {
    public let format: ImageFormat
    public let geometry: ImageGeometry
    public let geometrySource: GeometrySource
    public let sformCode: Int
    public let qformCode: Int
    public let datatype: NIfTIDatatype
    public let scaling: LinearScaling?
    /// Byte offset of the first voxel in the (decompressed) file.
    public let voxelOffset: Int
    let swapBytes: Bool
    let isGzip: Bool
}

/// libnifti's global settings, applied once per process.
enum LibNIfTI {
    private static let configured: Void = {
        // Errors reach the user as ImageIOError; libnifti's own diagnostics stay quiet.
        nifti_set_debug_level(0)
    }()

    static func configure() { _ = configured }
}
