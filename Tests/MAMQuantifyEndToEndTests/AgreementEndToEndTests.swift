import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMRegistration
import MAMTestSupport
import Testing

/// Numbers written with more than 6 decimals: not rounded as reports round (mm to 3, mL to 4,
/// fractions to 5, spacings to 6).
func longDecimals(_ json: String) -> [String] {
    let pattern = try! NSRegularExpression(pattern: #"-?[0-9]+\.[0-9]{7,}"#)
    let range = NSRange(json.startIndex..., in: json)
    return pattern.matches(in: json, range: range).map { String(json[Range($0.range, in: json)!]) }
}

@Suite("mam-quantify agreement end to end")
struct AgreementEndToEndTests {
    @Test("label maps compared label by label; the report validates against Docs/agreement.schema.json")
    func labelMaps() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let sample = SampleCaseFiles.all
        // Observer "A" and "B": the pre label maps of sphere-5mm and two-tumours share the liver
        // (label 1 holds the liver minus the tumours, so Dice < 1) and differ in tumours (which barely overlap).
        let run = try Binary.run(["agreement", sample[0].pre, sample[2].pre, "--out", folder.file("agreement.json")])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.count == 4 && lines[2].hasPrefix("label 1: Dice 0.99") && lines[3].hasPrefix("label 2: Dice 0.0"))
        let output = String(decoding: try ReferenceTools.run("validate_report.py", [
            packageRoot.appendingPathComponent("Docs/agreement.schema.json").path, folder.file("agreement.json"),
        ]), as: UTF8.self)
        #expect(output.hasPrefix("valid: 1 report(s)"), "\(output)")
        // Binary masks on different grids: B is resampled onto A's grid.
        let json = try Binary.run(["agreement", sample[3].pre, sample[3].post, "--label", "1", "--json"])
        #expect(json.status == 0 && json.stdout.contains("\"bResampledOntoA\" : true"))
        // Figures rounded as in report.json (timings aside).
        #expect(longDecimals(json.stdout.replacingOccurrences(of: #""timingsSeconds" : [0-9.e-]+"#, with: "", options: .regularExpression)).isEmpty)
        // --out takes a folder (agreement.json inside), as every other command; a .json name is the file.
        #expect(try Binary.run(["agreement", sample[0].pre, sample[2].pre, "--out", folder.file("agreement-out")]).status == 0)
        #expect(FileManager.default.fileExists(atPath: folder.file("agreement-out/agreement.json")))
        // Two scans of a patient who moved: through the true transform the livers (label 1)
        // coincide up to the two grids' voxelisation; without it they do not.
        let expected = try sample[3].expected()
        try ITKTransformFile.write(preToPost: try #require(Affine3D(matrix4x4: expected.preToPostMM)), to: folder.file("truth.tfm"))
        func liverDice(_ extra: [String]) throws -> Double {
            let run = try Binary.run(["agreement", sample[3].pre, sample[3].post, "--label", "1", "--json"] + extra)
            #expect(run.status == 0, "\(run.stderr)")
            struct R: Decodable { struct L: Decodable { let dice: Double }; let labels: [L] }
            return try JSONDecoder().decode(R.self, from: run.stdoutData).labels[0].dice
        }
        let (moved, unmoved) = (try liverDice(["--transform", folder.file("truth.tfm")]), try liverDice([]))
        #expect(moved > 0.95 && unmoved < 0.85, "Dice \(moved) with the transform, \(unmoved) without")
    }

    @Test("a missing file: exit 65, one line naming it, no report")
    func missing() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let run = try Binary.run(["agreement", folder.file("nope.nii.gz"), SampleCaseFiles.all[0].pre, "--out", folder.file("a.json")])
        #expect(run.status == 65 && run.stderr == "error: \(folder.file("nope.nii.gz")): no such file\n")
        #expect(!FileManager.default.fileExists(atPath: folder.file("a.json")))
    }
}

