import Foundation
public import MAMCore

/// Reads RT Structure Sets (RTSTRUCT): closed planar contours rasterised onto the grid of the CT
/// series they are drawn on. That series (the `RTReferencedSeriesSequence`'s SeriesInstanceUID)
/// is looked for among the DICOM files in the RTSTRUCT's folder and its subfolders, up to
/// `searchDepth` levels down. Each ROI becomes label `ROINumber`, named by `ROIName`.
///
/// Rasterisation, per ROI and slice: a voxel is inside when its centre is inside an odd number
/// of the ROI's contours on that slice (the even-odd rule, which the standard's contour
/// semantics need: an inner contour is a hole, a contour inside that an island). Contours
/// other than CLOSED_PLANAR (points, open lines), and closed ones of fewer than 3 points,
/// enclose nothing and are skipped. Where ROIs
/// overlap, the ROI with fewer voxels keeps the voxels (as for DICOM-SEG). Refused with one line:
/// no referenced series, the series not found, CT slices not on one regular grid, a contour off
/// the CT's slice planes (more than a quarter of the slice spacing) or outside its slices.
struct RTStructReader {
    var maxVoxels: Int
    var searchDepth = 2
    /// At most this many files are looked at for the CT series.
    var maxFilesSearched = 100_000

    func fail(_ path: String, _ reason: String) -> ImageIOError {
        ImageIOError(path: path, problem: .badFormatHeader(format: .rtStruct, reason: reason))
    }

    struct ROI {
        var number: Int
        var name: String
        /// Each closed contour's points (LPS, mm).
        var contours: [[SIMD3<Double>]] = []
    }

    /// The ROIs with their contours.
    func structures(_ file: DICOMFile) throws(ImageIOError) -> [ROI] {
        let path = file.path, data = file.dataset
        var rois: [ROI] = []
        for item in data.items(.structureSetROISequence) {
            guard let number = item.integer(.roiNumber, in: 1...65535) else { throw fail(path, "an ROI without a valid ROINumber (1-65535)") }
            guard !rois.contains(where: { $0.number == number }) else { throw fail(path, "ROI number \(number) appears twice") }
            rois.append(ROI(number: number, name: item.string(.roiName) ?? "ROI \(number)"))
        }
        guard !rois.isEmpty else { throw fail(path, "no ROIs (StructureSetROISequence)") }
        for item in data.items(.roiContourSequence) {
            guard let number = item.integer(.referencedROINumber, in: 1...65535),
                  let r = rois.firstIndex(where: { $0.number == number }) else {
                throw fail(path, "contours for an ROI the structure set does not list")
            }
            for contour in item.items(.contourSequence) where contour.string(.contourGeometricType)?.uppercased() == "CLOSED_PLANAR" {
                guard let values = contour.numbers(.contourData), values.count >= 3, values.count % 3 == 0 else {
                    throw fail(path, "ROI \(number) has a contour whose ContourData is not a list of points (x, y, z)")
                }
                // Points within 1 km of the origin, as voxel centres must be (a crafted 1e300 would
                // overflow the rasteriser's indices).
                guard values.allSatisfy({ abs($0) <= 1e6 }) else {
                    throw fail(path, "ROI \(number) has a contour point more than 1 km from the origin")
                }
                // One or two points (a contour traced around a single pixel) enclose no area.
                guard values.count >= 9 else { continue }
                rois[r].contours.append(stride(from: 0, to: values.count, by: 3).map { SIMD3(values[$0], values[$0 + 1], values[$0 + 2]) })
            }
        }
        return rois
    }

    /// The UID of the CT series the contours are drawn on.
    func referencedSeries(_ file: DICOMFile) throws(ImageIOError) -> String {
        let path = file.path, data = file.dataset
        let series = data.items(.referencedFrameOfReferenceSequence).flatMap { $0.items(.rtReferencedStudySequence) }
            .flatMap { $0.items(.rtReferencedSeriesSequence) }.compactMap { $0.string(.seriesInstanceUID) }
        guard let uid = series.first else {
            throw fail(path, "names no CT series (ReferencedFrameOfReferenceSequence > RTReferencedSeriesSequence)")
        }
        return uid
    }

