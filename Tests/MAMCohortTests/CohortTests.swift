import Foundation
import MAMCase
import MAMCohort
import MAMTestSupport
import Testing

/// Finding a cohort's cases, the batch runner with a worker given from outside, and the
/// cohort tables, without the command line.
@Suite("Cohort")
struct CohortTests {
    static let iamcomplete = AnalysisProtocol.builtIn("iamcomplete")!
    static let samples = packageRoot.appendingPathComponent("SampleCases").path

    /// Makes a folder of case folders: `files[case]` names the files copied (from sphere-5mm).
    static func cohort(_ files: [String: [String]]) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for (id, names) in files {
            try FileManager.default.createDirectory(atPath: folder.file(id), withIntermediateDirectories: true)
            for name in names {
                let source = samples + "/sphere-5mm/" + (name.hasPrefix("pre") ? "pre.nii.gz" : "post.nii.gz")
                try FileManager.default.copyItem(atPath: source, toPath: folder.file("\(id)/\(name)"))
            }
        }
        return folder
    }

    @Test("discovery: label maps, per-structure masks, missing and ambiguous files, hidden folders skipped")
    func discovery() throws {
        let folder = try Self.cohort([
            "p01": ["pre.nii.gz", "post.nii.gz"],
            "p02": ["pre_tumour.nii.gz", "post_ablation_zone.nii.gz", "pre_liver.nii.gz"],
            "p03": ["pre.nii.gz"],
            "p04": ["pre.nii.gz", "pre.nii", "post.nii.gz"],
            ".hidden": ["pre.nii.gz", "post.nii.gz"],
        ])
        defer { folder.remove() }
        #expect(FileManager.default.createFile(atPath: folder.file("notes.txt"), contents: Data("not a case".utf8)))
        let cases = try Cohort.discover(folder.path, patterns: Self.iamcomplete.files)
        #expect(cases.map(\.id) == ["p01", "p02", "p03", "p04"])
        #expect(cases[0].files.map(\.role) == [.pre, .post] && cases[0].problem == nil)
        #expect(cases[1].files.map(\.role) == [.preLiver, .preTumour, .postAblationZone])
        #expect(cases[2].images == nil && cases[2].problem == "missing post.nii*|post.nrrd|post.seg.nrrd|post.mha|post.dcm in \(folder.file("p03")) (found: pre.nii.gz)")
        #expect(cases[3].images == nil && cases[3].problem?.hasPrefix("several files match pre.nii*|pre.nrrd|pre.seg.nrrd|pre.mha|pre.dcm") == true)
        #expect(throws: CohortError.self) { try Cohort.discover(folder.file("none"), patterns: Self.iamcomplete.files) }
    }

    @Test("a worker killed by a signal: the reason names the signal, not a line of its backtrace")
    func killedWorker() throws {
        let cohort = try Self.cohort(["a": ["pre.nii.gz", "post.nii.gz"]])
        let out = try TemporaryFolder()
        defer { cohort.remove(); out.remove() }
        let cases = try Cohort.discover(cohort.path, patterns: Self.iamcomplete.files)
        let worker = Batch.Worker(executable: "/bin/sh",
                                  arguments: { _, _ in ["-c", "echo 'Backtrace took 0.23s' >&2; kill -SEGV $$"] },
                                  exitStatus: { _ in 99 })
        let batch = Batch(.init(outFolder: out.path, analysisProtocol: Self.iamcomplete, jobs: 1, force: false, worker: worker))
        _ = try batch.run(cases) { _, _, _, _ in }
        let record = try #require(CohortSummary.collect(out.path).errors.first)
        #expect(record.reason == "the case's process was killed by signal 11")
        #expect(record.exitStatus == 128 + 11)
    }

    @Test("batch: the worker and its exit codes come from the caller; failures become error records and table rows")
    func batchWithWorker() throws {
        let cohort = try Self.cohort(["a": ["pre.nii.gz", "post.nii.gz"], "b": ["pre.nii.gz"]])
        let out = try TemporaryFolder()
        defer { cohort.remove(); out.remove() }
        let cases = try Cohort.discover(cohort.path, patterns: Self.iamcomplete.files)
        // A worker that fails with status 9 and one line; invalid input is numbered 42 here.
        let worker = Batch.Worker(executable: "/bin/sh",
                                  arguments: { item, _ in ["-c", "echo \"case \(item.id) refused\" >&2; exit 9"] },
                                  exitStatus: { $0 == .invalidInput ? 42 : 99 })
        let batch = Batch(.init(outFolder: out.path, analysisProtocol: Self.iamcomplete, jobs: 2, force: false, worker: worker))
        let progress = try batch.run(cases) { _, _, _, _ in }
        #expect(progress.total == 2 && progress.failed == 2 && progress.done == 0)
        let results = CohortSummary.collect(out.path)
        #expect(results.errors.map(\.caseId) == ["a", "b"])
        #expect(results.errors[0].stage == "worker" && results.errors[0].exitStatus == 9 && results.errors[0].reason == "case a refused")
        #expect(results.errors[1].stage == "input" && results.errors[1].exitStatus == 42)
        let csv = try String(contentsOfFile: out.file(CohortSummary.csvName), encoding: .utf8)
        let rows = csv.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.count == 3 && rows[0].count == CohortSummary.columns.count)
        #expect(rows[1][0] == "a" && rows[1][1] == "failed" && rows[1][CohortSummary.columns.firstIndex(of: "error_exit_status")!] == "9")
    }

    @Test("tables: one row per tumour of each report, one per failure, in case order")
    func tables() throws {
        let out = try TemporaryFolder()
        defer { out.remove() }
        let request = CaseRequest(caseId: "two", images: .labelMaps(pre: Self.samples + "/two-tumours/pre.nii.gz",
                                                                     post: Self.samples + "/two-tumours/post.nii.gz"),
                                  analysisProtocol: Self.iamcomplete)
        let (report, _) = try CasePipeline.write(try CasePipeline.run(request), to: out.file("two"))
        try FileManager.default.createDirectory(atPath: out.file("one"), withIntermediateDirectories: true)
        try ErrorRecord(caseId: "one", stage: "input", exitStatus: 65, reason: "x.nii.gz: file not found").write(to: out.file("one"))
        try CohortSummary.rebuild(out.path)
        let lines = try String(contentsOfFile: out.file(CohortSummary.csvName), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[1].hasPrefix("one,failed,") && lines[1].hasSuffix(",input,65,x.nii.gz: file not found,,"))
        let mams = report.tumours.map { "\($0.minimalMarginMM!)" }
        #expect(lines[2].hasPrefix("two,done,1,,\(mams[0]),") && lines[3].hasPrefix("two,done,2,,\(mams[1]),"))
        let jsonl = try String(contentsOfFile: out.file(CohortSummary.jsonLinesName), encoding: .utf8)
        #expect(jsonl.split(separator: "\n").count == 1)
    }
}
