import Foundation
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

/// Bad input through the executable: the documented exit code, one line on standard error
/// naming the file and the problem, and no report left behind.
@Suite("mam-quantify end to end: bad input")
final class BadInputEndToEndTests {
    let folder: TemporaryFolder
    let sample = SampleCaseFiles.all[0]

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let status: Int32
        /// Phrases the message must hold; `FILE` stands for the offending file's path.
        let phrases: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "missing file", status: 65, phrases: ["FILE: no such file"]),
        Case(name: "not NIfTI", status: 65, phrases: ["FILE: not a NIfTI file"]),
        Case(name: "truncated .nii.gz", status: 65, phrases: ["FILE: ", "truncated"]),
        Case(name: "empty tumour", status: 65, phrases: ["FILE: the tumour mask is empty"]),
        Case(name: "empty ablation zone", status: 65, phrases: ["FILE: the ablation zone mask is empty"]),
        Case(name: "tumour label absent", status: 65, phrases: ["FILE: no tumour: label 2 is absent (labels present: 0, 1)"]),
        Case(name: "livers cannot be matched", status: 65, phrases: ["FILE", "the livers cannot be matched"]),
        Case(name: "unknown protocol key", status: 78, phrases: ["FILE:", "margin.targt_mm: unknown key"]),
        Case(name: "unknown protocol name", status: 78, phrases: ["FILE: no built-in protocol has this name"]),
        Case(name: "per-structure and label maps mixed", status: 64, phrases: ["not both"]),
    ]

    /// The arguments of a bad case and the file its message must name.
    func arguments(_ c: Case) throws -> (arguments: [String], file: String) {
        let geometry = SampleCase.sphere5mm.preGeometry
        switch c.name {
        case "missing file":
            let file = folder.file("nowhere/pre.nii.gz")
            return ([file, sample.post], file)
        case "not NIfTI":
            let file = folder.file("notes.nii")
            try Data(String(repeating: "not an image\n", count: 100).utf8).write(to: URL(fileURLWithPath: file))
            return ([sample.pre, file], file)
        case "truncated .nii.gz":
            let file = folder.file("truncated.nii.gz")
            let bytes = try Data(contentsOf: URL(fileURLWithPath: sample.post))
            try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: file))
            return ([sample.pre, file], file)
        case "empty tumour":
            let file = folder.file("empty_tumour.nii.gz")
            try NIfTIWriter.write(Mask(geometry: geometry, repeating: false), to: file)
            let zone = folder.file("zone.nii.gz")
            try NIfTIWriter.write(SampleCase.sphere5mm.postLabels.map { $0 == 2 }, to: zone)
            return (["--pre-tumour", file, "--post-ablation", zone, "--no-registration"], file)
        case "empty ablation zone":
            let tumour = folder.file("tumour.nii.gz")
            try NIfTIWriter.write(SampleCase.sphere5mm.preLabels.map { $0 == 2 }, to: tumour)
            let file = folder.file("empty_zone.nii.gz")
            try NIfTIWriter.write(Mask(geometry: geometry, repeating: false), to: file)
            return (["--pre-tumour", tumour, "--post-ablation", file, "--no-registration"], file)
        case "tumour label absent":
            let file = folder.file("liver_only.nii.gz")
            try NIfTIWriter.write(SampleCase.sphere5mm.preLabels.map { $0 == 0 ? UInt8(0) : 1 }, to: file)
            return ([file, sample.post], file)
        case "livers cannot be matched":
            // A post liver a quarter of the pre liver's volume (a different organ, or a wrong file).
            var small = SampleCase.sphere5mm
            small.liver = [.ellipsoid(center: .zero, radii: SIMD3(40, 35, 30), axes: .identity)]
            let file = folder.file("small_liver.nii.gz")
            try NIfTIWriter.write(small.postLabels, to: file)
            return ([sample.pre, file], sample.pre)
        case "unknown protocol key":
            let file = folder.file("typo.yaml")
            let text = try Binary.run(["protocols", "--show", "iamcomplete"]).stdout
                .replacingOccurrences(of: "  target_mm: 5", with: "  targt_mm: 5")
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return ([sample.pre, sample.post, "--protocol", file], file)
        case "unknown protocol name":
            return ([sample.pre, sample.post, "--protocol", "iamcompleet"], "iamcompleet")
        case "per-structure and label maps mixed":
            return ([sample.pre, sample.post, "--pre-tumour", sample.pre], "")
        default:
            preconditionFailure("no such case \(c.name)")
        }
    }

    @Test("exit code, one-line message naming the file, no report", arguments: cases)
    func badInput(_ c: Case) throws {
        let (arguments, file) = try arguments(c)
        let out = folder.file("out")
        let run = try Binary.run(arguments + ["--out", out])
        #expect(run.status == c.status, "\(run.stderr)")
        #expect(run.stdout.isEmpty)
        let lines = run.stderr.split(separator: "\n")
        if c.status == 64 {
            #expect(run.stderr.hasPrefix("Error: "))  // ArgumentParser's usage errors
        } else {
            #expect(lines.count == 1 && run.stderr.hasPrefix("error: "), "\(run.stderr)")
        }
        for phrase in c.phrases {
            let expected = phrase.replacingOccurrences(of: "FILE", with: file)
            #expect(run.stderr.contains(expected), "expected '\(expected)' in: \(run.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out + "/report.json"))
        // No temporary file either.
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
        #expect(left.isEmpty, "left behind: \(left)")
    }
}

