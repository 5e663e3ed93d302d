import MAMCore

/// Reads DICOM Segmentation objects (DICOM-SEG, as highdicom, dcmqi and clinical systems write
/// them), parsed and decompressed by DCMTK: binary (1 bit per pixel) or fractional (a voxel
/// belongs to a segment when its fraction is at least one half of MaximumFractionalValue)
/// segmentations, frames placed by their plane position and the (shared or per-frame) plane
/// orientation and pixel spacing. Each segment becomes label `SegmentNumber`, named by its
/// `SegmentLabel`; where segments overlap, a voxel goes to the segment with fewer voxels (a
/// tumour drawn over its liver keeps its voxels), as for layered .seg.nrrd files.
///
/// A SEG stores only frames that hold some segment, so its grid spans those frames' slices,
/// with one empty slice added at either end: a liver whose last frame is its own last slice is
/// then not taken for one cut by the field of view. Refused with one line: no plane
/// orientation, pixel spacing or frame positions; frames not on one regular grid; a frame
/// naming an unknown segment; pixel data shorter than the frames. See Docs/inputs.md.
struct DICOMSegReader {
    var maxVoxels: Int

    struct Header {
        var geometry: ImageGeometry
        var segments: [LabelImage.Segment]
        /// Each frame's slice and segment number.
        var frames: [(slice: Int, segment: Int)]
        var bitsAllocated: Int
        var fractionalThreshold: Int?
    }

    func fail(_ path: String, _ reason: String) -> ImageIOError {
        ImageIOError(path: path, problem: .badFormatHeader(format: .dicomSeg, reason: reason))
    }

    func readHeader(_ file: DICOMFile) throws(ImageIOError) -> Header {
        let path = file.path, data = file.dataset
        let fail = { (reason: String) in self.fail(path, reason) }
        guard let rows = data.integer(.rows, in: 1...65535), let columns = data.integer(.columns, in: 1...65535) else {
            throw fail("no valid Rows and Columns")
        }
        let frameCount = data.integer(.numberOfFrames, in: 0...(1 << 24)) ?? 1
        let bits = data.integer(.bitsAllocated, in: 1...16)
        var threshold: Int?
        switch data.string(.segmentationType)?.uppercased() {
        case "BINARY":
            guard bits == 1 else { throw fail("a binary segmentation needs BitsAllocated 1") }
        case "FRACTIONAL":
            guard bits == 8 else { throw fail("a fractional segmentation needs BitsAllocated 8") }
            let maximum = data.integer(.maximumFractionalValue, in: 1...255) ?? 255
            threshold = (maximum + 1) / 2
        case let other:
            throw fail("SegmentationType \(other.map { "'\($0)'" } ?? "absent") (BINARY or FRACTIONAL)")
        }

        var segments: [LabelImage.Segment] = []
        for item in data.items(.segmentSequence) {
            guard let number = item.integer(.segmentNumber, in: 1...65535) else { throw fail("a segment without a valid SegmentNumber") }
            guard !segments.contains(where: { $0.labelValue == number }) else { throw fail("segment number \(number) appears twice") }
            segments.append(.init(name: item.string(.segmentLabel) ?? "segment \(number)", labelValue: number))
        }
        guard !segments.isEmpty else { throw fail("no segments (SegmentSequence)") }

        let shared = data.first(.sharedFunctionalGroups)
        let perFrame = data.items(.perFrameFunctionalGroups)
        guard frameCount > 0 else { throw fail("no frames") }
        guard perFrame.count == frameCount else {
            throw fail("\(perFrame.count) per-frame functional groups for \(frameCount) frames; each frame needs its position")
        }
        // A functional group from the frame's own groups, else the shared ones.
        func group(_ frame: DICOMFile.Item, _ tag: DICOMTag) -> DICOMFile.Item? { frame.first(tag) ?? shared?.first(tag) }
        var plane: DICOMPlane?
        var declaredSpacing: Double?
        var positions: [SIMD3<Double>] = [], frameSegments: [Int] = []
        for (n, frame) in perFrame.enumerated() {
            let measures = group(frame, .pixelMeasuresSequence)
            let framePlane = try DICOMPlane(orientation: group(frame, .planeOrientationSequence)?.numbers(.imageOrientationPatient),
                                            spacing: measures?.numbers(.pixelSpacing), rows: rows, columns: columns,
                                            fail: { fail("frame \(n + 1): \($0)") })
            if let plane, !plane.sameGrid(as: framePlane) { throw fail("frame \(n + 1) has another orientation or pixel spacing") }
            plane = framePlane
            if let s = measures?.numbers(.spacingBetweenSlices)?.first, s > 0 { declaredSpacing = s }
            guard let p = group(frame, .planePositionSequence)?.numbers(.imagePositionPatient), p.count == 3 else {
                throw fail("frame \(n + 1) has no position (PlanePositionSequence)")
            }
            positions.append(SIMD3(p[0], p[1], p[2]))
            guard let segment = group(frame, .segmentIdentificationSequence)?.integer(.referencedSegmentNumber, in: 1...65535),
                  segments.contains(where: { $0.labelValue == segment }) else {
                throw fail("frame \(n + 1) names no segment of the SegmentSequence")
            }
            frameSegments.append(segment)
        }
        let (geometry, slices) = try plane!.grid(positions: positions, declaredSpacing: declaredSpacing, padding: 1,
                                                 source: .framePositions, path: path, maxVoxels: maxVoxels, fail: fail)
        return Header(geometry: geometry, segments: segments, frames: Array(zip(slices, frameSegments)),
                      bitsAllocated: bits!, fractionalThreshold: threshold)
    }

