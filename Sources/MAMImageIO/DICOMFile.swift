import Foundation
import MAMCore
import _CDICOM

/// A DICOM data element's tag.
struct DICOMTag: Sendable {
    let group: UInt16
    let element: UInt16

    init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    static let sopClassUID = DICOMTag(0x0008, 0x0016)
    static let modality = DICOMTag(0x0008, 0x0060)
    static let seriesInstanceUID = DICOMTag(0x0020, 0x000E)
    static let imagePositionPatient = DICOMTag(0x0020, 0x0032)
    static let imageOrientationPatient = DICOMTag(0x0020, 0x0037)
    static let spacingBetweenSlices = DICOMTag(0x0018, 0x0088)
    static let numberOfFrames = DICOMTag(0x0028, 0x0008)
    static let rows = DICOMTag(0x0028, 0x0010)
    static let columns = DICOMTag(0x0028, 0x0011)
    static let pixelSpacing = DICOMTag(0x0028, 0x0030)
    static let bitsAllocated = DICOMTag(0x0028, 0x0100)
    // Segmentation (PS3.3 C.8.20) and its functional groups (C.7.6.16).
    static let segmentationType = DICOMTag(0x0062, 0x0001)
    static let segmentSequence = DICOMTag(0x0062, 0x0002)
    static let segmentNumber = DICOMTag(0x0062, 0x0004)
    static let segmentLabel = DICOMTag(0x0062, 0x0005)
    static let segmentIdentificationSequence = DICOMTag(0x0062, 0x000A)
    static let referencedSegmentNumber = DICOMTag(0x0062, 0x000B)
    static let maximumFractionalValue = DICOMTag(0x0062, 0x000E)
    static let sharedFunctionalGroups = DICOMTag(0x5200, 0x9229)
    static let perFrameFunctionalGroups = DICOMTag(0x5200, 0x9230)
    static let planePositionSequence = DICOMTag(0x0020, 0x9113)
    static let planeOrientationSequence = DICOMTag(0x0020, 0x9116)
    static let pixelMeasuresSequence = DICOMTag(0x0028, 0x9110)
    // RT Structure Set (PS3.3 C.8.8.5, C.8.8.6).
    static let referencedFrameOfReferenceSequence = DICOMTag(0x3006, 0x0010)
    static let rtReferencedStudySequence = DICOMTag(0x3006, 0x0012)
    static let rtReferencedSeriesSequence = DICOMTag(0x3006, 0x0014)
    static let structureSetROISequence = DICOMTag(0x3006, 0x0020)
    static let roiNumber = DICOMTag(0x3006, 0x0022)
    static let roiName = DICOMTag(0x3006, 0x0026)
    static let roiContourSequence = DICOMTag(0x3006, 0x0039)
    static let contourSequence = DICOMTag(0x3006, 0x0040)
    static let contourGeometricType = DICOMTag(0x3006, 0x0042)
    static let contourData = DICOMTag(0x3006, 0x0050)
    static let referencedROINumber = DICOMTag(0x3006, 0x0084)
}

/// SOP classes mam-quantify reads (PS3.4 B.5).
enum DICOMSOPClass {
    static let segmentation = "1.2.840.10008.5.1.4.1.1.66.4"
    static let rtStructureSet = "1.2.840.10008.5.1.4.1.1.481.3"
    static let ctImage = "1.2.840.10008.5.1.4.1.1.2"
    static let enhancedCTImage = "1.2.840.10008.5.1.4.1.1.2.1"
}

/// A DICOM file loaded by DCMTK (through `_CDICOM`); values are read as text and checked here.
/// Every accessor returns nil for an absent element: the readers decide what is required.
final class DICOMFile {
    let path: String
    private let handle: OpaquePointer

    /// A data set or sequence item of the file; valid while the file is.
    struct Item {
        let pointer: OpaquePointer
        let file: DICOMFile

        func string(_ tag: DICOMTag) -> String? {
            guard let text = mamq_dicom_string(pointer, tag.group, tag.element) else { return nil }
            defer { free(text) }
            let value = String(cString: text).trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\0")))
            return value.isEmpty ? nil : value
        }

