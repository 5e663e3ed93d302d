import Foundation
import MAMCore
import MAMImageIO
import MAMMargin
import MAMRegistration

/// A case's files, read and hashed.
struct Inputs {
    struct File {
        let role: CaseRequest.FileRole
        let path: String
        let sha256: String
        let sizeBytes: Int
        /// The image, until its voxels are let go (`releasingVoxels`); nil for a transform file.
        var image: LabelImage?
        /// What the report says of the image (kept when its voxels are let go).
        let format: ImageFormat?
        let datatype: NIfTIDatatype?
        let geometry: ImageGeometry?
        let geometrySource: GeometrySource?
    }

    private(set) var files: [File]
    let transform: Affine3D?
    let images: CaseRequest.Images

    /// The files named in messages about the pre and post side as a whole.
    var preFile: String {
        switch images {
        case .labelMaps(let pre, _): return pre
        case .structures(_, let tumour, _, _): return tumour
        }
    }

    var postFile: String {
        switch images {
        case .labelMaps(_, let post): return post
        case .structures(_, _, _, let zone): return zone
        }
    }

    func image(_ role: CaseRequest.FileRole) -> LabelImage? { files.first { $0.role == role }?.image }

    /// The same inputs without their images' voxels: once the masks are made, nothing reads
    /// them again, and two CT-sized label maps hold about 160 MB.
    func releasingVoxels() -> Inputs {
        var inputs = self
        for n in inputs.files.indices { inputs.files[n].image = nil }
        return inputs
    }

    /// Reads every image and the transform file at once, with their SHA-256 digests.
    static func load(_ request: CaseRequest) throws(PipelineError) -> Inputs {
        var named = request.images.files
        if case .transformFile(let path) = request.alignment { named.append((.transform, path)) }

        let results = concurrentMap(named) { role, path -> Result<(File, Affine3D?), PipelineError> in
            do {
                var image: LabelImage?
                var transform: Affine3D?
                if role == .transform {
                    guard FileManager.default.fileExists(atPath: path) else {
                        return .failure(.input("\(path): file not found"))
                    }
                    transform = try ITKTransformFile.read(path)
                } else {
                    image = try ImageReaders.read(path)
                }
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                let file = File(role: role, path: path, sha256: try FileDigest.sha256(path: path), sizeBytes: size, image: image,
                                format: image?.format, datatype: image?.datatype, geometry: image?.geometry,
                                geometrySource: image?.geometrySource)
                return .success((file, transform))
            } catch let error as ImageIOError {
                return .failure(.input(error.description))
            } catch let error as ITKTransformFile.FormatError {
                return .failure(.input(error.description))
            } catch {
                return .failure(.input("\(path): cannot be read (\(fileSystemReason(error)))"))
            }
        }
        var files: [File] = []
        var transform: Affine3D?
        for result in results {
            switch result {
            case .success(let (file, t)):
                files.append(file)
                if let t { transform = t }
            case .failure(let error):
                throw error
            }
        }
        return Inputs(files: files, transform: transform, images: request.images)
    }

