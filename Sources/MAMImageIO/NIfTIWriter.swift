public import MAMCore
public import Foundation
internal import _CNIfTI

/// Writes NIfTI files that other tools overlay exactly on the inputs.
///
/// The header is built by libnifti from the geometry: the sform holds the index-to-world
/// affine exactly (sform_code 1, scanner anatomical) and the qform holds the same mapping as a
/// quaternion (qform_code 1), exact for any rotation-and-scaling affine, so tools that prefer
/// either one agree. NIfTI-1 is written unless a dimension exceeds 32767 (then NIfTI-2); a name
/// ending in `.gz` is gzip-compressed at level 1: the maps are mostly background, and level 6
/// made them a third smaller (149 -> 98 kB for the benchmark's twenty tumours) at 2.4 times the
/// time, most of the writing time of a case with many tumours (Docs/benchmarks.md). The file is
/// written under a temporary name in the same folder and renamed into place, so a reader never
/// sees half a file.
public enum NIfTIWriter {
    /// Writes `voxels` on `geometry`, with optional scl_slope / scl_inter.
    public static func write(_ voxels: VoxelArray, geometry: ImageGeometry, scaling: LinearScaling? = nil,
                             description: String = "mam-quantify", to path: String) throws(ImageIOError) {
        LibNIfTI.configure()
        let lower = path.lowercased()
        guard lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") else {
            throw ImageIOError(path: path, problem: .unsupportedFileName)
        }
        precondition(voxels.count == geometry.size.count, "NIfTIWriter: voxel count does not match the grid")
        precondition(geometry.size.count > 0, "NIfTIWriter: an empty grid has no NIfTI form")
        let header = makeHeader(voxels.datatype, geometry: geometry, scaling: scaling, description: description)
        try AtomicFile.write(to: path) { (temporaryPath) throws(ImageIOError) in
            let compressed = lower.hasSuffix(".gz")
            guard let file = gzopen(temporaryPath, compressed ? "wb1" : "wbT") else {
                throw ImageIOError(path: path, problem: .writeFailed(reason: String(cString: strerror(errno))))
            }
            var closed = false
            defer { if !closed { gzclose(file) } }
            func put(_ bytes: UnsafeRawBufferPointer) throws(ImageIOError) {
                var done = 0
                while done < bytes.count {
                    let chunk = UInt32(min(bytes.count - done, 1 << 30))
                    let written = gzwrite(file, bytes.baseAddress! + done, chunk)
                    guard written > 0 else {
                        throw ImageIOError(path: path, problem: .writeFailed(reason: String(cString: strerror(errno))))
                    }
                    done += Int(written)
                }
            }
            try narrowingErrors { try header.withUnsafeBytes { try put($0) } }
            try voxels.withUnsafeBytes { (b) throws(ImageIOError) in try put(b) }
            closed = true
            guard gzclose(file) == Z_OK else {
                throw ImageIOError(path: path, problem: .writeFailed(reason: "error closing the file"))
            }
        }
    }

    /// Writes a mask as uint8 0/1.
    public static func write(_ mask: Mask, to path: String, description: String = "mam-quantify mask") throws(ImageIOError) {
        try write(.uint8(mask.voxels.map { $0 ? 1 : 0 }), geometry: mask.geometry, description: description, to: path)
    }

    /// Writes a label map as uint8.
    public static func write(_ labels: Volume<UInt8>, to path: String,
                             description: String = "mam-quantify labels") throws(ImageIOError) {
        try write(.uint8(labels.voxels), geometry: labels.geometry, description: description, to: path)
    }

    /// Writes a float map as float32.
    public static func write(_ map: Volume<Float>, to path: String,
                             description: String = "mam-quantify map") throws(ImageIOError) {
        try write(.float32(map.voxels), geometry: map.geometry, description: description, to: path)
    }

    /// Header bytes, extension flag included: 352 bytes (NIfTI-1) or 544 bytes (NIfTI-2).
    static func makeHeader(_ datatype: NIfTIDatatype, geometry: ImageGeometry, scaling: LinearScaling?,
                           description: String) -> [UInt8] {
        let size = geometry.size
        let needsNIfTI2 = max(size.x, size.y, size.z) > Int(Int16.max)
        var dims: [Int64] = [3, Int64(size.x), Int64(size.y), Int64(size.z), 1, 1, 1, 1]
        let nim = nifti_make_new_nim(&dims, Int32(datatype.rawValue), 0)!
        defer { nifti_image_free(nim) }

        let a = geometry.indexToWorld
        var m = nifti_dmat44()
        withUnsafeMutableBytes(of: &m.m) { raw in
            let e = raw.bindMemory(to: Double.self)
            for r in 0..<3 {
                for c in 0..<3 { e[4 * r + c] = a.linear[r, c] }
                e[4 * r + 3] = a.translation[r]
            }
            e[15] = 1
        }
        var (qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        nifti_dmat44_to_quatern(m, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac)
        let spacing = geometry.spacing

        nim.pointee.sto_xyz = m
        nim.pointee.sform_code = 1
        nim.pointee.qform_code = 1
        (nim.pointee.quatern_b, nim.pointee.quatern_c, nim.pointee.quatern_d) = (qb, qc, qd)
        (nim.pointee.qoffset_x, nim.pointee.qoffset_y, nim.pointee.qoffset_z) = (qx, qy, qz)
        nim.pointee.qfac = qfac < 0 ? -1 : 1
        (nim.pointee.dx, nim.pointee.dy, nim.pointee.dz) = (spacing.x, spacing.y, spacing.z)
        nim.pointee.pixdim.0 = nim.pointee.qfac
        (nim.pointee.pixdim.1, nim.pointee.pixdim.2, nim.pointee.pixdim.3) = (spacing.x, spacing.y, spacing.z)
        nim.pointee.xyz_units = NIFTI_UNITS_MM
        nim.pointee.scl_slope = scaling?.slope ?? 1
        nim.pointee.scl_inter = scaling?.intercept ?? 0
        nim.pointee.nifti_type = needsNIfTI2 ? NIFTI_FTYPE_NIFTI2_1 : NIFTI_FTYPE_NIFTI1_1
        withUnsafeMutableBytes(of: &nim.pointee.descrip) { raw in
            let text = Array(description.utf8.prefix(79))
            raw.copyBytes(from: text + [0])
        }

        var bytes: [UInt8]
        if needsNIfTI2 {
            nim.pointee.iname_offset = 544
            var hdr = nifti_2_header()
            precondition(nifti_convert_nim2n2hdr(nim, &hdr) == 0, "libnifti could not build a NIfTI-2 header")
            bytes = withUnsafeBytes(of: &hdr) { Array($0) }
        } else {
            nim.pointee.iname_offset = 352
            var hdr = nifti_1_header()
            precondition(nifti_convert_nim2n1hdr(nim, &hdr) == 0, "libnifti could not build a NIfTI-1 header")
            bytes = withUnsafeBytes(of: &hdr) { Array($0) }
        }
        bytes += [0, 0, 0, 0]  // extension flag: no extensions follow
        return bytes
    }
}

