import Foundation
public import MAMCore

/// A reader of one file format.
public protocol ImageReader: Sendable {
    /// True when `path` names a file of this reader's format.
    func reads(_ path: String) -> Bool
    func read(_ path: String) throws(ImageIOError) -> LabelImage
    /// The world geometry from the header alone (no voxels read).
    func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry
}

extension NIfTIReader: ImageReader {
    public func reads(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz")
    }

    public func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry { try readHeader(path).geometry }
}

extension NRRDReader: ImageReader {
    public func reads(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".nrrd") || lower.hasSuffix(".nhdr")
    }

    public func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry { try readHeader(path).geometry }
}

extension MetaImageReader: ImageReader {
    public func reads(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".mha") || lower.hasSuffix(".mhd")
    }

    public func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry { try readHeader(path).geometry }
}

extension DICOMReader: ImageReader {
    public func reads(_ path: String) -> Bool { path.lowercased().hasSuffix(".dcm") }
}

/// The readers mam-quantify knows, and the one place that picks a reader for a file: every
/// stage after reading sees only `LabelImage`s.
public enum ImageReaders {
    /// In the order they are asked.
    public static let all: [any ImageReader] = [NIfTIReader(), NRRDReader(), MetaImageReader(), DICOMReader()]

    /// Reads `path` with the reader its first bytes call for (NRRD's magic, a MetaImage header,
    /// a NIfTI header or gzip data, DICOM's preamble), else the one its name calls for; neither: refused
    /// (`.unsupportedFileName`).
    public static func read(_ path: String) throws(ImageIOError) -> LabelImage {
        try reader(for: path).read(path)
    }

    /// The world geometry of `path` from its header, by the same reader `read` would use.
    public static func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry {
        try reader(for: path).geometry(path)
    }

    /// The reader for `path`: by content when its first bytes tell, else by name.
    static func reader(for path: String) throws(ImageIOError) -> any ImageReader {
        try checkFile(path)
        if let format = sniff(path) {
            switch format {
            case .nifti1, .nifti2: return all[0]
            case .nrrd: return all[1]
            case .metaImage: return all[2]
            case .dicomSeg, .rtStruct: return all[3]
            }
        }
        guard let reader = all.first(where: { $0.reads(path) }) else {
            throw ImageIOError(path: path, problem: .unsupportedFileName)
        }
        return reader
    }

    /// The format the first bytes of `path` show, if they show one: `NRRD000` (NRRD), a
    /// MetaImage key at the start, gzip's magic or a NIfTI header size (348 or 540, either byte
    /// order) for NIfTI, `DICM` after a 128-byte preamble for DICOM (SEG or RTSTRUCT: the
    /// reader tells them apart).
    static func sniff(_ path: String) -> ImageFormat? {
        guard let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 132) else { return nil }
        try? handle.close()
        if DICOMFile.hasPreamble(head) { return .dicomSeg }
        let bytes = [UInt8](head.prefix(16))
        if bytes.starts(with: Array("NRRD000".utf8)) { return .nrrd }
        let text = String(decoding: bytes, as: UTF8.self)
        if ["ObjectType", "NDims", "ObjectSubType", "Comment ", "Comment="].contains(where: { text.hasPrefix($0) }) { return .metaImage }
        if bytes.starts(with: [0x1f, 0x8b]) { return .nifti1 }
        if bytes.count >= 4 {
            let little = UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24
            if [348, 540].contains(little) || [348, 540].contains(little.byteSwapped) { return .nifti1 }
        }
        return nil
    }

    /// The file's bytes (mapped, not copied).
    static func contents(_ path: String) throws(ImageIOError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw ImageIOError(path: path, problem: .unreadable(reason: fileSystemReason(error)))
        }
    }

    /// `body` on the bytes of `data`, its typed error passed on (Data's own method rethrows
    /// untyped).
    static func withBytes<R>(_ data: Data, _ body: (UnsafeRawBufferPointer) throws(ImageIOError) -> R) throws(ImageIOError) -> R {
        let result: Result<R, ImageIOError> = data.withUnsafeBytes { raw in Result { () throws(ImageIOError) in try body(raw) } }
        return try result.get()
    }

    /// x * y * z when it is at most `limit` (no overflow on the way), else nil.
    static func voxelCount(_ size: GridSize, limit: Int) -> Int? {
        let (xy, o1) = size.x.multipliedReportingOverflow(by: size.y)
        let (xyz, o2) = xy.multipliedReportingOverflow(by: size.z)
        return o1 || o2 || xyz > limit ? nil : xyz
    }

    /// A file that exists, is not a folder and can be opened.
    static func checkFile(_ path: String) throws(ImageIOError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageIOError(path: path, problem: .fileNotFound)
        }
        guard !isDirectory.boolValue else { throw ImageIOError(path: path, problem: .notAFile) }
        // A device or a pipe (a header's data file could name /dev/zero) is never read.
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { throw ImageIOError(path: path, problem: .notAFile) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ImageIOError(path: path, problem: .unreadable(reason: "permission denied"))
        }
    }
}
