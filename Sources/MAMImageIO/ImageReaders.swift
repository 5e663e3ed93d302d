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

/// The readers mam-quantify knows, and the one place that picks a reader for a file: every
/// stage after reading sees only `LabelImage`s.
public enum ImageReaders {
    /// In the order they are asked.
    public static let all: [any ImageReader] = [NIfTIReader()]

    /// Reads `path` with the first reader that takes its name; a name no reader takes is
    /// refused (`.unsupportedFileName`) without opening the file.
    public static func read(_ path: String) throws(ImageIOError) -> LabelImage {
        guard let reader = all.first(where: { $0.reads(path) }) else {
            try checkFile(path)
            throw ImageIOError(path: path, problem: .unsupportedFileName)
        }
        return try reader.read(path)
    }

    /// The world geometry of `path` from its header, by the same reader `read` would use.
    public static func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry {
        guard let reader = all.first(where: { $0.reads(path) }) else {
            try checkFile(path)
            throw ImageIOError(path: path, problem: .unsupportedFileName)
        }
        return try reader.geometry(path)
    }

    /// A file that exists, is not a folder and can be opened.
    static func checkFile(_ path: String) throws(ImageIOError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ImageIOError(path: path, problem: .fileNotFound)
        }
        guard !isDirectory.boolValue else { throw ImageIOError(path: path, problem: .notAFile) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ImageIOError(path: path, problem: .unreadable(reason: "permission denied"))
        }
    }
}
