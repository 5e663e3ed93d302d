import Foundation
import MAMCase
import MAMTestSupport
import Testing

/// One case through the library, without the command line: the stages, the report, and
/// failures as kinds (the command line maps kinds to exit codes).
@Suite("Case pipeline")
struct CasePipelineTests {
    static let iamcomplete = AnalysisProtocol.builtIn("iamcomplete")!
    static func sample(_ name: String) -> (pre: String, post: String) {
        let folder = packageRoot.appendingPathComponent("SampleCases/\(name)").path
        return (folder + "/pre.nii.gz", folder + "/post.nii.gz")
    }

    @Test("a sample case: registered, measured within tolerance, inputs recorded with their digests")
    func sampleCase() throws {
        let (pre, post) = Self.sample("sphere-5mm")
        let request = CaseRequest(caseId: "s", images: .labelMaps(pre: pre, post: post), analysisProtocol: Self.iamcomplete)
        let result = try CasePipeline.run(request)
        let report = result.report
        #expect(report.registration.method == .rigidICP && report.registration.verdict == "accepted")
        // Analytic 5 mm; 0.5 mm is the margin engine's tolerance on 1 mm grids.
        let mam = try #require(report.tumours.first?.minimalMarginMM)
        #expect(abs(mam - 5) <= 0.5, "MAM \(mam)")
        #expect(report.inputs.map(\.role) == ["pre", "post"])
        // The zone is a ball of 30 mm diameter on a 1 mm grid: each axis within the voxel
        // width (1 mm) the measurement allows (PrincipalExtentsTests), sphericity near 1.
        let zone = report.ablationZone
        for axis in [zone.longAxisMM, zone.shortAxisMM, zone.thirdAxisMM] {
            #expect(axis.map { abs($0 - 30) <= 1 } == true, "axis \(String(describing: axis))")
        }
        #expect(zone.sphericityIndex.map { $0 >= 29 / 31 && $0 <= 1 } == true)
        #expect(zone.longAxisDirection.map { abs(hypot(hypot($0[0], $0[1]), $0[2]) - 1) < 1e-3 } == true)
        #expect(try report.inputs.map(\.sha256) == [FileDigest.sha256(path: pre), FileDigest.sha256(path: post)])
        // The same request twice: the same figures (timings aside).
        var again = try CasePipeline.run(request).report
        again.timingsSeconds = report.timingsSeconds
        again.run = report.run
        #expect(again == report)
    }

    @Test("without registration the transform is the identity, and the report says so")
    func identity() throws {
        let (pre, post) = Self.sample("oblique-anisotropic")
        let request = CaseRequest(caseId: "o", images: .labelMaps(pre: pre, post: post), alignment: .identity,
                                  analysisProtocol: Self.iamcomplete)
        let report = try CasePipeline.run(request).report
        #expect(report.registration.method == RegistrationMethod.none)
        #expect(report.registration.translationMM == [0, 0, 0] && report.registration.rotationDegrees == 0)
        #expect(report.registration.reasons == ["the masks were taken as co-registered: no registration ran"])
    }

    @Test("failures are kinds, stages and one line naming the file")
    func failureKinds() throws {
        let (pre, post) = Self.sample("sphere-5mm")
        let missing = "/nonexistent/pre.nii.gz"
        #expect(throws: PipelineError(stage: .input, kind: .invalidInput, message: "\(missing): no such file")) {
            try CasePipeline.run(CaseRequest(caseId: "m", images: .labelMaps(pre: missing, post: post),
                                             analysisProtocol: Self.iamcomplete))
        }
        // Registration asked for, but no liver masks given: a usage error.
        let noLivers = CaseRequest(caseId: "n", images: .structures(preLiver: nil, preTumour: pre, postLiver: nil, postAblationZone: post),
                                   analysisProtocol: Self.iamcomplete)
        do {
            _ = try CasePipeline.run(noLivers)
            Issue.record("expected a usage error")
        } catch {
            #expect(error.kind == .badUsage && error.stage == .input)
        }
        // An output folder that is a file: cannot write.
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        #expect(FileManager.default.createFile(atPath: folder.file("taken"), contents: Data()))
        let result = try CasePipeline.run(CaseRequest(caseId: "w", images: .labelMaps(pre: pre, post: post),
                                                      analysisProtocol: Self.iamcomplete))
        do {
            try CasePipeline.write(result, to: folder.file("taken"))
            Issue.record("expected a write error")
        } catch {
            #expect(error.kind == .cannotWrite && error.stage == .output && error.message.hasPrefix(folder.file("taken")))
        }
    }

    @Test("written results: report last, maps and transform beside it, all readable")
    func writing() throws {
        let (pre, post) = Self.sample("two-tumours")
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let result = try CasePipeline.run(CaseRequest(caseId: "t", images: .labelMaps(pre: pre, post: post),
                                                      analysisProtocol: Self.iamcomplete))
        let (report, json) = try CasePipeline.write(result, to: folder.path)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect(names == ["margin_categories.ctbl", "margin_categories.label.txt", "margin_categories.nii.gz", "margin_mask.nii.gz",
                          "margin_mm.nii.gz", "pre_to_post.tfm", "report.json"])
        #expect(FileManager.default.contents(atPath: folder.file("report.json")) == json)
        #expect(try JSONDecoder().decode(CaseReport.self, from: json) == report)
        #expect(report.tumours.count == 2)
    }
}
