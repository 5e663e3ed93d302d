import Foundation
import MAMCase
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

/// Specks in the masks (the 0.6.0 audit: one ablated voxel just outside the zone lowered the
/// sphere sample's MAM from 4.81 to 4.57 mm; 3,000 noise voxels in the tumour label made 2,825
/// one-voxel "tumours"): set aside with a warning, the figures as without them.
@Suite("Specks are set aside, with a warning")
final class SpeckTests {
    let folder: TemporaryFolder
    let sample = SampleCase.sphere5mm
    static let iamcomplete = AnalysisProtocol.builtIn("iamcomplete")!

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    func run(pre: Volume<UInt8>, post: Volume<UInt8>, _ name: String) throws -> CaseReport {
        let prePath = folder.file("\(name)-pre.nii.gz")
        let postPath = folder.file("\(name)-post.nii.gz")
        try NIfTIWriter.write(pre, to: prePath)
        try NIfTIWriter.write(post, to: postPath)
        return try CasePipeline.run(CaseRequest(caseId: name, images: .labelMaps(pre: prePath, post: postPath),
                                                analysisProtocol: Self.iamcomplete)).report
    }

    /// `labels` with `count` voxels, drawn uniformly over the grid, set to the lesion label.
    func noisy(_ labels: Volume<UInt8>, count: Int, seed: UInt64) -> Volume<UInt8> {
        var g = SeededGenerator(seed: seed)
        var result = labels
        for _ in 0..<count {
            let v = Int.random(in: 0..<labels.geometry.size.count, using: &g)
            result.voxels[v] = SampleCase.lesionLabel
        }
        return result
    }

    lazy var clean: CaseReport? = try? run(pre: sample.preLabels, post: sample.postLabels, "clean")

    @Test("one ablated voxel 2 mm outside the zone: the MAM within 0.05 mm of the clean one, a warning")
    func oneSpeck() throws {
        let cleanMAM = try #require(clean?.tumours.first?.minimalMarginMM)
        #expect(clean?.warnings.contains { $0.contains("specks") } == false)
        var post = sample.postLabels
        // The zone is a 15 mm sphere about the tumour's centre: a voxel at 17 mm, one empty
        // voxel away from the zone's outermost ones, is a separate component.
        guard case .sphere(let zoneCentre, let radius) = sample.ablationZones[0], radius == 15 else {
            Issue.record("the sphere sample's zone is no longer a 15 mm sphere")
            return
        }
        let centre = post.geometry.index(atWorld: zoneCentre + SIMD3(17, 0, 0))
        post[Int(centre.x.rounded()), Int(centre.y.rounded()), Int(centre.z.rounded())] = SampleCase.lesionLabel
        let report = try run(pre: sample.preLabels, post: post, "one")
        let mam = try #require(report.tumours.first?.minimalMarginMM)
        // 0.05 mm: the issue's bound; the fits do not see the speck at all, so any difference
        // would come from the speck alone.
        #expect(abs(mam - cleanMAM) <= 0.05, "MAM \(mam) mm, clean \(cleanMAM) mm")
        #expect(report.warnings.contains { $0.hasPrefix("ablation zone: 1 component below the minimum of 0.02 mL set aside as specks") })
    }

    @Test("3,000 noise voxels in the ablation-zone label: the MAM within 0.05 mm of the clean one, a warning")
    func noisyZone() throws {
        let cleanMAM = try #require(clean?.tumours.first?.minimalMarginMM)
        let report = try run(pre: sample.preLabels, post: noisy(sample.postLabels, count: 3000, seed: 11), "zone")
        let mam = try #require(report.tumours.first?.minimalMarginMM)
        #expect(abs(mam - cleanMAM) <= 0.05, "MAM \(mam) mm, clean \(cleanMAM) mm")
        #expect(report.warnings.contains { $0.hasPrefix("ablation zone: ") && $0.contains("set aside as specks") })
    }

    @Test("3,000 noise voxels in the tumour label: still one tumour, a warning naming the specks")
    func noisyTumour() throws {
        let report = try run(pre: noisy(sample.preLabels, count: 3000, seed: 12), post: sample.postLabels, "tumour")
        #expect(report.tumours.count == 1)
        #expect(report.warnings.contains { $0.hasPrefix("pre-ablation tumour mask: ") && $0.contains("set aside as specks") })
    }

    @Test("a tumour label of specks only is an input error naming the file")
    func onlySpecks() throws {
        var pre = sample.preLabels
        for v in pre.voxels.indices where pre.voxels[v] == SampleCase.lesionLabel { pre.voxels[v] = SampleCase.liverLabel }
        pre = noisy(pre, count: 5, seed: 13)
        #expect {
            _ = try self.run(pre: pre, post: self.sample.postLabels, "specks")
        } throws: { error in
            guard let error = error as? PipelineError else { return false }
            return error.kind == .invalidInput && error.message.contains("specks-pre.nii.gz: the tumour holds only specks (5 components")
        }
    }
}
