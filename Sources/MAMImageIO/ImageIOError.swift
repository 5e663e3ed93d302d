import Foundation

/// Why an image file could not be read or written. `description` is one line naming the file
/// and the problem, fit to show a user as is.
public struct ImageIOError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case fileNotFound
        case notAFile
        case unreadable(reason: String)
        /// Neither the name nor the first bytes are of a format mam-quantify reads.
        case unsupportedFileName
        /// No NIfTI-1 or NIfTI-2 header at the start of the (decompressed) file.
        case notNIfTI
        /// The gzip stream is corrupt or ends early.
        case corruptCompression(reason: String)
        /// The header parses but its fields are inconsistent.
        case invalidHeader(reason: String)
        /// A NRRD or MetaImage header that is malformed, inconsistent or asks for what is not
        /// supported (`format` names the format).
        case badFormatHeader(format: ImageFormat, reason: String)
        /// A detached header's data file is not there.
        case missingDataFile(String)
        /// A detached header's data file cannot be read (a folder, a device, no permission).
        case unusableDataFile(String, reason: String)
        /// DCMTK could not parse the file as DICOM.
        case notDICOM(reason: String)
        /// A DICOM object other than a segmentation (a CT image, a dose...).
        case notASegmentation(modality: String, sopClass: String)
        /// An RTSTRUCT's CT series (whose grid its contours are rasterised on) is not found.
        case missingReferencedSeries(uid: String, folder: String)
        /// The voxel data are not what the header says (beyond truncation).
        case badData(reason: String)
        case unsupportedDatatype(code: Int)
        /// The file ends before all the voxels the header promises.
        case dataTruncated(expectedBytes: Int, availableBytes: Int)
        /// A gzip file too small to decompress to the voxel bytes the header promises.
        case compressedDataTooShort(expectedBytes: Int, compressedBytes: Int)
        /// The grid's voxel count exceeds the reader's bound (checked before allocating).
        case tooLarge(voxels: String, limit: Int)
        /// More than one 3-D volume (e.g. a time series).
        case multipleVolumes(count: Int, dims: [Int])
        /// Voxel spacing (pixdim) used for the geometry is zero, negative or not finite.
        case invalidSpacing(pixdim: [Double])
        /// The index-to-world matrix is singular or not finite.
        case singularAffine(source: GeometrySource)
        /// Spacing or position outside `ImageGeometry`'s plausible bounds.
        case implausibleGeometry(source: GeometrySource, reason: String)
        /// Float voxels that are NaN or infinite where a mask or label map was expected.
        case nonFiniteVoxels(count: Int)
        /// Some scaled voxel values are not integers where a label map was expected.
        case notALabelMap(nonIntegerVoxels: Int)
        /// A mask was asked for a label value the file does not contain.
        case labelAbsent(label: Int, present: [Int])
        case writeFailed(reason: String)
    }

    public let path: String
    public let problem: Problem

    public init(path: String, problem: Problem) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem.message)" }
}

extension ImageIOError.Problem {
    public var message: String {
        switch self {
        case .fileNotFound:
            return "no such file"
        case .notAFile:
            return "is a directory or special file, not an image file"
        case .unreadable(let reason):
            return "cannot be read (\(reason))"
        case .unsupportedFileName:
            return "not an image mam-quantify reads (NIfTI .nii, .nii.gz; NRRD .nrrd, .nhdr; MetaImage .mha, .mhd; "
                + "DICOM-SEG or RTSTRUCT .dcm)"
        case .notNIfTI:
            return "not a NIfTI file (no NIfTI-1 or NIfTI-2 header)"
        case .corruptCompression(let reason):
            return "corrupt or truncated gzip data (\(reason))"
        case .invalidHeader(let reason):
            return "invalid NIfTI header: \(reason)"
        case .badFormatHeader(let format, let reason):
            return "invalid \(format.rawValue) header: \(reason)"
        case .missingDataFile(let path):
            return "its data file \(path) is missing"
        case .unusableDataFile(let path, let reason):
            return "its data file \(path) \(reason)"
        case .notDICOM(let reason):
            return "not a readable DICOM file (DCMTK: \(reason))"
        case .notASegmentation(let modality, let sopClass):
            return "a DICOM \(modality) object (SOP class \(sopClass)), not a segmentation; DICOM-SEG and RTSTRUCT are read"
        case .missingReferencedSeries(let uid, let folder):
            return "the CT series its contours are drawn on (\(uid)) is not in \(folder) or its subfolders"
        case .badData(let reason):
            return "bad voxel data: \(reason)"
        case .unsupportedDatatype(let code):
            return "unsupported NIfTI datatype \(code) (supported: uint8, int8, int16, uint16, int32, "
                + "uint32, int64, uint64, float32, float64)"
        case .dataTruncated(let expected, let available):
            return "voxel data truncated: the header promises \(expected) bytes, the file holds \(available)"
        case .compressedDataTooShort(let expected, let compressed):
            return "voxel data truncated: the header promises \(expected) bytes, more than a gzip file "
                + "of \(compressed) bytes can hold"
        case .tooLarge(let voxels, let limit):
            return "grid of \(voxels) voxels exceeds the limit of \(limit) voxels"
        case .multipleVolumes(let count, let dims):
            let shape = dims.map(String.init).joined(separator: " x ")
            return "holds \(count) volumes (dimensions \(shape)); one 3-D volume is needed"
        case .invalidSpacing(let pixdim):
            return "voxel spacing \(pixdim.map { "\($0)" }.joined(separator: " x ")) is not positive and finite"
        case .singularAffine(let source):
            return "the \(source.rawValue) index-to-world matrix is singular or not finite"
        case .implausibleGeometry(let source, let reason):
            return "implausible \(source.rawValue) geometry: \(reason)"
        case .nonFiniteVoxels(let count):
            return "\(count) voxels are NaN or infinite; a mask or label map needs finite values"
        case .notALabelMap(let n):
            return "\(n) voxels hold non-integer values; a label map is needed"
        case .labelAbsent(let label, let present):
            let list = present.isEmpty ? "none" : present.map(String.init).joined(separator: ", ")
            return "label \(label) is absent (labels present: \(list))"
        case .writeFailed(let reason):
            return "could not be written (\(reason))"
        }
    }
}

/// A file-system error in a few words ("permission denied", "read-only file system"), never a
/// Foundation error dump: what a one-line message needs.
public func fileSystemReason(_ error: any Error) -> String {
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? any Error).map({ $0 as NSError }),
       underlying.domain == NSPOSIXErrorDomain {
        return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSCocoaErrorDomain {
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or folder"
        case .fileWriteFileExists: return "a file of that name is in the way"
        default: break
        }
    }
    return String(describing: error).split(whereSeparator: \.isNewline).joined(separator: " ")
}

/// True when `path` itself is a symbolic link (not followed): results are never written or
/// read through one.
public func isSymbolicLink(_ path: String) -> Bool {
    (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeSymbolicLink
}