        /// The element's values as numbers (DS, IS and binary VRs alike); nil when absent or
        /// when some value is not a finite number.
        func numbers(_ tag: DICOMTag) -> [Double]? {
            guard let text = string(tag) else { return nil }
            var values: [Double] = []
            for part in text.split(separator: "\\", omittingEmptySubsequences: false) {
                guard let v = Double(part.trimmingCharacters(in: .whitespaces)), v.isFinite else { return nil }
                values.append(v)
            }
            return values
        }

        /// A whole number in `range`, or nil.
        func integer(_ tag: DICOMTag, in range: ClosedRange<Int>) -> Int? {
            guard let values = numbers(tag), values.count == 1, let v = values.first, v == v.rounded(),
                  abs(v) < 1e15, range.contains(Int(v)) else { return nil }
            return Int(v)
        }

        func items(_ tag: DICOMTag) -> [Item] {
            let count = mamq_dicom_item_count(pointer, tag.group, tag.element)
            return (0..<max(0, count)).compactMap { n in
                mamq_dicom_item_at(pointer, tag.group, tag.element, n).map { Item(pointer: $0, file: file) }
            }
        }

        /// The first item of a sequence, if any.
        func first(_ tag: DICOMTag) -> Item? { items(tag).first }
    }

    /// Loads `path`; `headerOnly` leaves long values (pixel data) in the file.
    init(_ path: String, headerOnly: Bool) throws(ImageIOError) {
        self.path = path
        var error = [CChar](repeating: 0, count: 256)
        guard let handle = mamq_dicom_load(path, headerOnly ? 1 : 0, &error, error.count) else {
            throw ImageIOError(path: path, problem: .notDICOM(reason: Self.text(error)))
        }
        self.handle = handle
    }

    deinit { mamq_dicom_free(handle) }

    var dataset: Item { Item(pointer: mamq_dicom_dataset(handle), file: self) }

    /// The pixel data, decompressed, as little-endian bytes (a copy).
    func pixels() throws(ImageIOError) -> [UInt8] {
        var bytes: UnsafePointer<UInt8>?
        var count = 0
        var error = [CChar](repeating: 0, count: 256)
        guard mamq_dicom_pixels(handle, &bytes, &count, &error, error.count) == 0, let bytes else {
            throw ImageIOError(path: path, problem: .badData(reason: Self.text(error)))
        }
        return [UInt8](UnsafeBufferPointer(start: bytes, count: count))
    }

    /// A C string in a buffer, up to its NUL.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True when the file has DICOM's Part 10 preamble ("DICM" at byte 128).
    static func hasPreamble(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path), let head = try? handle.read(upToCount: 132) else { return false }
        try? handle.close()
        return hasPreamble(head)
    }

    /// True when a file's first bytes are DICOM's Part 10 preamble ("DICM" at byte 128).
    static func hasPreamble(_ head: Data) -> Bool {
        head.count >= 132 && head.dropFirst(128).prefix(4).elementsEqual(Array("DICM".utf8))
    }
}

/// The image plane a DICOM frame or slice lies in (LPS, mm): the row direction (along which
/// the column index grows), the column direction and the pixel spacing (between rows, between
/// columns), as ImageOrientationPatient and PixelSpacing give them.
struct DICOMPlane {
    let rowDirection: SIMD3<Double>
    let columnDirection: SIMD3<Double>
    /// PixelSpacing: [0] between rows (along the column direction), [1] between columns.
    let spacing: (rows: Double, columns: Double)
    let rows: Int
    let columns: Int

    var normal: SIMD3<Double> { cross(rowDirection, columnDirection) }

