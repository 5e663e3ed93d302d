import Foundation
import MAMTestSupport
import Testing

/// The built mam-quantify executable, next to the test bundle (`swift test` builds it).
enum Binary {
    static let path: String = {
        var candidates: [String] = []
        if let here = Bundle.main.executableURL?.deletingLastPathComponent() {
            candidates.append(here.appendingPathComponent("mam-quantify").path)
        }
        candidates += ["release", "debug"].map { packageRoot.appendingPathComponent(".build/\($0)/mam-quantify").path }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? "mam-quantify-not-built"
    }()

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
        let stdoutData: Data
    }

    /// Runs mam-quantify with `arguments` in `folder` (the current folder by default).
    static func run(_ arguments: [String], in folder: String? = nil) throws -> Run {
        try runTool(path, arguments, in: folder)
    }
}

/// A bundled sample case and its expected values (SampleCases/NAME/expected.json).
struct SampleCaseFiles: Sendable, CustomTestStringConvertible {
    let name: String
    var folder: String { packageRoot.appendingPathComponent("SampleCases/\(name)").path }
    var pre: String { folder + "/pre.nii.gz" }
    var post: String { folder + "/post.nii.gz" }
    var testDescription: String { name }

    struct Expected: Decodable {
        let expectedMarginsMM: [Double]
        let preToPostMM: [[Double]]
    }

    func expected() throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
    }

    /// Tolerance of the margin issue: 0.5 mm on 1 mm grids, 0.6 mm with slices over 2 mm.
    var toleranceMM: Double { name == "oblique-anisotropic" ? 0.6 : 0.5 }

    static let all = ["sphere-5mm", "negative-margin", "two-tumours", "oblique-anisotropic"].map(SampleCaseFiles.init)
}

/// The parts of a report the tests read.
struct ReportView: Decodable {
    struct Tumour: Decodable {
        let number: Int
        let label: Int?
        let minimalMarginMM: Double?
        let outcome: String
    }

    struct Registration: Decodable {
        let method: String
        let verdict: String
        let preToPostMM: [[Double]]
    }

    let status: String
    let marginsReliable: Bool
    let tumours: [Tumour]
    let registration: Registration
    let warnings: [String]

    static func load(_ path: String) throws -> ReportView {
        try JSONDecoder().decode(ReportView.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

enum Schema {
    static let path = packageRoot.appendingPathComponent("Docs/report.schema.json").path

    /// Validates reports with Python's jsonschema; returns its output (empty problems: valid).
    static func validate(_ reports: [String]) throws -> String {
        String(decoding: try ReferenceTools.run("validate_report.py", [path] + reports), as: UTF8.self)
    }

    /// The validation command Docs/report.md gives, `check-jsonschema --schemafile
    /// Docs/NAME files...`, from the suite's Python environment: it must pass and print
    /// `ok -- validation done` and nothing else (no warning).
    static func checkDocumented(_ schema: String, _ files: [String]) throws {
        let doc = try String(contentsOf: packageRoot.appendingPathComponent("Docs/report.md"), encoding: .utf8)
        #expect(doc.contains("check-jsonschema --schemafile Docs/\(schema) "), "Docs/report.md does not show the command for \(schema)")
        let python = try #require(ReferenceTools.python)
        let tool = URL(fileURLWithPath: python).deletingLastPathComponent().appendingPathComponent("check-jsonschema").path
        let run = try runTool(tool, ["--schemafile", packageRoot.appendingPathComponent("Docs/" + schema).path] + files)
        #expect(run.status == 0 && run.stdout == "ok -- validation done\n" && run.stderr.isEmpty,
                "\(schema): \(run.stdout) \(run.stderr)")
    }
}

/// A report's bytes (pretty or one line) without the timings and the audit trail (`run`), the
/// only parts that may differ between runs.
func withoutTimings(_ data: Data) -> String {
    let text = String(decoding: data, as: UTF8.self)
    return text.replacingOccurrences(of: #""(timingsSeconds|run)" ?: ?\{[^}]*\}"#, with: "", options: .regularExpression)
}

/// A case page without its audit trail (the table of class `run`: command line, time, host).
func withoutRun(_ data: Data) -> String {
    String(decoding: data, as: UTF8.self).replacingOccurrences(of: #"<table class="figures run">.*?</table>"#, with: "", options: .regularExpression)
}

/// Runs a program in `folder` (the current folder by default) with `input` on its standard
/// input; returns its status and outputs.
func runTool(_ executable: String, _ arguments: [String], in folder: String? = nil, input: Data? = nil) throws -> Binary.Run {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    // Input written from another thread, so that a full output pipe cannot stall it.
    let writer = Thread {
        if let input { inPipe.fileHandleForWriting.write(input) }
        try? inPipe.fileHandleForWriting.close()
    }
    writer.start()
    // Standard error holds a few lines, far below a pipe's buffer: read it second.
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Binary.Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), stdoutData: outData)
}

/// A cohort folder `root` with one copy of `sample`'s pre.nii.gz and post.nii.gz per case id.
func sampleCohort(_ root: String, ids: [String], sample: SampleCaseFiles = SampleCaseFiles.all[0]) throws {
    for id in ids {
        try FileManager.default.createDirectory(atPath: root + "/" + id, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample.pre, toPath: root + "/" + id + "/pre.nii.gz")
        try FileManager.default.copyItem(atPath: sample.post, toPath: root + "/" + id + "/post.nii.gz")
    }
}
