import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

/// Files crafted as an attacker would (the 0.6.0 audit's findings, rebuilt here): each gets a
/// typed one-line error before any C parser or allocation sees the bad value. A crash here
/// would end the test process, so a passing run is itself the proof that none crashes.
@Suite("Crafted and damaged files are refused, never crash")
final class CraftedFileTests {
    let folder: TemporaryFolder
    let validPath: String
    let validGzip: String

    init() throws {
        folder = try TemporaryFolder()
        validPath = folder.file("valid.nii")
        validGzip = folder.file("valid.nii.gz")
        try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.obliqueGeometry), to: validPath)
        try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.obliqueGeometry), to: validGzip)
    }

    deinit { folder.remove() }

    func problem(_ path: String) -> ImageIOError.Problem? {
        do {
            _ = try NIfTIReader().read(path)
            return nil
        } catch {
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
            return error.problem
        }
    }

    func reason(_ path: String) -> String {
        guard case .invalidHeader(let reason) = problem(path) else { return "no invalid-header error" }
        return reason
    }

    func writeBytes(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = folder.file(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A valid NIfTI-2 file (4 x 3 x 2 uint8, identity sform), its fields then changed by
    /// `change`: offsets as in nifti2.h.
    func nifti2(_ name: String, _ change: (inout [UInt8]) -> Void = { _ in }) throws -> String {
        var h = [UInt8](repeating: 0, count: 544)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { h.replaceSubrange(offset..<offset + $0.count, with: $0) }
        }
        func put(_ value: Double, at offset: Int) { put(value.bitPattern, at: offset) }
        put(Int32(540), at: 0)
        h.replaceSubrange(4..<12, with: Array("n+2\0\r\n".utf8) + [0x1A, 0x0A])
        put(Int16(2), at: 12)
        put(Int16(8), at: 14)
        for (i, d) in [3, 4, 3, 2, 1, 1, 1, 1].enumerated() { put(Int64(d), at: 16 + 8 * i) }
        for i in 0..<8 { put(1.0, at: 104 + 8 * i) }
        put(Int64(544), at: 168)
        put(Int32(1), at: 348)  // sform_code
        for row in 0..<3 { put(1.0, at: 400 + 32 * row + 8 * row) }
        change(&h)
        return try writeBytes(h + [UInt8](repeating: 1, count: 24), name)
    }

    @Test("the NIfTI-2 builder makes a file the reader takes")
    func nifti2Baseline() throws {
        let image = try NIfTIReader().read(try nifti2("ok.nii"))
        #expect(image.geometry.size == GridSize(4, 3, 2))
        #expect(image.format == .nifti2)
    }

    @Test("NIfTI-2 dim[0] outside 1...7 never reaches libnifti (it overran a fixed array there)",
          arguments: [0, -1, 8, 255, 256, Int64.max, Int64.min])
    func nifti2Rank(_ rank: Int64) throws {
        let path = try nifti2("rank\(rank).nii") { h in
            withUnsafeBytes(of: rank.littleEndian) { h.replaceSubrange(16..<24, with: $0) }
        }
        #expect(reason(path).contains("dim[0] is \(rank)"))
    }

    @Test("voxel offsets that are not a whole byte count past the header",
          arguments: [Int64.max, Int64.min, -1, 0, 543, 1 << 40])
    func nifti2VoxelOffset(_ offset: Int64) throws {
        let path = try nifti2("offset.nii") { h in
            withUnsafeBytes(of: offset.littleEndian) { h.replaceSubrange(168..<176, with: $0) }
        }
        #expect(reason(path).contains("vox_offset"))
    }

    @Test("NIfTI-1 voxel offsets NaN, -1, 1e30, 351 (one byte short of the data) and 352.5",
          arguments: [Float.nan, -1, 1e30, 351, 352.5, .infinity])
    func nifti1VoxelOffset(_ offset: Float) throws {
        var bytes = try NIfTIBytes(path: validPath)
        bytes.setFloat32(NIfTI1Field.voxOffset, offset)
        let path = folder.file("offset.nii")
        try bytes.write(to: path)
        #expect(reason(path).contains("vox_offset"))
    }

    @Test("affine entries near 1e30 (NIfTI-1) or 1e300 (NIfTI-2), spacings of 1e15 mm or 1e-5 mm")
    func implausibleGeometry() throws {
        // Refused as implausible, or as singular when the huge entry makes the matrix
        // numerically singular (1e300 next to 1: the determinant test sees a degenerate grid).
        func isImplausible(_ path: String) -> Bool {
            switch problem(path) {
            case .implausibleGeometry, .singularAffine: return true
            default: return false
            }
        }
        var far = try NIfTIBytes(path: validPath)
        far.setFloat32(NIfTI1Field.srowX + 12, 1e30)  // srow_x[3]: the x origin
        let farPath = folder.file("far.nii")
        try far.write(to: farPath)
        #expect(isImplausible(farPath))

        var scaled = try NIfTIBytes(path: validPath)
        scaled.setFloat32(NIfTI1Field.srowX, 1e30)
        let scaledPath = folder.file("scaled.nii")
        try scaled.write(to: scaledPath)
        #expect(isImplausible(scaledPath))

        let huge = try nifti2("huge2.nii") { h in
            withUnsafeBytes(of: (1e300).bitPattern.littleEndian) { h.replaceSubrange(400 + 40..<400 + 48, with: $0) }
        }
        #expect(isImplausible(huge))

        for spacing: Float in [1e15, 1e-5] {
            var bytes = try NIfTIBytes(path: validPath)
            bytes.setInt16(NIfTI1Field.sformCode, 0)
            bytes.setInt16(NIfTI1Field.qformCode, 0)
            bytes.setFloat32(NIfTI1Field.pixdim + 8, spacing)
            let path = folder.file("spacing.nii")
            try bytes.write(to: path)
            #expect(isImplausible(path), "pixdim[2] \(spacing) mm")
        }
    }

    @Test("a .nii.gz missing its last 1 to 9 bytes: the gzip trailer is checked, every cut refused")
    func truncatedTrailer() throws {
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: validGzip)))
        for cut in 1...9 {
            let path = try writeBytes(Array(whole.dropLast(cut)), "cut\(cut).nii.gz")
            guard case .corruptCompression = problem(path) else {
                Issue.record("cut by \(cut) bytes: \(String(describing: problem(path)))")
                continue
            }
        }
    }

    @Test("bytes after the gzip stream: garbage or a second gzip member")
    func trailingCompressedBytes() throws {
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: validGzip)))
        let garbage = try writeBytes(whole + [0x00, 0x42, 0x13], "garbage.nii.gz")
        #expect(problem(garbage) == .corruptCompression(reason: "3 bytes follow the end of the gzip stream"))
        let twice = try writeBytes(whole + whole, "twice.nii.gz")
        #expect(problem(twice) == .corruptCompression(reason: "\(whole.count) bytes follow the end of the gzip stream"))
    }

    @Test("a plain .nii with bytes after the voxels the header describes")
    func trailingPlainBytes() throws {
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: validPath)))
        let path = try writeBytes(whole + [1, 2], "longer.nii")
        #expect(problem(path) == .invalidHeader(reason: "the file holds 2 bytes after the voxel data the header describes"))
    }

    @Test("a datatype libnifti does not know is refused by our check, not by libnifti")
    func unknownDatatype() throws {
        var bytes = try NIfTIBytes(path: validPath)
        bytes.setInt16(NIfTI1Field.datatype, 351)
        let path = folder.file("datatype.nii")
        try bytes.write(to: path)
        #expect(problem(path) == .unsupportedDatatype(code: 351))
    }
}
