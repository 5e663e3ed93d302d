import Foundation
import MAMImageIO
import MAMTestSupport
import Testing

/// Damaged and unsupported NRRD and MetaImage files: each a typed error whose message is one line
/// naming the file, never a crash (the fuzz target reaches these readers too: ImageReaders
/// picks them by content).
@Suite("NRRD and MetaImage bad input gives a typed, one-line error")
struct FormatBadInputTests {
    static let voxels = Data((0..<210).map { UInt8($0 % 3) })  // 7 x 6 x 5 uint8

    static func nrrd(_ fields: [String], data: Data = voxels) -> Data {
        Data((["NRRD0004"] + fields + ["", ""]).joined(separator: "\n").utf8) + data
    }

    static let good = ["type: uint8", "dimension: 3", "sizes: 7 6 5", "space: left-posterior-superior",
                       "space directions: (0.7,0,0) (0,0.8,0) (0,0,2.5)", "space origin: (1,2,3)", "encoding: raw"]

    static func replacing(_ key: String, with line: String?) -> [String] {
        good.compactMap { $0.hasPrefix(key + ":") ? line : $0 }
    }

    static func mha(_ keys: [String], data: Data = voxels) -> Data {
        Data((["ObjectType = Image", "NDims = 3"] + keys + ["ElementDataFile = LOCAL", ""]).joined(separator: "\n").utf8) + data
    }

    static let goodMHA = ["DimSize = 7 6 5", "ElementType = MET_UCHAR", "ElementSpacing = 0.7 0.8 2.5", "Offset = 1 2 3",
                          "TransformMatrix = 1 0 0 0 1 0 0 0 1"]

    static func problem(_ name: String, _ contents: Data, in folder: TemporaryFolder) -> ImageIOError.Problem? {
        let path = folder.file(name)
        _ = FileManager.default.createFile(atPath: path, contents: contents)
        do {
            _ = try ImageReaders.read(path)
            return nil
        } catch {
            #expect(error.description.hasPrefix(path + ": ") && !error.description.contains("\n"), "\(error.description)")
            return error.problem
        }
    }

    @Test("the good files read (so each failure below is the damage's)")
    func good() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(Self.problem("good.nrrd", Self.nrrd(Self.good), in: folder) == nil)
        #expect(Self.problem("good.mha", Self.mha(Self.goodMHA), in: folder) == nil)
    }

    @Test("NRRD: truncated, wrong sizes, missing data file, unknown encoding, corrupt gzip, no space, layers, a device as data file, trailing bytes")
    func nrrd() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        func header(_ reason: String) -> (ImageIOError.Problem?) -> Bool {
            { if case .badFormatHeader(.nrrd, let r) = $0 { r.contains(reason) } else { false } }
        }
        #expect(Self.problem("cut.nrrd", Self.nrrd(Self.good, data: Self.voxels.prefix(100)), in: folder)
            == .dataTruncated(expectedBytes: 210, availableBytes: 100))
        #expect(header("sizes '7 6' are not 3 positive integers")(Self.problem("sizes.nrrd", Self.nrrd(Self.replacing("sizes", with: "sizes: 7 6")), in: folder)))
        let missing = Self.problem("detached.nhdr", Data((["NRRD0004"] + Self.good + ["data file: nothing.raw"]).joined(separator: "\n").utf8), in: folder)
        #expect(missing == .missingDataFile(folder.file("nothing.raw")))
        #expect(header("encoding 'bzip2' is not supported")(Self.problem("bz.nrrd", Self.nrrd(Self.replacing("encoding", with: "encoding: bzip2")), in: folder)))
        if case .corruptCompression = Self.problem("gz.nrrd", Self.nrrd(Self.replacing("encoding", with: "encoding: gzip"), data: Data([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6])), in: folder) {} else {
            Issue.record("a corrupt gzip block is not corruptCompression")
        }
        #expect(header("no 'space' field")(Self.problem("nospace.nrrd", Self.nrrd(Self.replacing("space", with: nil)), in: folder)))
        #expect(header("space 'scanner-xyz' is not anatomical")(Self.problem("scanner.nrrd", Self.nrrd(Self.replacing("space", with: "space: scanner-xyz")), in: folder)))
        let layered = Self.good.map {
            $0.hasPrefix("dimension") ? "dimension: 4" : $0.hasPrefix("sizes") ? "sizes: 2 7 6 5"
                : $0.hasPrefix("space directions") ? "space directions: none (0.7,0,0) (0,0.8,0) (0,0,2.5)" : $0
        }
        // Layers without segments (not a Slicer segmentation): refused.
        #expect(header("a non-spatial axis of size 2")(Self.problem("layers.nrrd", Self.nrrd(layered, data: Self.voxels + Self.voxels), in: folder)))
        let device = Self.problem("device.nhdr", Data((["NRRD0004"] + Self.good + ["data file: /dev/zero"]).joined(separator: "\n").utf8), in: folder)
        #expect(device == .unusableDataFile("/dev/zero", reason: "is a directory or special file, not an image file"))
        // No empty line between header and data: the data are taken for a header line, shown
        // without their control characters.
        let run = Self.problem("run-on.nrrd", Data((["NRRD0004"] + Self.good).joined(separator: "\n").utf8) + Data("\n".utf8) + Self.voxels, in: folder)
        #expect(header("is the empty line before the data missing?")(run))
        #expect(Self.problem("long.nrrd", Self.nrrd(Self.good, data: Self.voxels + Data([1, 2])), in: folder)
            == .badData(reason: "2 bytes follow the voxel data"))
    }

    @Test("MetaImage: truncated, wrong sizes, missing data file, unknown element type, corrupt zlib, several channels")
    func metaImage() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        func header(_ reason: String) -> (ImageIOError.Problem?) -> Bool {
            { if case .badFormatHeader(.metaImage, let r) = $0 { r.contains(reason) } else { false } }
        }
        #expect(Self.problem("cut.mha", Self.mha(Self.goodMHA, data: Self.voxels.prefix(99)), in: folder)
            == .dataTruncated(expectedBytes: 210, availableBytes: 99))
        #expect(header("DimSize '7 6' is not 3 numbers")(Self.problem("sizes.mha", Self.mha(["DimSize = 7 6"] + Self.goodMHA.dropFirst()), in: folder)))
        let detached = Data((["ObjectType = Image", "NDims = 3"] + Self.goodMHA + ["ElementDataFile = gone.raw", ""]).joined(separator: "\n").utf8)
        #expect(Self.problem("detached.mhd", detached, in: folder) == .missingDataFile(folder.file("gone.raw")))
        #expect(header("ElementType 'MET_STRING' is not supported")(Self.problem("type.mha", Self.mha(Self.goodMHA.map { $0.hasPrefix("ElementType") ? "ElementType = MET_STRING" : $0 }), in: folder)))
        if case .corruptCompression = Self.problem("z.mha", Self.mha(Self.goodMHA + ["CompressedData = True"], data: Data([0x78, 0x9c, 1, 2, 3, 4, 5])), in: folder) {} else {
            Issue.record("a corrupt zlib block is not corruptCompression")
        }
        #expect(header("ElementNumberOfChannels 3")(Self.problem("rgb.mha", Self.mha(Self.goodMHA + ["ElementNumberOfChannels = 3"]), in: folder)))
    }
}