@Suite("mam-quantify agreement-cohort end to end")
struct AgreementCohortEndToEndTests {
    @Test("6 full cases per observer: metric summaries, MAM ICC, Bland-Altman bias near the built-in -0.5 mm, kappa, CSV, SVG")
    func fullCases() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let grid = ImageGeometry(size: GridSize(80, 70, 60), spacing: SIMD3(1, 1, 1), origin: SIMD3(-40, -35, -30))
        var manifest = "case_id,a_pre,a_post,b_pre,b_post\n"
        for i in 0..<6 {
            var sample = SampleCase.sphere5mm
            sample.preGeometry = grid
            sample.postGeometry = grid
            sample.liver = [.ellipsoid(center: .zero, radii: SIMD3(36, 30, 25), axes: .identity),
                            .sphere(center: SIMD3(20, 18, 8), radius: 10)]
            let centre = SIMD3<Double>(-8 + 2 * Double(i), 3, -2)
            sample.tumours = [.sphere(center: centre, radius: 6)]
            // Observer A's zone gives MAMs from -1 to 9 mm; observer B draws it 0.5 mm smaller.
            let zone = 5 + 2 * Double(i)
            for (observer, radius) in [("a", zone), ("b", zone - 0.5)] {
                sample.ablationZones = [.sphere(center: centre + SIMD3(0, 0, 0), radius: radius)]
                try NIfTIWriter.write(sample.preLabels, to: folder.file("\(observer)\(i)_pre.nii.gz"))
                try NIfTIWriter.write(sample.postLabels, to: folder.file("\(observer)\(i)_post.nii.gz"))
            }
            manifest += "c\(i),a\(i)_pre.nii.gz,a\(i)_post.nii.gz,b\(i)_pre.nii.gz,b\(i)_post.nii.gz\n"
        }
        try manifest.write(toFile: folder.file("observers.csv"), atomically: true, encoding: .utf8)
        let out = folder.file("out")
        let run = try Binary.run(["agreement-cohort", "--manifest", folder.file("observers.csv"), "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        struct Report: Decodable {
            struct Margins: Decodable {
                struct ICC: Decodable { struct E: Decodable { let value: Double; let lower: Double?; let upper: Double? }; let icc21: E; let icc31: E }
                struct BA: Decodable { let biasMM: Double; let lowerLimitMM: Double; let upperLimitMM: Double }
                struct Kappa: Decodable { let kappa: Double? }
                let pairs: Int
                let intraclassCorrelation: ICC?
                let blandAltman: BA?
                let categoryKappa: Kappa?
            }
            struct Structure: Decodable {
                struct S: Decodable { let n: Int; let mean: Double }
                struct ICC: Decodable { struct E: Decodable { let value: Double }; let icc21: E; let icc31: E }
                let structure: String
                let dice: S?
                let volumeIntraclassCorrelation: ICC?
            }
            let pairs: Int
            let margins: Margins?
            let structures: [Structure]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/agreement-cohort.json")))
        #expect(report.pairs == 6)
        let m = try #require(report.margins)
        #expect(m.pairs == 6)
        // MAM_B - MAM_A = -0.5 mm by construction; each MAM is within 0.5 mm of its analytic value.
        let ba = try #require(m.blandAltman)
        #expect(abs(ba.biasMM + 0.5) < 0.3, "bias \(ba.biasMM)")
        let icc = try #require(m.intraclassCorrelation)
        #expect(icc.icc31.value > 0.95 && icc.icc21.value > 0.9 && icc.icc21.lower! < icc.icc21.value)
        #expect(m.categoryKappa?.kappa != nil)
        // Structures named as the protocol names them. Tumours are identical: Dice 1 in all 6
        // pairs, and no volume ICC (identical volumes leave no residual variance).
        #expect(report.structures.map(\.structure) == ["ablation zone", "post liver", "pre liver", "tumour"])
        #expect(report.structures.first { $0.structure == "tumour" }?.dice?.mean == 1)
        #expect(report.structures.first { $0.structure == "tumour" }.map { $0.volumeIntraclassCorrelation == nil } == true)
        let csv = try String(contentsOfFile: out + "/agreement-cohort.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 6 * 4)
        // The zones' volume ICC against an independent implementation (Tests/Tools/icc_reference.py,
        // scipy) from the CSV's volumes: equal to the report's 4 decimals (half a unit).
        let zoneRows = csv.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .filter { $0[1] == "ablation zone" }.map { [Double($0[4])!, Double($0[5])!] }
        #expect(zoneRows.count == 6)
        let ratings = folder.file("zone-volumes.json")
        try JSONSerialization.data(withJSONObject: zoneRows).write(to: URL(fileURLWithPath: ratings))
        let reference = try JSONSerialization.jsonObject(with: ReferenceTools.run("icc_reference.py", [ratings])) as! [String: Double]
        let zoneICC = try #require(report.structures.first { $0.structure == "ablation zone" }?.volumeIntraclassCorrelation)
        #expect(abs(zoneICC.icc21.value - reference["icc21"]!) <= 0.00005 && abs(zoneICC.icc31.value - reference["icc31"]!) <= 0.00005,
                "ICC \(zoneICC.icc21.value), \(zoneICC.icc31.value) against \(reference)")
        let text = try String(contentsOfFile: out + "/agreement-cohort.json", encoding: .utf8)
        #expect(longDecimals(text).isEmpty, "\(longDecimals(text).prefix(5))")
        try Schema.checkDocumented("agreement-cohort.schema.json", [out + "/agreement-cohort.json"])
        for svg in ["bland-altman.svg", "dice.svg"] {
            let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: out + "/" + svg)))
            #expect(parser.parse(), "\(svg) is not well-formed XML")
        }
    }

    @Test("a cohort folder of segmentation pairs (a.nii.gz, b.nii.gz per case); a case folder lacking them is named")
    func folder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let samples = SampleCaseFiles.all
        for (i, (a, b)) in [(samples[0].pre, samples[1].pre), (samples[0].post, samples[1].post)].enumerated() {
            let dir = folder.file("cohort/case\(i)")
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: a, toPath: dir + "/a.nii.gz")
            try FileManager.default.copyItem(atPath: b, toPath: dir + "/b.nii.gz")
        }
        let run = try Binary.run(["agreement-cohort", folder.file("cohort"), "--out", folder.file("out")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("case0: done\ncase1: done\n2 pairs analysed, 0 failed"))
        // sphere-5mm and negative-margin share their pre label maps: Dice 1 for both labels.
        let csv = try String(contentsOfFile: folder.file("out/agreement-cohort.csv"), encoding: .utf8)
        #expect(csv.contains("case0,label 2,1.0,1.0,"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("out/bland-altman.svg")))
        try FileManager.default.createDirectory(atPath: folder.file("cohort/case2"), withIntermediateDirectories: true)
        let bad = try Binary.run(["agreement-cohort", folder.file("cohort"), "--out", folder.file("out2")])
        #expect(bad.status == 66 && bad.stderr.hasPrefix("error: \(folder.file("cohort/case2")): needs a.nii.gz and b.nii.gz"))
    }
}