extension VoxelArray {
    /// The stored bytes, native byte order.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws(ImageIOError) -> R) throws(ImageIOError) -> R {
        func raw<T>(_ a: [T]) throws(ImageIOError) -> R {
            try narrowingErrors { try a.withUnsafeBytes { try body($0) } }
        }
        switch self {
        case .uint8(let a): return try raw(a)
        case .int8(let a): return try raw(a)
        case .int16(let a): return try raw(a)
        case .uint16(let a): return try raw(a)
        case .int32(let a): return try raw(a)
        case .uint32(let a): return try raw(a)
        case .int64(let a): return try raw(a)
        case .uint64(let a): return try raw(a)
        case .float32(let a): return try raw(a)
        case .float64(let a): return try raw(a)
        }
    }
}

/// Writing a file whole or not at all: the content goes to a temporary file in the destination
/// folder, which is renamed over the destination only once complete.
public enum AtomicFile {
    /// Calls `produce` with a temporary path (same folder, same extension), then renames it to
    /// `path`. On any error the temporary file is removed and `path` is left as it was.
    public static func write(to path: String,
                             _ produce: (String) throws(ImageIOError) -> Void) throws(ImageIOError) {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let name = url.lastPathComponent
        let suffix = name.lowercased().hasSuffix(".nii.gz") ? ".nii.gz" : (url.pathExtension.isEmpty ? "" : "." + url.pathExtension)
        let temporary = folder + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))" + suffix
        do throws(ImageIOError) {
            try produce(temporary)
            guard rename(temporary, path) == 0 else {
                throw ImageIOError(path: path, problem: .writeFailed(reason: String(cString: strerror(errno))))
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

extension AtomicFile {
    /// Writes `data` to `path` whole or not at all.
    public static func write(_ data: Data, to path: String) throws(ImageIOError) {
        try write(to: path) { (temporary) throws(ImageIOError) in
            // Straight into the temporary file: FileManager.createFile would write through a
            // temporary of its own (.dat.nosync...), which a killed process leaves behind.
            do {
                try data.write(to: URL(fileURLWithPath: temporary))
            } catch {
                throw ImageIOError(path: path, problem: .writeFailed(reason: fileSystemReason(error)))
            }
        }
    }
}

/// Runs `body`, whose only errors are `ImageIOError`s, through a standard-library API that
/// rethrows them as `any Error`, and gives them back their type.
func narrowingErrors<R>(_ body: () throws -> R) throws(ImageIOError) -> R {
    do {
        return try body()
    } catch let error as ImageIOError {
        throw error
    } catch {
        preconditionFailure("only ImageIOError is thrown here, got \(error)")
    }
}