    /// From ImageOrientationPatient and PixelSpacing; `fail` makes the error for a bad value.
    init(orientation: [Double]?, spacing: [Double]?, rows: Int, columns: Int,
         fail: (String) -> ImageIOError) throws(ImageIOError) {
        guard let o = orientation, o.count == 6 else { throw fail("no image orientation (ImageOrientationPatient with 6 values)") }
        let r = SIMD3(o[0], o[1], o[2]), c = SIMD3(o[3], o[4], o[5])
        let rn = dot(r, r).squareRoot(), cn = dot(c, c).squareRoot()
        guard abs(rn - 1) < 1e-3, abs(cn - 1) < 1e-3, abs(dot(r, c)) < 1e-3 else {
            throw fail("the image orientation's directions are not orthogonal unit vectors")
        }
        guard let s = spacing, s.count == 2, s.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw fail("no positive pixel spacing (PixelSpacing with 2 values)")
        }
        rowDirection = r / rn
        columnDirection = c / cn
        self.spacing = (s[0], s[1])
        self.rows = rows
        self.columns = columns
    }

    func sameGrid(as other: DICOMPlane) -> Bool {
        rows == other.rows && columns == other.columns
            && length(rowDirection - other.rowDirection) < 1e-4 && length(columnDirection - other.columnDirection) < 1e-4
            && abs(spacing.rows - other.spacing.rows) < 1e-4 && abs(spacing.columns - other.spacing.columns) < 1e-4
    }

    /// The grid whose slices lie at `positions` (ImagePositionPatient of each frame or slice):
    /// slices ascending along the normal, regularly spaced (by `declaredSpacing` when given,
    /// else the smallest gap), `padding` empty slices added at either end. Returns the geometry
    /// (RAS) and each position's slice. Positions must share the in-plane offset and lie on the
    /// slices within 1% of the spacing (at least 1 µm).
    func grid(positions: [SIMD3<Double>], declaredSpacing: Double?, padding: Int, source: GeometrySource,
              path: String, maxVoxels: Int, fail: (String) -> ImageIOError) throws(ImageIOError) -> (ImageGeometry, [Int]) {
        guard let first = positions.first else { throw fail("no frames or slices to place") }
        let n = normal
        let heights = positions.map { dot($0, n) }
        let inPlane = first - heights[0] * n
        let inPlaneTolerance = max(1e-3, 0.01 * min(spacing.rows, spacing.columns))
        for p in positions.dropFirst() where length(p - dot(p, n) * n - inPlane) > inPlaneTolerance {
            throw fail("frames or slices are shifted within their plane; they do not stack into one grid")
        }
        let distinct = heights.sorted().reduce(into: [Double]()) { list, h in
            if list.last.map({ h - $0 > 1e-3 }) ?? true { list.append(h) }
        }
        let gap = zip(distinct.dropFirst(), distinct).map { $0 - $1 }.min()
        let step = declaredSpacing ?? gap ?? min(spacing.rows, spacing.columns)
        guard step > 0, step.isFinite else {
            throw fail("no slice spacing")
        }
        let tolerance = max(1e-3, 0.01 * step)
        let base = distinct[0]
        var slices: [Int] = []
        for h in heights {
            let k = ((h - base) / step).rounded()
            guard abs(h - base - k * step) <= tolerance, k < 1e6 else {
                throw fail(String(format: "slices are not regularly spaced (%.4g mm steps expected)", step))
            }
            slices.append(Int(k) + padding)
        }
        let size = GridSize(columns, rows, (slices.max() ?? 0) + 1 + padding)
        guard ImageReaders.voxelCount(size, limit: maxVoxels) != nil else {
            throw ImageIOError(path: path, problem: .tooLarge(voxels: "\(size)", limit: maxVoxels))
        }
        let originLPS = inPlane + (base - Double(padding) * step) * n
        let flip = SIMD3<Double>(-1, -1, 1)
        let linear = Matrix3(columns: rowDirection * spacing.columns * flip, columnDirection * spacing.rows * flip, n * step * flip)
        let affine = Affine3D(linear: linear, translation: originLPS * flip)
        if let reason = ImageGeometry.implausibility(size: size, indexToWorld: affine) {
            throw ImageIOError(path: path, problem: .implausibleGeometry(source: source, reason: reason))
        }
        return (ImageGeometry(size: size, indexToWorld: affine), slices)
    }
}
