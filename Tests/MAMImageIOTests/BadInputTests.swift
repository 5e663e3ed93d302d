import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

/// Every kind of bad input gets its own typed error, one line naming the file.
@Suite("Bad input gives a typed, one-line error")
final class BadInputTests {
    let folder: TemporaryFolder
    /// A valid uncompressed label map to break in various ways.
    let validPath: String

    init() throws {
        folder = try TemporaryFolder()
        validPath = folder.file("valid.nii")
        try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.obliqueGeometry), to: validPath)
    }

    deinit { folder.remove() }

    /// Reads `path` and returns the problem, checking the message format on the way.
    func problem(_ path: String, reader: NIfTIReader = NIfTIReader()) -> ImageIOError.Problem? {
        do {
            _ = try reader.read(path)
            return nil
        } catch {
            #expect(error.path == path)
            #expect(error.description.hasPrefix(path + ": "))
            #expect(!error.description.contains("\n"))
            return error.problem
        }
    }

    func broken(_ name: String, _ change: (inout NIfTIBytes) -> Void) throws -> String {
        var bytes = try NIfTIBytes(path: validPath)
        change(&bytes)
        let path = folder.file(name)
        try bytes.write(to: path)
        return path
    }

    @Test func missingFile() {
        #expect(problem(folder.file("absent.nii.gz")) == .fileNotFound)
    }

    @Test func directory() throws {
        try FileManager.default.createDirectory(atPath: folder.file("dir.nii"), withIntermediateDirectories: false)
        #expect(problem(folder.file("dir.nii")) == .notAFile)
    }

    @Test("a name no reader takes, with content none recognises, is refused; a NIfTI file under another name is read by its content")
    func wrongFileName() throws {
        try Data("not an image\n".utf8).write(to: URL(fileURLWithPath: folder.file("mask.img")))
        #expect(throws: ImageIOError(path: folder.file("mask.img"), problem: .unsupportedFileName)) {
            try ImageReaders.read(folder.file("mask.img"))
        }
        try FileManager.default.copyItem(atPath: validPath, toPath: folder.file("renamed.img"))
        #expect(try ImageReaders.read(folder.file("renamed.img")).format == .nifti1)
    }

    @Test func notNIfTI() throws {
        try Data("hello, this is text\n".utf8).write(to: URL(fileURLWithPath: folder.file("text.nii")))
        #expect(problem(folder.file("text.nii")) == .notNIfTI)
        // An Analyze 7.5 header (sizeof_hdr 348, no NIfTI magic) is not NIfTI either.
        let analyze = try broken("analyze.nii") { $0.bytes.replaceSubrange(344..<348, with: [0, 0, 0, 0]) }
        #expect(problem(analyze) == .notNIfTI)
    }

    @Test func truncatedGzip() throws {
        let gz = folder.file("whole.nii.gz")
        try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.obliqueGeometry), to: gz)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: gz))
        let cut = folder.file("cut.nii.gz")
        try bytes.prefix(bytes.count * 2 / 3).write(to: URL(fileURLWithPath: cut))
        guard case .corruptCompression = problem(cut) else {
            Issue.record("a truncated .nii.gz must be reported as corrupt compression")
            return
        }
    }

    @Test func corruptGzip() throws {
        let gz = folder.file("whole.nii.gz")
        try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.obliqueGeometry), to: gz)
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: gz)))
        // The CRC-32 in the gzip trailer (bytes -8..<-4) no longer matches the content.
        bytes[bytes.count - 6] ^= 0xFF
        let bad = folder.file("badcrc.nii.gz")
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        guard case .corruptCompression = problem(bad) else {
            Issue.record("a .nii.gz with a wrong checksum must be reported as corrupt compression")
            return
        }
    }

    @Test func dataShorterThanHeaderPromises() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: validPath))
        let short = folder.file("short.nii")
        try bytes.prefix(bytes.count - 10).write(to: URL(fileURLWithPath: short))
        let voxels = TestVolumes.obliqueGeometry.size.count
        #expect(problem(short) == .dataTruncated(expectedBytes: voxels, availableBytes: voxels - 10))
    }

    @Test func dimensionsBeyondTheBound() throws {
        // 32767^3 voxels (3.5e13) claimed by a 562-byte file: refused before any allocation.
        let huge = try broken("huge.nii") { b in
            for axis in 1...3 { b.setInt16(NIfTI1Field.dim + 2 * axis, 32767) }
        }
        #expect(problem(huge) == .tooLarge(voxels: "32767 x 32767 x 32767", limit: 1 << 28))
        // Within the default bound but not a custom one.
        #expect(problem(validPath, reader: NIfTIReader(maxVoxels: 100)) == .tooLarge(voxels: "7 x 6 x 5", limit: 100))
    }

    @Test func claimBeyondWhatTheFileCanHold() throws {
        // 600^3 float64 voxels (1.7 GB, within the voxel bound) claimed by a 562-byte file:
        // refused before allocating,
        // for a plain file by its size, for a gzip file by deflate's largest expansion (1032:1).
        let plain = try broken("lying.nii") { b in
            for axis in 1...3 { b.setInt16(NIfTI1Field.dim + 2 * axis, 600) }
            b.setInt16(NIfTI1Field.datatype, 64)
            b.setInt16(NIfTI1Field.bitpix, 64)
        }
        #expect(problem(plain) == .dataTruncated(expectedBytes: 1_728_000_000, availableBytes: 210))

        let compressed = try gzip(plain)
        let size = try #require(FileManager.default.attributesOfItem(atPath: compressed)[.size] as? Int)
        #expect(problem(compressed) == .compressedDataTooShort(expectedBytes: 1_728_000_000, compressedBytes: size))
    }

    /// `path` compressed by the system's gzip, as `path.gz`.
    func gzip(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-kf", path]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return path + ".gz"
    }

    @Test func severalVolumes() throws {
        let fourD = try broken("4d.nii") { b in
            b.setInt16(NIfTI1Field.dim, 4)
            b.setInt16(NIfTI1Field.dim + 2 * 1, 5)
            b.setInt16(NIfTI1Field.dim + 2 * 2, 7)
            b.setInt16(NIfTI1Field.dim + 2 * 3, 2)
            b.setInt16(NIfTI1Field.dim + 2 * 4, 3)
        }
        #expect(problem(fourD) == .multipleVolumes(count: 3, dims: [5, 7, 2, 3]))
    }

    @Test("zero, negative or non-finite spacing where pixdim defines the geometry",
          arguments: [Float(0), -1, .nan, .infinity])
    func badSpacing(value: Float) throws {
        let path = try broken("spacing.nii") { b in
            b.setInt16(NIfTI1Field.sformCode, 0)  // the qform (code 1) is used: it needs pixdim
            b.setFloat32(NIfTI1Field.pixdim + 4 * 2, value)
        }
        guard case .invalidSpacing(let pixdim) = problem(path) else {
            Issue.record("pixdim[2] = \(value) must be reported as invalid spacing")
            return
        }
        #expect(pixdim.count == 3)
    }

    @Test func singularAffine() throws {
        // srow_z = srow_x: the third world coordinate repeats the first.
        let path = try broken("singular.nii") { b in
            let row = Array(b.bytes[NIfTI1Field.srowX..<NIfTI1Field.srowX + 16])
            b.bytes.replaceSubrange(NIfTI1Field.srowX + 32..<NIfTI1Field.srowX + 48, with: row)
        }
        #expect(problem(path) == .singularAffine(source: .sform))
        let nonFinite = try broken("nan-sform.nii") { $0.setFloat32(NIfTI1Field.srowX + 12, .nan) }
        #expect(problem(nonFinite) == .singularAffine(source: .sform))
    }

    @Test func unsupportedDatatype() throws {
        let complex = try broken("complex.nii") { b in
            b.setInt16(NIfTI1Field.datatype, 32)  // complex64
            b.setInt16(NIfTI1Field.bitpix, 64)
        }
        #expect(problem(complex) == .unsupportedDatatype(code: 32))
    }

    @Test func nanVoxelsInAFloatMask() throws {
        let geometry = ImageGeometry(size: GridSize(2, 2, 1), spacing: SIMD3(1, 1, 1))
        let path = folder.file("nan.nii.gz")
        try NIfTIWriter.write(.float32([0, 1, .nan, 1]), geometry: geometry, to: path)
        let image = try NIfTIReader().read(path)  // reading a float map with NaN is fine...
        let error = #expect(throws: ImageIOError.self) { try image.mask(label: 1) }  // ...a mask is not
        #expect(error?.problem == .nonFiniteVoxels(count: 1))
        #expect(error?.description == "\(path): 1 voxels are NaN or infinite; a mask or label map needs finite values")
    }

    @Test func labelAbsent() throws {
        let image = try NIfTIReader().read(validPath)
        let error = #expect(throws: ImageIOError.self) { try image.mask(label: 9) }
        #expect(error?.problem == .labelAbsent(label: 9, present: [0, 1, 2]))
    }

    @Test func nonIntegerLabelMap() throws {
        let path = folder.file("float.nii")
        try NIfTIWriter.write(.float32([0, 1, 1.5, 2]), geometry: ImageGeometry(size: GridSize(4, 1, 1), spacing: SIMD3(1, 1, 1)), to: path)
        #expect(throws: ImageIOError(path: path, problem: .notALabelMap(nonIntegerVoxels: 1))) {
            try NIfTIReader().read(path).labelCounts()
        }
    }
}