    /// The masks the protocol's labels select (label maps) or the files' non-zero voxels.
    func masks(_ proto: AnalysisProtocol, needLivers: Bool) throws(PipelineError) -> Masks {
        switch images {
        case .labelMaps(let prePath, let postPath):
            let pre = image(.pre)!, post = image(.post)!
            // Label values, or the values of the segments the protocol names (.seg.nrrd).
            let labels = proto.labels.resolved(pre: pre.segments.map { ($0.name, $0.labelValue) },
                                               post: post.segments.map { ($0.name, $0.labelValue) })
            for (file, a, b) in [(prePath, labels.preLiver, labels.preTumour), (postPath, labels.postLiver, labels.postAblationZone)]
            where !Set(a).isDisjoint(with: b) {
                throw PipelineError.input("\(file): the protocol's segment names give the liver and the lesion the same label value")
            }
            // Four masks, each cropped to its structure with the room every later stage needs
            // (never a whole-grid mask), both files at once. Tumour and zone voxels count as liver.
            let liverPad = RigidRegistration.liverCropMarginVoxels
            let jobs: [(LabelImage, [LabelImage.CropRequest])] = [
                (pre, [.init(labels: Set(labels.preTumour),
                             padVoxels: MarginEngine.cropMarginVoxels(proto.margin, spacing: pre.geometry.spacing)),
                       .init(labels: Set(labels.preLiver + labels.preTumour), padVoxels: liverPad)]),
                (post, [.init(labels: Set(labels.postAblationZone), padVoxels: MarginEngine.zoneCropMarginVoxels),
                        .init(labels: Set(labels.postLiver + labels.postAblationZone), padVoxels: liverPad)]),
            ]
            let made = concurrentMap(jobs) { image, requests in image.croppedMasks(requests) }
            let tumour = try Self.required(made[0][0], prePath, "tumour", labels.preTumour, segments: pre.segments)
            let zone = try Self.required(made[1][0], postPath, "ablation zone", labels.postAblationZone, segments: post.segments)
            // A liver mask only when the liver label is there (more voxels than the lesions).
            var preLiver = try? made[0][1].get()
            var postLiver = try? made[1][1].get()
            if let liver = preLiver, liver.count == tumour.count { preLiver = nil }
            if let liver = postLiver, liver.count == zone.count { postLiver = nil }
            if needLivers {
                guard preLiver != nil else { throw Self.absent(pre, "liver", labels.preLiver) }
                guard postLiver != nil else { throw Self.absent(post, "liver", labels.postLiver) }
            }
            return Masks(tumour: tumour, tumourImage: pre, tumourLabels: labels.preTumour, zone: zone,
                         preLiver: preLiver, postLiver: postLiver, postGrid: post.geometry)

        case .structures(let preLiverPath, let tumourPath, let postLiverPath, let zonePath):
            let tumourImage = image(.preTumour)!
            let tumour = try Self.nonZero(tumourImage, "tumour")
            let zone = try Self.nonZero(image(.postAblationZone)!, "ablation zone")
            if needLivers {
                guard preLiverPath != nil, postLiverPath != nil else {
                    throw PipelineError(stage: .input, kind: .badUsage,
                                        message: "registration needs both livers: give --pre-liver and --post-liver, or --no-registration / --transform")
                }
            }
            var preLiver = try image(.preLiver).map { (i) throws(PipelineError) in try Self.nonZero(i, "liver") }
            var postLiver = try image(.postLiver).map { (i) throws(PipelineError) in try Self.nonZero(i, "liver") }
            // Tumour and zone voxels count as liver.
            if let liver = preLiver {
                try Self.sameGrid(liver, preLiverPath!, tumour, tumourPath)
                preLiver = Mask(geometry: liver.geometry, voxels: zip(liver.voxels, tumour.voxels).map { $0 || $1 })
            }
            if let liver = postLiver {
                try Self.sameGrid(liver, postLiverPath!, zone, zonePath)
                postLiver = Mask(geometry: liver.geometry, voxels: zip(liver.voxels, zone.voxels).map { $0 || $1 })
            }
            let values = (try? tumourImage.labelCounts().keys.filter { $0 != 0 }.sorted()) ?? []
            return Masks(tumour: tumour, tumourImage: tumourImage, tumourLabels: values, zone: zone,
                         preLiver: preLiver, postLiver: postLiver, postGrid: zone.geometry)
        }
    }

    static func required(_ made: Result<Mask, ImageIOError>, _ path: String, _ structure: String,
                         _ labels: [Int], segments: [LabelImage.Segment] = []) throws(PipelineError) -> Mask {
        switch made {
        case .success(let mask): return mask
        case .failure(let error):
            if case .labelAbsent(_, let present) = error.problem {
                throw .input("\(path): no \(structure): \(labelList(labels)) absent (labels present: "
                    + "\(present.map(String.init).joined(separator: ", "))\(segmentList(segments)))")
            }
            throw .input(error.description)
        }
    }

    static func absent(_ image: LabelImage, _ structure: String, _ labels: [Int]) -> PipelineError {
        let present = (try? image.labelCounts().keys.sorted()) ?? []
        return .input("\(image.path): no \(structure): \(labelList(labels)) absent (labels present: "
            + "\(present.map(String.init).joined(separator: ", "))\(segmentList(image.segments)))")
    }

    /// "; segments: "Liver" = 7, ..." for a file that names its segments (which the protocol's
    /// names did not match), else nothing.
    static func segmentList(_ segments: [LabelImage.Segment]) -> String {
        segments.isEmpty ? "" : "; segments: " + segments.map { "\"\($0.name)\" = \($0.labelValue)" }.joined(separator: ", ")
            + ", none named as the protocol's names for it"
    }

