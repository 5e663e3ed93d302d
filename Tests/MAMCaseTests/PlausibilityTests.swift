import Foundation
import MAMCase
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

/// The careless-input findings of the 0.6.0 audit (each gave exit 0 with a plausible number and
/// no word): now the number comes with a warning naming the likely mistake.
@Suite("Implausible inputs are measured with a warning")
final class PlausibilityTests {
    let folder: TemporaryFolder
    let sample = SampleCase.sphere5mm
    static let iamcomplete = AnalysisProtocol.builtIn("iamcomplete")!

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    func run(_ pre: String, _ post: String) throws -> CaseReport {
        try CasePipeline.run(CaseRequest(caseId: "p", images: .labelMaps(pre: pre, post: post),
                                         analysisProtocol: Self.iamcomplete)).report
    }

    func write(_ labels: Volume<UInt8>, _ name: String) throws -> String {
        let path = folder.file(name)
        try NIfTIWriter.write(labels, to: path)
        return path
    }

    /// The sphere sample (1 mm grid; a 65 x 55 x 45 mm liver, a 10 mm tumour in a 15 mm zone
    /// centred at (12, -8, 5) mm) with every length multiplied by `factor`: a wrong spacing.
    func sphereSample(scaledBy factor: Double) -> SampleCase {
        var scaled = sample
        let g = sample.preGeometry
        scaled.preGeometry = ImageGeometry(size: g.size, spacing: SIMD3(repeating: factor), origin: g.origin * factor)
        scaled.postGeometry = scaled.preGeometry
        scaled.liver = [.ellipsoid(center: .zero, radii: SIMD3(65, 55, 45) * factor, axes: .identity)]
        scaled.tumours = [.sphere(center: SIMD3(12, -8, 5) * factor, radius: 10 * factor)]
        scaled.ablationZones = [.sphere(center: SIMD3(12, -8, 5) * factor, radius: 15 * factor)]
        return scaled
    }

    @Test("the clean sample raises none of these warnings")
    func clean() throws {
        let report = try run(try write(sample.preLabels, "pre.nii.gz"), try write(sample.postLabels, "post.nii.gz"))
        #expect(report.warnings.allSatisfy { $0.contains("category uncertain") }, "\(report.warnings)")
    }

    @Test("the same file as pre and post: a warning; the registration of a scan onto itself is the identity")
    func identical() throws {
        let pre = try write(sample.preLabels, "pre.nii.gz")
        let report = try run(pre, pre)
        #expect(report.warnings.contains("\(pre), \(pre): the pre- and post-ablation inputs are identical (same SHA-256): the same file given twice?"))
        #expect(report.registration.verdict == "accepted")
        // Exactly the identity (ICP alone settled up to 0.08 mm away at the liver's corners).
        #expect(report.registration.preToPostMM == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]])
        #expect(report.registration.quality?.iterations == 0)
    }

    @Test("pre and post swapped: the tumour is larger than the zone and not covered, a warning says so")
    func swapped() throws {
        let report = try run(try write(sample.postLabels, "post.nii.gz"), try write(sample.preLabels, "pre.nii.gz"))
        #expect(report.warnings.contains { $0.hasPrefix("tumour 1 (14.15 mL) is larger than the ablation zone (4.17 mL)")
            && $0.hasSuffix("are the pre- and post-ablation files swapped?") })
    }

    @Test("a tumour and a zone outside their livers: a warning for each")
    func outsideTheLiver() throws {
        var outside = sample
        // (55, 45, 30) mm lies outside the 65 x 55 x 45 mm liver ellipsoid, inside the grid.
        outside.tumours = [.sphere(center: SIMD3(55, 45, 30), radius: 5)]
        outside.ablationZones = [.sphere(center: SIMD3(55, 45, 30), radius: 9)]
        let report = try run(try write(outside.preLabels, "pre.nii.gz"), try write(outside.postLabels, "post.nii.gz"))
        #expect(report.warnings.contains { $0.hasPrefix("tumour 1: 0% of its border lies in the pre-ablation liver") })
        #expect(report.warnings.contains { $0.hasPrefix("ablation zone: 0% of its border lies in the post-ablation liver") })
        // The margin is measured all the same: the numbers could be real.
        #expect(report.tumours.first?.minimalMarginMM != nil)
    }

    @Test("a tumour label covering the whole liver: a warning")
    func tumourIsTheLiver() throws {
        // All of the liver but a slab 5 mm thick at its right end (x > 60 mm).
        var pre = sample.preLabels
        let g = pre.geometry
        for k in 0..<g.size.z {
            for j in 0..<g.size.y {
                for i in 0..<g.size.x where pre[i, j, k] == SampleCase.liverLabel && g.world(atIndex: SIMD3(Double(i), Double(j), Double(k))).x < 60 {
                    pre[i, j, k] = SampleCase.lesionLabel
                }
            }
        }
        let report = try run(try write(pre, "pre.nii.gz"), try write(sample.postLabels, "post.nii.gz"))
        #expect(report.warnings.contains { $0.hasPrefix("the tumours take 9") && $0.contains("% of the pre-ablation liver") })
    }

    @Test("a wrong voxel spacing (3 mm for 1 mm): an 18 L liver, a warning")
    func implausibleVolume() throws {
        // The liver: 4/3 pi x 195 x 165 x 135 mm^3 = 18.2 L, so its warning reads "18..." mL.
        let scaled = sphereSample(scaledBy: 3)
        let report = try run(try write(scaled.preLabels, "pre.nii.gz"), try write(scaled.postLabels, "post.nii.gz"))
        #expect(report.warnings.contains { $0.hasPrefix("the pre-ablation liver measures 18") && $0.hasSuffix("check its label and the voxel spacing") })
    }

    @Test("a 100 mm grid spanning 14 m (the coarsest accepted): measured with warnings, no crash or blow-up")
    func coarsestGrid() throws {
        // The thinning cells of the surface sampling (2 mm) over 14 m asked for 170 GB as a
        // dense grid; the occupied cells are a set beyond 2^27.
        let scaled = sphereSample(scaledBy: 100)
        let report = try run(try write(scaled.preLabels, "pre.nii.gz"), try write(scaled.postLabels, "post.nii.gz"))
        #expect(report.tumours.count == 1)
        #expect(report.warnings.contains { $0.hasPrefix("the pre-ablation liver measures ") })
        #expect(report.warnings.contains { $0.hasPrefix("tumour 1 measures ") })
    }
}