/// The audit's mutation run, kept: thousands of damaged and crafted copies of the sample files
/// through the built executable (Tests/Tools/mutation_run.py says how they are made).
@Suite("mam-quantify end to end: mutants of the sample files")
struct MutationRunTests {
    @Test("3,000 mutants (header fields, NIfTI-2, truncation, gzip damage): no signal, every failure a one-line error naming the file")
    func mutants() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let output = try ReferenceTools.run("mutation_run.py", [
            Binary.path, packageRoot.appendingPathComponent("SampleCases").path, folder.path,
            "--count", "3000", "--seed", "2026",
        ])
        let summary = String(decoding: output, as: UTF8.self)
        #expect(summary.contains("all 3000 mutants: no signal, every failure a one-line error naming the file"))
        // The run is only a test if mutants reach both outcomes: refused, and measured.
        #expect(summary.contains("exit 65: "))
        #expect(summary.contains("last step whole command: "))
    }
}

/// Transform files are input too: a shift that would overflow an index is refused, a tumour
/// moved out of the post scan is measured as "no margin" without maps or stray messages.
@Suite("mam-quantify end to end: hostile transform files")
final class HostileTransformTests {
    let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    /// The sphere sample run with a transform file shifting by `shiftX` mm along x (LPS), into
    /// `folder/out`; returns the run and the transform file's path.
    func run(shiftX: String) throws -> (run: Binary.Run, transform: String) {
        let path = folder.file("t-\(shiftX).tfm")
        try """
            #Insight Transform File V1.0
            #Transform 0
            Transform: AffineTransform_double_3_3
            Parameters: 1 0 0 0 1 0 0 0 1 \(shiftX) 0 0
            FixedParameters: 0 0 0

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let sample = SampleCaseFiles.all[0]
        return (try Binary.run([sample.pre, sample.post, "--transform", path, "--out", folder.file("out")]), path)
    }

    @Test("a 1e300 mm shift: exit 65, one line naming the file (it crashed the margin maps in 0.7.0)")
    func hugeShift() throws {
        let (run, tfm) = try run(shiftX: "1e300")
        #expect(run.status == 65)
        #expect(run.stderr == "error: \(tfm): not a readable ITK transform file (a shift of 1e+300 mm is beyond 1e+06 mm)\n")
        #expect(!FileManager.default.fileExists(atPath: folder.file("out/report.json")))
    }

    @Test("a 900 mm shift takes the tumour out of the post scan: no margin, a warning, no maps nor thumbnail, nothing else on stderr")
    func tumourOutside() throws {
        let (run, _) = try run(shiftX: "900")
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty, "\(run.stderr)")
        #expect(run.stdout.contains("warning: tumour 1: 100% of the tumour surface maps outside the post-ablation field of view: no margin"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.file("out")).sorted() == ["pre_to_post.tfm", "qc.html", "report.json"])
    }
}
