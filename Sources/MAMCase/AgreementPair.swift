public import Foundation
import MAMAgreement
import MAMCore
import MAMImageIO

/// The JSON report of `mam-quantify agreement A B` (Docs/agreement.md; schema
/// Docs/agreement.schema.json): per label, overlap, volumes and surface distances.
public struct AgreementReport: Codable, Sendable {
    public static let currentSchemaVersion = "1.1.0"

    public struct Input: Codable, Sendable {
        /// a or b.
        public var role: String
        public var path: String
        public var sha256: String
        public var sizeVoxels: [Int]
        public var spacingMM: [Double]
        public var orientation: String
    }

    public struct LabelMetrics: Codable, Sendable {
        /// The label value (1 for a binary mask); A's when segments are paired by name.
        public var label: Int
        /// When both files name their segments (3D Slicer, DICOM-SEG, RTSTRUCT), segments are
        /// paired by name: the segment's name and B's label value for it (null without names).
        @Null public var segment: String? = nil
        @Null public var labelB: Int? = nil
        public var dice: Double
        public var jaccard: Double
        public var volumeAML: Double
        public var volumeBML: Double
        public var volumeDifferenceML: Double
        @Null public var volumeDifferencePercent: Double?
        @Null public var hausdorffMM: Double?
        @Null public var hausdorff95MM: Double?
        @Null public var averageSymmetricSurfaceDistanceMM: Double?
        @Null public var surfaceDice: Double?
        public var toleranceMM: Double
        /// Why the distances are null (an empty mask); null when they are defined.
        @Null public var distancesUndefinedReason: String?
    }

    public var schemaVersion: String
    public var tool: CaseReport.Tool
    public var inputs: [Input]
    /// True when B was resampled onto A's grid (nearest neighbour in world space).
    public var bResampledOntoA: Bool
    /// The transform file mapping A's world to B's world, when the scans differ; else null.
    @Null public var transform: String?
    public var labels: [LabelMetrics]
    public var timingsSeconds: Double
}

/// Compares two segmentation files, label by label.
public enum AgreementPair {
    /// Reads `a` and `b`, puts B on A's grid when the grids differ, and compares every label
    /// value present in either (or `labels` when given); when both files name their segments,
    /// the segments of the same name, whatever their values. Any non-zero value counts for a
    /// file with one label only.
    public static func run(a pathA: String, b pathB: String, labels wanted: [Int]?, toleranceMM: Double,
                           transformFile: String? = nil) throws(PipelineError) -> AgreementReport {
        var transform = Affine3D.identity
        if let transformFile {
            do {
                transform = try ITKTransformFile.read(transformFile)
            } catch {
                throw .input(FileManager.default.fileExists(atPath: transformFile) ? "\(error)" : "\(transformFile): no such file")
            }
        }
        let start = ContinuousClock.now
        let images: [Result<LabelImage, ImageIOError>] = concurrentMap([pathA, pathB]) { path in
            Result { () throws(ImageIOError) in try ImageReaders.read(path) }
        }
        var read: [LabelImage] = []
        for r in images {
            switch r {
            case .success(let image): read.append(image)
            case .failure(let error): throw .input(error.description)
            }
        }
        let (a, b) = (read[0], read[1])
        let countsA: [Int: Int], countsB: [Int: Int]
        do {
            countsA = try a.labelCounts()
            countsB = try b.labelCounts()
        } catch {
            throw .input(error.description)
        }
        let (valuesA, valuesB) = (nonZero(countsA), nonZero(countsB))
        // Two binary masks (at most one non-zero value each, whatever it is) compare as label 1.
        let binary = wanted == nil && valuesA.count <= 1 && valuesB.count <= 1
        let pairs: [Pair]
        if binary {
            pairs = valuesA.isEmpty && valuesB.isEmpty ? [] : [Pair(label: 1, a: valuesA, b: valuesB)]
        } else if wanted == nil, !a.segments.isEmpty, !b.segments.isEmpty {
            pairs = byName(a.segments, b.segments, present: (Set(valuesA), Set(valuesB)))
        } else {
            pairs = (wanted ?? Set(valuesA + valuesB).sorted()).map { Pair(label: $0, a: [$0], b: [$0]) }
        }
        guard !pairs.isEmpty else { throw .input("\(pathA), \(pathB): both masks are empty (no non-zero voxel)") }
        let resample = transformFile != nil || !a.geometry.isSamePhysicalSpace(as: b.geometry)
        var results: [AgreementReport.LabelMetrics] = []
        for pair in pairs {
            let label = pair.label
            let maskA = mask(a, pair.a)
            var maskB = mask(b, pair.b)
            if resample { maskB = maskB.resampled(onto: a.geometry, transform: transform, outside: false) }
            let m = SegmentationAgreement.compare(maskA, maskB, toleranceMM: toleranceMM)
            // Rounded as reports are (Rounded); a percentage to 0.001.
            results.append(.init(label: label, dice: Rounded.fraction(m.dice), jaccard: Rounded.fraction(m.jaccard),
                                 volumeAML: Rounded.ml(m.volumeAML), volumeBML: Rounded.ml(m.volumeBML),
                                 volumeDifferenceML: Rounded.ml(m.volumeDifferenceML),
                                 volumeDifferencePercent: m.volumeDifferencePercent.map { Rounded.digits($0, 3) },
                                 hausdorffMM: m.hausdorffMM.map(Rounded.mm), hausdorff95MM: m.hausdorff95MM.map(Rounded.mm),
                                 averageSymmetricSurfaceDistanceMM: m.averageSymmetricSurfaceDistanceMM.map(Rounded.mm),
                                 surfaceDice: m.surfaceDice.map(Rounded.fraction),
                                 toleranceMM: toleranceMM, distancesUndefinedReason: m.distancesUndefinedReason))
            (results[results.count - 1].segment, results[results.count - 1].labelB) = (pair.segment, pair.segment == nil ? nil : pair.b.first)
        }
        let inputs = try [("a", a), ("b", b)].map { (role, image) throws(PipelineError) -> AgreementReport.Input in
            let g = image.geometry
            let digest: String
            do { digest = try FileDigest.sha256(path: image.path) } catch { throw .input("\(image.path): cannot be read") }
            return .init(role: role, path: image.path, sha256: digest, sizeVoxels: [g.size.x, g.size.y, g.size.z],
                         spacingMM: [g.spacing.x, g.spacing.y, g.spacing.z].map { Rounded.digits($0, 6) }, orientation: g.orientationCode)
        }
        return AgreementReport(schemaVersion: AgreementReport.currentSchemaVersion,
                               tool: .current, inputs: inputs,
                               bResampledOntoA: resample, transform: transformFile, labels: results, timingsSeconds: Rounded.digits(seconds(since: start), 3))
    }