    func read(_ file: DICOMFile) throws(ImageIOError) -> LabelImage {
        let header = try readHeader(file)
        let pixels = try file.pixels()
        let size = header.geometry.size
        let plane = size.x * size.y
        let needed = header.bitsAllocated == 1 ? (header.frames.count * plane + 7) / 8 : header.frames.count * plane
        guard pixels.count >= needed else {
            throw ImageIOError(path: file.path, problem: .dataTruncated(expectedBytes: needed, availableBytes: pixels.count))
        }
        // Each frame's voxels by their index in the pixel data.
        func inside(_ frame: Int, _ pixel: Int) -> Bool {
            let n = frame * plane + pixel
            return header.fractionalThreshold.map { Int(pixels[n]) >= $0 } ?? (pixels[n >> 3] >> UInt8(n & 7) & 1 == 1)
        }
        let numbers = header.segments.map(\.labelValue)
        let segmentOfFrame = header.frames.map { frame in numbers.firstIndex(of: frame.segment)! }
        var sizes = [Int](repeating: 0, count: numbers.count)
        for f in header.frames.indices {
            for p in 0..<plane where inside(f, p) { sizes[segmentOfFrame[f]] += 1 }
        }
        // Frame by frame, never a full-size mask per segment (a SEG may hold a hundred).
        let voxels = LabelPainting.paint(labels: numbers, sizes: sizes, count: size.count) { s, fill in
            for (f, frame) in header.frames.enumerated() where segmentOfFrame[f] == s {
                for p in 0..<plane where inside(f, p) { fill(frame.slice * plane + p) }
            }
        }
        return LabelImage(path: file.path, format: .dicomSeg, geometry: header.geometry, geometrySource: .framePositions,
                          voxels: voxels, scaling: nil, segments: header.segments)
    }
}

/// Overlapping structures as one label map: the structure with fewer voxels keeps the voxels
/// it shares (the more specific one: a tumour over its liver), ties to the earlier structure.
enum LabelPainting {
    /// Structure n (`labels[n]`, `sizes[n]` voxels) is painted by `cover(n, fill)`, which calls
    /// `fill` with each of its voxels' indices; the larger structures first, so that the smaller
    /// keep what they share. uint8 when every label fits.
    static func paint(labels: [Int], sizes: [Int], count: Int, cover: (Int, (Int) -> Void) -> Void) -> VoxelArray {
        let order = labels.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 > $1 }
        var flat = [UInt16](repeating: 0, count: count)
        flat.withUnsafeMutableBufferPointer { flat in
            for n in order where sizes[n] > 0 {
                let label = UInt16(labels[n])
                cover(n) { flat[$0] = label }
            }
        }
        return (labels.max() ?? 0) <= 255 ? .uint8(flat.map { UInt8($0) }) : .uint16(flat)
    }
}
