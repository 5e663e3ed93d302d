import Foundation
import MAMImaging
import MAMTestSupport
import Testing

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
