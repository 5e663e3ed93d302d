import Foundation
import MAMImageIO
import MAMTestSupport
import Testing

/// The sample cases converted to NRRD (pynrrd), MetaImage (SimpleITK) and 3D Slicer
/// segmentations (slicerio) by Tests/Tools/convert_case.py: the same margins as from NIfTI.
@Suite("Other formats end to end", .serialized)
final class FormatEndToEndTests {
    let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    struct Report: Decodable {
        struct Input: Decodable { let format: String? }
        struct Tumour: Decodable { let minimalMarginMM: Double? }
        let inputs: [Input]
        let tumours: [Tumour]
    }

    func run(_ pre: String, _ post: String, _ out: String) throws -> Report {
        let run = try Binary.run([pre, post, "--out", out, "--no-qc", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        return try JSONDecoder().decode(Report.self, from: run.stdoutData)
    }

    @Test("each sample case as .nrrd, .mha and .seg.nrrd gives the NIfTI case's MAMs within 0.01 mm", arguments: SampleCaseFiles.all)
    func sameMargins(_ sample: SampleCaseFiles) throws {
        let converted = folder.file(sample.name)
        try FileManager.default.createDirectory(atPath: converted, withIntermediateDirectories: true)
        _ = try ReferenceTools.run("convert_case.py", [converted, sample.pre, sample.post, "--names", "1=liver,2=Tumor"])
        let reference = try run(sample.pre, sample.post, folder.file("\(sample.name)-nii"))
        for (ext, format) in [("nrrd", "NRRD"), ("mha", "MetaImage"), ("seg.nrrd", "NRRD")] {
            let report = try run(converted + "/pre.\(ext)", converted + "/post.\(ext)", folder.file("\(sample.name)-\(ext)"))
            #expect(report.inputs.compactMap(\.format) == [format, format])
            #expect(report.tumours.count == reference.tumours.count)
            for (a, b) in zip(report.tumours, reference.tumours) {
                let (x, y) = (try #require(a.minimalMarginMM), try #require(b.minimalMarginMM))
                #expect(abs(x - y) <= 0.01, "\(sample.name) .\(ext): MAM \(x) vs \(y) from NIfTI")
            }
        }
        // Their reports validate against the schema (formats and geometry sources included).
        let validation = try Schema.validate(["nrrd", "mha", "seg.nrrd"].map { folder.file("\(sample.name)-\($0)") + "/report.json" })
        #expect(validation.hasPrefix("valid: 3 report(s)"), "\(validation)")
        // describe names the segments.
        let described = try Binary.run(["describe", converted + "/pre.seg.nrrd"])
        #expect(described.stdout.contains("format      NRRD") && described.stdout.contains("segment \"Tumor\""))
    }

    @Test("segments are chosen by name: relabelled 7 (\"Liver\") and 3 (\"Tumor\", \"Ablation Zone\") give the same MAM; an unknown name is a one-line error")
    func byName() throws {
        let sample = SampleCaseFiles.all[3]
        let converted = folder.file("named")
        try FileManager.default.createDirectory(atPath: converted, withIntermediateDirectories: true)
        _ = try ReferenceTools.run("convert_case.py", [converted, sample.pre, "--names", "1=Liver,2=Tumor", "--relabel", "1=7,2=3"])
        _ = try ReferenceTools.run("convert_case.py", [converted, sample.post, "--names", "1=Liver,2=Ablation Zone", "--relabel", "1=7,2=3"])
        let reference = try run(sample.pre, sample.post, folder.file("named-nii"))
        let named = try run(converted + "/pre.seg.nrrd", converted + "/post.seg.nrrd", folder.file("named-seg"))
        let (x, y) = (try #require(named.tumours.first?.minimalMarginMM), try #require(reference.tumours.first?.minimalMarginMM))
        #expect(abs(x - y) <= 0.01, "by name \(x), NIfTI \(y)")

        _ = try ReferenceTools.run("convert_case.py", [converted, sample.post, "--names", "1=Liver,2=Burn", "--relabel", "1=7,2=3"])
        let refused = try Binary.run([converted + "/pre.seg.nrrd", converted + "/post.seg.nrrd", "--out", folder.file("named-bad"), "--no-qc"])
        #expect(refused.status == 65)
        #expect(refused.stderr == "error: \(converted)/post.seg.nrrd: no ablation zone: label 2 is absent (labels present: 0, 3, 7; "
            + "segments: \"Liver\" = 7, \"Burn\" = 3, none named as the protocol's names for it)\n")
    }

    @Test("a layered segmentation (the tumour drawn over its liver on a second layer, as 3D Slicer stores overlapping segments) gives the NIfTI case's MAM",
          arguments: [SampleCaseFiles.all[0], SampleCaseFiles.all[3]])
    func layered(_ sample: SampleCaseFiles) throws {
        let converted = folder.file("layered-\(sample.name)")
        try FileManager.default.createDirectory(atPath: converted, withIntermediateDirectories: true)
        _ = try ReferenceTools.run("convert_case.py", [converted, sample.pre, "--names", "1=Liver,2=Tumor", "--layered"])
        _ = try ReferenceTools.run("convert_case.py", [converted, sample.post, "--names", "1=Liver,2=Ablation zone", "--layered"])
        let reference = try run(sample.pre, sample.post, folder.file("layered-\(sample.name)-nii"))
        let layered = try run(converted + "/pre.seg.nrrd", converted + "/post.seg.nrrd", folder.file("layered-\(sample.name)-seg"))
        let (x, y) = (try #require(layered.tumours.first?.minimalMarginMM), try #require(reference.tumours.first?.minimalMarginMM))
        #expect(abs(x - y) <= 0.01, "layered \(x), NIfTI \(y)")
    }
}

extension FormatEndToEndTests {
    /// The RTSTRUCT tolerance (Docs/inputs.md): a quarter of the largest in-plane voxel size.
    /// rt-utils traces contours through the centres of the boundary voxels, and a centre on a
    /// contour is inside on one side of a row only, so each structure loses about half its
    /// boundary voxels on one side; the tumour and the zone lose alike and the MAM moves little.
    static func rtstructTolerance(_ sample: SampleCaseFiles) throws -> Double {
        let spacing = try ImageReaders.geometry(sample.pre).spacing
        return 0.25 * max(spacing.x, spacing.y)
    }

    @Test("each sample case as DICOM-SEG (highdicom, dcmqi) gives the NIfTI case's MAMs within 0.01 mm; as RTSTRUCT (rt-utils) within a quarter voxel",
          arguments: SampleCaseFiles.all)
    func dicomMargins(_ sample: SampleCaseFiles) throws {
        let converted = folder.file("dicom-\(sample.name)")
        try FileManager.default.createDirectory(atPath: converted, withIntermediateDirectories: true)
        _ = try ReferenceTools.run("convert_case_dicom.py", [converted, sample.pre, sample.post, "--names", "1=liver,2=Tumor"])
        let reference = try run(sample.pre, sample.post, folder.file("\(sample.name)-nii"))
        for (kind, format) in [("seg", "DICOM-SEG"), ("dcmqi", "DICOM-SEG"), ("rtstruct", "RTSTRUCT")] {
            let report = try run(converted + "/pre.\(kind).dcm", converted + "/post.\(kind).dcm", folder.file("\(sample.name)-\(kind)"))
            #expect(report.inputs.compactMap(\.format) == [format, format])
            #expect(report.tumours.count == reference.tumours.count)
            let tolerance = kind == "rtstruct" ? try Self.rtstructTolerance(sample) : 0.01
            for (a, b) in zip(report.tumours, reference.tumours) {
                let (x, y) = (try #require(a.minimalMarginMM), try #require(b.minimalMarginMM))
                #expect(abs(x - y) <= tolerance, "\(sample.name) \(kind): MAM \(x) vs \(y) from NIfTI")
            }
        }
        let validation = try Schema.validate(["seg", "dcmqi", "rtstruct"].map { folder.file("\(sample.name)-\($0)") + "/report.json" })
        #expect(validation.hasPrefix("valid: 3 report(s)"), "\(validation)")
        let described = try Binary.run(["describe", converted + "/pre.rtstruct.dcm"])
        #expect(described.stdout.contains("format      RTSTRUCT") && described.stdout.contains("segment \"Tumor\""), "\(described.stdout)")
    }

    @Test("agreement pairs named segments by name (any case), whatever their label values: a DICOM-SEG against a .seg.nrrd that numbers them the other way round")
    func agreementByName() throws {
        let sample = SampleCaseFiles.all[0]
        let (dicom, swapped) = (folder.file("agree-dicom"), folder.file("agree-swapped"))
        for f in [dicom, swapped] { try FileManager.default.createDirectory(atPath: f, withIntermediateDirectories: true) }
        _ = try ReferenceTools.run("convert_case_dicom.py", [dicom, sample.pre, "--names", "1=liver,2=Tumor"])
        _ = try ReferenceTools.run("convert_case.py", [swapped, sample.pre, "--names", "1=Liver,2=tumor", "--relabel", "1=2,2=1"])
        let run = try Binary.run(["agreement", dicom + "/pre.seg.dcm", swapped + "/pre.seg.nrrd", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        struct Report: Decodable {
            struct Label: Decodable { let label: Int; let segment: String?; let labelB: Int?; let dice: Double }
            let labels: [Label]
        }
        let report = try JSONDecoder().decode(Report.self, from: run.stdoutData)
        // The same voxels (the SEG's liver segment holds the tumour, which keeps its voxels): Dice 1 exactly.
        #expect(report.labels.map(\.segment) == ["liver", "Tumor"] && report.labels.map(\.labelB) == [2, 1]
                && report.labels.map(\.dice) == [1, 1], "\(run.stdout)")
    }

    @Test("batch: case folders holding pre.seg.nrrd / post.seg.nrrd, pre.mha / post.mha and pre.dcm / post.dcm (SEG; RTSTRUCT with its CT in a subfolder) are found by the default patterns")
    func batchFindsOtherFormats() throws {
        let sample = SampleCaseFiles.all[0]
        let cohort = folder.file("cohort-formats")
        for (id, ext) in [("p-seg", "seg.nrrd"), ("p-mha", "mha")] {
            let converted = folder.file("convert-\(id)")
            try FileManager.default.createDirectory(atPath: converted, withIntermediateDirectories: true)
            _ = try ReferenceTools.run("convert_case.py", [converted, sample.pre, sample.post, "--names", "1=liver,2=tumour"])
            try FileManager.default.createDirectory(atPath: cohort + "/" + id, withIntermediateDirectories: true)
            for side in ["pre", "post"] {
                try FileManager.default.copyItem(atPath: converted + "/\(side).\(ext)", toPath: cohort + "/\(id)/\(side).\(ext)")
            }
        }
        // DICOM: pre.dcm / post.dcm, a SEG (highdicom) and an RTSTRUCT (rt-utils) whose CT series
        // lie in subfolders of the case folder.
        let dicom = folder.file("convert-dicom")
        try FileManager.default.createDirectory(atPath: dicom, withIntermediateDirectories: true)
        _ = try ReferenceTools.run("convert_case_dicom.py", [dicom, sample.pre, sample.post, "--names", "1=liver,2=tumour"])
        for (id, kind) in [("p-seg-dcm", "seg"), ("p-rtstruct", "rtstruct")] {
            try FileManager.default.createDirectory(atPath: cohort + "/" + id, withIntermediateDirectories: true)
            for side in ["pre", "post"] {
                try FileManager.default.copyItem(atPath: dicom + "/\(side).\(kind).dcm", toPath: cohort + "/\(id)/\(side).dcm")
                try FileManager.default.copyItem(atPath: dicom + "/\(side)_ct", toPath: cohort + "/\(id)/\(side)_ct")
            }
        }
        let batch = try Binary.run(["batch", cohort, "--out", folder.file("cohort-formats-out"), "--no-qc"])
        #expect(batch.status == 0, "\(batch.stdout) \(batch.stderr)")
        #expect(batch.stdout.contains("4 cases: 4 done"), "\(batch.stdout)")
    }
}