    static func labelList(_ labels: [Int]) -> String {
        labels.count == 1 ? "label \(labels[0]) is" : "labels \(labels.map(String.init).joined(separator: ", ")) are"
    }

    /// The non-zero voxels of a per-structure mask file.
    static func nonZero(_ image: LabelImage, _ structure: String) throws(PipelineError) -> Mask {
        do {
            let present = try image.labelCounts().filter { $0.key != 0 && $0.value > 0 }.keys
            guard !present.isEmpty else { throw PipelineError.input("\(image.path): the \(structure) mask is empty (no non-zero voxel)") }
            return try image.mask(labels: Set(present))
        } catch let error as ImageIOError {
            throw .input(error.description)
        } catch let error as PipelineError {
            throw error
        } catch {
            throw .input("\(image.path): \(error)")
        }
    }

    static func sameGrid(_ a: Mask, _ aPath: String, _ b: Mask, _ bPath: String) throws(PipelineError) {
        guard a.geometry.isSamePhysicalSpace(as: b.geometry) else {
            throw .input("\(aPath), \(bPath): the masks are not on the same grid (\(a.geometry) vs \(b.geometry))")
        }
    }
}

/// The structures of one case, each on its scan's grid or a crop of it.
struct Masks {
    let tumour: Mask
    /// The image the tumours come from (for separation by label value); nil once the tumour
    /// masks are made (`releasingImage`).
    private(set) var tumourImage: LabelImage?
    let tumourLabels: [Int]
    let zone: Mask
    let preLiver: Mask?
    let postLiver: Mask?
    /// The post scan's whole grid (where its field of view ends; the zone is a crop of it).
    let postGrid: ImageGeometry

    /// One mask per tumour (crops of the pre grid with room for every figure), with its label
    /// value when the protocol separates tumours by label; tumour components below the
    /// protocol's minimum volume are set aside (their voxel counts returned). Only specks: an
    /// error naming `file`.
    /// The same masks without the tumours' image (see `Inputs.releasingVoxels`).
    func releasingImage() -> Masks {
        var masks = self
        masks.tumourImage = nil
        return masks
    }

    func tumourMasks(_ proto: AnalysisProtocol, file: String) throws(PipelineError) -> (tumours: [(label: Int?, mask: Mask)], setAside: [Int]) {
        let result: (tumours: [(label: Int?, mask: Mask)], setAside: [Int])
        switch proto.tumours {
        case .components:
            let (parts, setAside) = MarginEngine.separateTumours(tumour, settings: proto.margin)
            result = (parts.map { (nil, $0) }, setAside)
        case .labels:
            let byLabel: [(label: Int, mask: Mask)]
            do {
                byLabel = try tumourImage!.masks(byLabel: tumourLabels)
            } catch {
                throw .input(error.description)
            }
            var kept: [(label: Int?, mask: Mask)] = []
            var setAside: [Int] = []
            for (label, mask) in byLabel {
                let (cleaned, removed) = MarginEngine.removingSpecks(mask, settings: proto.margin)
                setAside += removed
                if cleaned.count > 0 { kept.append((label, cleaned)) }
            }
            result = (kept, setAside.sorted(by: >))
        }
        if result.tumours.isEmpty, let largest = result.setAside.first {
            let components = result.setAside.count == 1 ? "1 component" : "\(result.setAside.count) components"
            throw .input("\(file): the tumour holds only specks (\(components) of at most "
                + "\(Self.millilitres(largest, tumour.geometry)), below the protocol's minimum of "
                + "\(formatMM(proto.margin.minimumComponentML)) mL)")
        }
        return result
    }

    /// A voxel count of `grid` in mL, for messages.
    static func millilitres(_ voxels: Int, _ grid: ImageGeometry) -> String {
        String(format: "%.3g mL", Double(voxels) * grid.voxelVolumeML)
    }

    /// The warning for specks set aside from `structure`, nil when there were none.
    static func specksWarning(_ structure: String, _ voxels: [Int], _ grid: ImageGeometry, minimumML: Double) -> String? {
        guard let largest = voxels.max() else { return nil }
        let total = voxels.reduce(0, +)
        let what = voxels.count == 1 ? "1 component" : "\(voxels.count) components"
        return "\(structure): \(what) below the minimum of \(formatMM(minimumML)) mL set aside as specks "
            + "(largest \(millilitres(largest, grid)), \(millilitres(total, grid)) in all): check the segmentation"
    }
}