    /// The CT series' grid: its slices (CT Image Storage files with the series UID) found near
    /// `path`, stacked along their normal.
    func referencedGrid(series uid: String, path: String) throws(ImageIOError) -> ImageGeometry {
        let folder = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        var plane: DICOMPlane?
        var positions: [SIMD3<Double>] = []
        var searched = 0
        for candidate in Self.files(in: folder, depth: searchDepth) where candidate != path {
            searched += 1
            guard searched <= maxFilesSearched else { break }
            guard DICOMFile.hasPreamble(candidate), let slice = try? DICOMFile(candidate, headerOnly: true) else { continue }
            let data = slice.dataset
            guard data.string(.seriesInstanceUID) == uid else { continue }
            let fail = { (reason: String) in self.fail(path, "CT slice \(candidate): \(reason)") }
            guard let rows = data.integer(.rows, in: 1...65535), let columns = data.integer(.columns, in: 1...65535) else {
                throw fail("no valid Rows and Columns")
            }
            let slicePlane = try DICOMPlane(orientation: data.numbers(.imageOrientationPatient), spacing: data.numbers(.pixelSpacing),
                                            rows: rows, columns: columns, fail: fail)
            if let plane, !plane.sameGrid(as: slicePlane) { throw fail("another size, orientation or pixel spacing than the series' other slices") }
            plane = slicePlane
            guard let p = data.numbers(.imagePositionPatient), p.count == 3 else { throw fail("no ImagePositionPatient") }
            positions.append(SIMD3(p[0], p[1], p[2]))
        }
        guard let plane else { throw ImageIOError(path: path, problem: .missingReferencedSeries(uid: uid, folder: folder)) }
        let heights = positions.map { dot($0, plane.normal) }.sorted()
        if zip(heights.dropFirst(), heights).contains(where: { $0 - $1 < 1e-3 }) {
            throw fail(path, "the CT series \(uid) holds two slices at one position")
        }
        return try plane.grid(positions: positions, declaredSpacing: nil, padding: 0, source: .referencedSeries, path: path,
                              maxVoxels: maxVoxels, fail: { self.fail(path, "the CT series \(uid): \($0)") }).0
    }