    /// What is compared: A's voxels with values `a` against B's with values `b`, reported as
    /// `label` (and `segment` when paired by name).
    struct Pair {
        var label: Int
        var a: [Int]
        var b: [Int]
        var segment: String? = nil
    }

    /// Segments paired by name (any case, spaces trimmed): each name of either file whose
    /// segment holds voxels in one of them, A's segments first (by label value), then B's
    /// others; a name only one file has is compared against nothing there.
    static func byName(_ a: [LabelImage.Segment], _ b: [LabelImage.Segment], present: (Set<Int>, Set<Int>)) -> [Pair] {
        func key(_ name: String) -> String { name.trimmingCharacters(in: .whitespaces).lowercased() }
        var pairs: [Pair] = []
        for s in a.sorted(by: { $0.labelValue < $1.labelValue }) {
            let partner = b.first { key($0.name) == key(s.name) }
            guard present.0.contains(s.labelValue) || partner.map({ present.1.contains($0.labelValue) }) == true else { continue }
            pairs.append(Pair(label: s.labelValue, a: [s.labelValue], b: partner.map { [$0.labelValue] } ?? [], segment: s.name))
        }
        for s in b.sorted(by: { $0.labelValue < $1.labelValue }) where !a.contains(where: { key($0.name) == key(s.name) })
            && present.1.contains(s.labelValue) {
            pairs.append(Pair(label: s.labelValue, a: [], b: [s.labelValue], segment: s.name))
        }
        return pairs
    }

    static func nonZero(_ counts: [Int: Int]) -> [Int] { counts.filter { $0.key != 0 && $0.value > 0 }.keys.sorted() }

    /// The voxels holding one of `values` (none when no voxel does).
    static func mask(_ image: LabelImage, _ values: [Int]) -> Mask {
        (try? image.mask(labels: Set(values))) ?? Mask(geometry: image.geometry, repeating: false)
    }
}

extension AgreementReport {
    /// The report as written: keys sorted, two-space indentation, a final newline.
    public func jsonData() throws -> Data {
        try JSONOutput.document(self)
    }
}