    /// Regular files under `folder`, `depth` levels of subfolders down, in name order.
    static func files(in folder: String, depth: Int) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var result: [String] = [], folders: [String] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let full = (folder as NSString).appendingPathComponent(name)
            var status = stat()
            guard stat(full, &status) == 0 else { continue }
            if status.st_mode & S_IFMT == S_IFREG { result.append(full) } else if status.st_mode & S_IFMT == S_IFDIR { folders.append(full) }
        }
        if depth > 0 { for sub in folders { result += files(in: sub, depth: depth - 1) } }
        return result
    }

    func geometry(_ file: DICOMFile) throws(ImageIOError) -> ImageGeometry {
        try referencedGrid(series: try referencedSeries(file), path: file.path)
    }

    func read(_ file: DICOMFile) throws(ImageIOError) -> LabelImage {
        let rois = try structures(file)
        let geometry = try referencedGrid(series: try referencedSeries(file), path: file.path)
        // Each ROI as runs of voxels along rows (an RTSTRUCT may hold fifty organs: no full-size mask each).
        let runs = try rois.map { roi throws(ImageIOError) in try rasterise(roi, on: geometry, path: file.path) }
        let voxels = LabelPainting.paint(labels: rois.map(\.number), sizes: runs.map { $0.reduce(0) { $0 + $1.count } },
                                         count: geometry.size.count) { n, fill in
            for run in runs[n] { for v in run { fill(v) } }
        }
        return LabelImage(path: file.path, format: .rtStruct, geometry: geometry, geometrySource: .referencedSeries,
                          voxels: voxels, scaling: nil, segments: rois.map { .init(name: $0.name, labelValue: $0.number) })
    }

    /// `v` to the nearest millionth of a voxel: contours are often drawn through voxel centres
    /// (OpenCV's tracing, as rt-utils uses it), and which side of a crossing a centre falls on
    /// must not be decided by the rounding of the world-to-index arithmetic.
    static func snapped(_ v: Double) -> Double { (v * 1e6).rounded() / 1e6 }

    /// The voxels inside `roi` by the even-odd rule, slice by slice, as runs of linear voxel
    /// indices along rows (empty: none). On a row, a
    /// centre at x is inside between crossings x0 < x <= x1 (the scanline convention of
    /// plastimatch's rasteriser, whose `--xor-contours` masks the tests compare with).
    func rasterise(_ roi: ROI, on geometry: ImageGeometry, path: String) throws(ImageIOError) -> [Range<Int>] {
        guard !roi.contours.isEmpty else { return [] }
        let size = geometry.size
        let lpsToIndex = geometry.worldToIndex * Affine3D(linear: .diagonal(SIMD3(-1, -1, 1)), translation: .zero)
        // Each slice's edges in index coordinates (i, j).
        var edges: [Int: [(SIMD2<Double>, SIMD2<Double>)]] = [:]
        for (c, contour) in roi.contours.enumerated() {
            let points = contour.map { lpsToIndex.apply($0) }
            let k = (points.map(\.z).reduce(0, +) / Double(points.count)).rounded()
            guard points.allSatisfy({ abs($0.z - k) <= 0.25 }) else {
                throw fail(path, "ROI \(roi.number) (\(roi.name)): contour \(c + 1) does not lie on a slice of the CT series")
            }
            guard k >= 0, k < Double(size.z) else {
                throw fail(path, "ROI \(roi.number) (\(roi.name)): contour \(c + 1) lies outside the CT series' slices")
            }
            let flat = points.map { SIMD2(Self.snapped($0.x), Self.snapped($0.y)) }
            for n in flat.indices { edges[Int(k), default: []].append((flat[n], flat[(n + 1) % flat.count])) }
        }
        var runs: [Range<Int>] = []
        var crossings: [Double] = []
        for (k, sliceEdges) in edges {
            for j in 0..<size.y {
                let y = Double(j)
                crossings.removeAll(keepingCapacity: true)
                // An edge counts once for a row when it spans it half-open ([low, high)), so a
                // vertex on the row is crossed once, not twice.
                for (a, b) in sliceEdges where (a.y <= y) != (b.y <= y) {
                    crossings.append(Self.snapped(a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)))
                }
                guard crossings.count >= 2 else { continue }
                crossings.sort()
                let row = size.x * (j + size.y * k)
                // Inside between each odd crossing and the next: centres x0 < i <= x1.
                for pair in stride(from: 0, to: crossings.count - 1, by: 2) {
                    let first = max(0, Int((crossings[pair]).rounded(.down)) + 1)
                    let last = min(size.x - 1, Int(crossings[pair + 1].rounded(.down)))
                    if first <= last { runs.append((row + first)..<(row + last + 1)) }
                }
            }
        }
        return runs
    }
}

/// DICOM segmentations (DICOM-SEG, RTSTRUCT), told apart by their SOP class.
public struct DICOMReader: Sendable {
    public var maxVoxels: Int

    public init(maxVoxels: Int = 1 << 28) {
        self.maxVoxels = maxVoxels
    }

    /// The file, loaded, and which of the two it is.
    private func open(_ path: String, headerOnly: Bool) throws(ImageIOError) -> (DICOMFile, ImageFormat) {
        try ImageReaders.checkFile(path)
        let file = try DICOMFile(path, headerOnly: headerOnly)
        let sopClass = file.dataset.string(.sopClassUID) ?? "none"
        switch sopClass {
        case DICOMSOPClass.segmentation: return (file, .dicomSeg)
        case DICOMSOPClass.rtStructureSet: return (file, .rtStruct)
        default:
            throw ImageIOError(path: path, problem: .notASegmentation(modality: file.dataset.string(.modality) ?? "unknown", sopClass: sopClass))
        }
    }

    public func read(_ path: String) throws(ImageIOError) -> LabelImage {
        let (file, format) = try open(path, headerOnly: false)
        return format == .dicomSeg ? try DICOMSegReader(maxVoxels: maxVoxels).read(file) : try RTStructReader(maxVoxels: maxVoxels).read(file)
    }

    public func geometry(_ path: String) throws(ImageIOError) -> ImageGeometry {
        let (file, format) = try open(path, headerOnly: true)
        return format == .dicomSeg ? try DICOMSegReader(maxVoxels: maxVoxels).readHeader(file).geometry
            : try RTStructReader(maxVoxels: maxVoxels).geometry(file)
    }
}
