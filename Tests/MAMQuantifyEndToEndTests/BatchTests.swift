import Foundation
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

/// A generated cohort of 20 small cases, 3 of them broken: a missing post file, a truncated
/// .nii.gz, an empty tumour (per-structure files).
struct TestCohort {
    let folder: String
    /// Tumours per good case, by case id.
    var tumours: [String: Int] = [:]
    static let broken = ["case-04", "case-11", "case-17"]

    init(in folder: String) throws {
        self.folder = folder
        let grid = ImageGeometry(size: GridSize(96, 80, 64), spacing: SIMD3(1.2, 1.2, 1.2), origin: SIMD3(-57, -47.4, -37.8))
        let liver: [Shape] = [.ellipsoid(center: .zero, radii: SIMD3(45, 36, 28), axes: .identity),
                              .sphere(center: SIMD3(30, 20, 8), radius: 12)]
        for i in 0..<20 {
            let id = String(format: "case-%02d", i)
            let dir = folder + "/" + id
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let count = i % 3 == 0 ? 2 : 1
            var sample = SampleCase.sphere5mm
            sample.preGeometry = grid
            sample.postGeometry = grid
            sample.liver = liver
            let centres = [SIMD3<Double>(-15 + Double(i), -5, 3), SIMD3<Double>(20, -12, -6 + Double(i % 5))]
            sample.tumours = (0..<count).map { .sphere(center: centres[$0], radius: 5 + Double(i % 4)) }
            sample.ablationZones = (0..<count).map {
                .sphere(center: centres[$0] + SIMD3(Double(i % 3) - 1, 0, 0), radius: 5 + Double(i % 4) + Double(i % 6))
            }
            switch id {
            case "case-11":  // empty tumour, one mask per file
                try NIfTIWriter.write(Mask(geometry: grid, repeating: false), to: dir + "/pre_tumour.nii.gz")
                try NIfTIWriter.write(sample.postLabels.map { $0 == 2 }, to: dir + "/post_ablation_zone.nii.gz")
                try NIfTIWriter.write(sample.preLabels.map { $0 == 1 }, to: dir + "/pre_liver.nii.gz")
                try NIfTIWriter.write(sample.postLabels.map { $0 == 1 }, to: dir + "/post_liver.nii.gz")
            default:
                try NIfTIWriter.write(sample.preLabels, to: dir + "/pre.nii.gz")
                if id == "case-04" { continue }  // no post file
                try NIfTIWriter.write(sample.postLabels, to: dir + "/post.nii.gz")
                if id == "case-17" {  // truncated
                    let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/post.nii.gz"))
                    try data.prefix(data.count / 3).write(to: URL(fileURLWithPath: dir + "/post.nii.gz"))
                    continue
                }
                tumours[id] = count
            }
        }
    }
}

/// Every file of a batch's output, by relative path, with the timings and audit trail taken out of reports.
func outputContents(_ folder: String) throws -> [String: String] {
    var contents: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: folder)!
    while let path = enumerator.nextObject() as? String {
        let full = folder + "/" + path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        if path.hasSuffix(".json") || path.hasSuffix(".jsonl") {
            contents[path] = withoutTimings(data)
        } else if path.hasSuffix("qc.html") {
            contents[path] = withoutRun(data)
        } else {
            contents[path] = data.base64EncodedString()
        }
    }
    return contents
}

@Suite("mam-quantify batch", .serialized)
final class BatchTests {
    let folder: TemporaryFolder
    let cohort: TestCohort

    init() throws {
        folder = try TemporaryFolder()
        cohort = try TestCohort(in: folder.file("cohort"))
    }

    deinit { folder.remove() }

    func batch(_ out: String, _ extra: [String] = []) throws -> Binary.Run {
        try Binary.run(["batch", cohort.folder, "--out", out, "--jobs", "2"] + extra)
    }

    @Test("20 cases, 3 broken: 17 reports, 3 error records, every tumour in the summary, exit 4; a re-run skips them all")
    func cohortRun() throws {
        let out = folder.file("out")
        let run = try batch(out)
        #expect(run.status == 4, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n")
        #expect(lines.filter { $0.contains(": done, MAM ") }.count == 17)
        #expect(lines.filter { $0.contains(": FAILED (") }.count == 3)
        #expect(lines.last == "20 cases: 17 done, 0 up to date, 3 failed; summary: \(out)/summary.csv, reports: \(out)/reports.jsonl, page: \(out)/index.html")
        for (id, count) in cohort.tumours {
            let report = try ReportView.load(out + "/\(id)/report.json")
            #expect(report.tumours.count == count)
        }
        struct Record: Decodable { let reason: String; let exitStatus: Int; let stage: String }
        var stages: [String: String] = [:]
        for id in TestCohort.broken {
            #expect(!FileManager.default.fileExists(atPath: out + "/\(id)/report.json"))
            let record = try JSONDecoder().decode(Record.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/\(id)/error.json")))
            #expect(record.exitStatus == 65 && record.stage == "input")
            stages[id] = record.reason
        }
        #expect(stages["case-04"]?.hasPrefix("missing post.nii*") == true)
        #expect(stages["case-11"]?.hasSuffix("pre_tumour.nii.gz: the tumour mask is empty (no non-zero voxel)") == true)
        #expect(stages["case-17"]?.contains("truncated") == true)
        try Schema.checkDocumented("error.schema.json", TestCohort.broken.map { out + "/\($0)/error.json" })
        // summary.csv: a header, one row per tumour of the 17 cases, one per failed case, by case id.
        let csv = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).split(separator: "\n")
        let rows = csv.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == cohort.tumours.values.reduce(0, +) + 3)
        #expect(rows.map { $0[0] } == rows.map { $0[0] }.sorted())
        for (id, count) in cohort.tumours {
            #expect(rows.filter { $0[0] == id && $0[1] == "done" && !$0[4].isEmpty }.map { $0[2] } == (1...count).map(String.init))
        }
        #expect(Set(rows.filter { $0[1] == "failed" }.map { $0[0] }) == Set(TestCohort.broken))
        let jsonl = try String(contentsOfFile: out + "/reports.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(jsonl.count == 17)
        let errors = try String(contentsOfFile: out + "/errors.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(errors.count == 3)
        #expect(errors.map { try? (JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["caseId"] as? String }
            == TestCohort.broken.sorted().map { $0 })
        // Re-run: everything up to date, nothing recomputed, same tables.
        let before = try outputContents(out)
        let again = try batch(out)
        #expect(again.status == 4)
        #expect(again.stdout.split(separator: "\n").filter { $0.contains("up to date, skipped") }.count == 17)
        #expect(try outputContents(out) == before)
        // A report from another version of mam-quantify is not up to date: its case runs again.
        let reportPath = out + "/case-00/report.json"
        let report = try String(contentsOfFile: reportPath, encoding: .utf8)
        let tool = try #require((try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any])?["tool"] as? [String: Any])
        let version = try #require(tool["version"] as? String)
        let older = report.replacingOccurrences(of: "\"version\" : \"\(version)\"", with: "\"version\" : \"0.0.1\"")
        try #require(older != report)
        try older.write(toFile: reportPath, atomically: false, encoding: .utf8)
        let upgraded = try batch(out)
        #expect(upgraded.stdout.split(separator: "\n").filter { $0.contains("up to date, skipped") }.count == 16)
        #expect(try String(contentsOfFile: reportPath, encoding: .utf8).contains("\"version\" : \"\(version)\""))
    }

    @Test("killed part-way (SIGINT, then SIGKILL), re-run: the same files as an uninterrupted run, no partial files",
          arguments: [SIGINT, SIGKILL])
    func interrupted(_ signal: Int32) throws {
        let reference = folder.file("reference")
        #expect(try batch(reference).status == 4)
        let out = folder.file("killed")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = ["batch", cohort.folder, "--out", out, "--jobs", "2"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until a few cases are done, then kill.
        let deadline = Date().addingTimeInterval(60)
        func reports() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [])
                .filter { FileManager.default.fileExists(atPath: out + "/\($0)/report.json") }.count
        }
        while reports() < 4, Date() < deadline { usleep(20_000) }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(reports() < 17, "the batch finished before it was killed")
        if signal == SIGINT {
            #expect(process.terminationStatus == 130)
        } else {
            usleep(500_000)  // the orphaned workers notice and end
        }
        // Whatever is there is whole: every report and record parses.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? [] {
            for file in ["report.json", "error.json"] where FileManager.default.fileExists(atPath: out + "/\(name)/\(file)") {
                #expect((try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/\(name)/\(file)")))) != nil)
            }
        }
        let rerun = try batch(out)
        #expect(rerun.status == 4)
        let (got, expected) = (try outputContents(out), try outputContents(reference))
        #expect(got.keys.sorted() == expected.keys.sorted(), "files differ: \(Set(got.keys).symmetricDifference(expected.keys))")
        for (path, content) in expected where got[path] != content { Issue.record("\(path) differs from the uninterrupted run") }
        #expect(!got.keys.contains { $0.contains(".tmp-") })
    }

    @Test("3 shards plus merge give the same summary as one run")
    func shards() throws {
        let whole = folder.file("whole")
        #expect(try batch(whole).status == 4)
        let sharded = folder.file("sharded")
        var seen = 0
        for k in 1...3 {
            let run = try batch(sharded, ["--shard", "\(k)/3"])
            let count = run.stdout.split(separator: "\n").filter { $0.hasPrefix("[") }.count
            #expect(count > 0 && count < 20)
            seen += count
        }
        #expect(seen == 20)
        let merge = try Binary.run(["merge", sharded])
        #expect(merge.status == 0)
        #expect(merge.stdout.hasPrefix("\(sharded): 17 reports"))
        let (a, b) = (try outputContents(whole), try outputContents(sharded))
        #expect(a["summary.csv"] == b["summary.csv"])
        #expect(a["reports.jsonl"] == b["reports.jsonl"])
        #expect(a["errors.jsonl"] == b["errors.jsonl"])
    }

    @Test("--list shows the cases and what is missing; a manifest with relative paths; an empty cohort exits 66")
    func listingAndManifest() throws {
        let list = try Binary.run(["batch", cohort.folder, "--out", folder.file("unused"), "--list"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("case-04: MISSING: missing post.nii*|post.nrrd|post.seg.nrrd|post.mha|post.dcm in \(cohort.folder)/case-04 (found: pre.nii.gz)"))
        #expect(list.stdout.contains("case-11: pre-liver \(cohort.folder)/case-11/pre_liver.nii.gz, pre-tumour \(cohort.folder)/case-11/pre_tumour.nii.gz, post-liver"))
        #expect(list.stdout.hasSuffix("20 cases, 19 complete, 1 with missing files\n"))
        #expect(!FileManager.default.fileExists(atPath: folder.file("unused")))

        let manifest = folder.file("cases.csv")
        try "case_id,pre,post\nfirst,cohort/case-00/pre.nii.gz,cohort/case-00/post.nii.gz\n\"second\",cohort/case-01/pre.nii.gz,cohort/case-01/post.nii.gz\n"
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let run = try Binary.run(["batch", "--manifest", manifest, "--out", folder.file("manifest-out")])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try ReportView.load(folder.file("manifest-out/second/report.json")).tumours.count == 1)

        try FileManager.default.createDirectory(atPath: folder.file("empty"), withIntermediateDirectories: true)
        let empty = try Binary.run(["batch", folder.file("empty"), "--out", folder.file("empty-out")])
        #expect(empty.status == 66 && empty.stderr == "error: \(folder.file("empty")): no cases found\n")
    }
}

/// Issue 17: batch could not do what a single case can (no --no-registration, no given
/// transform), and --list said what it missed but not what it found.
@Suite("mam-quantify batch: the same choices as a single case")
final class BatchParityTests {
    let folder: TemporaryFolder
    let sample = SampleCaseFiles.all[3]

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    func report(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func method(_ path: String) throws -> String? {
        let report = try JSONSerialization.jsonObject(with: self.report(path)) as! [String: Any]
        return (report["registration"] as? [String: Any])?["method"] as? String
    }

    @Test("--no-registration: each case as a single run with --no-registration gives it; registering again is not 'up to date'")
    func noRegistration() throws {
        let cohort = folder.file("cohort")
        try FileManager.default.createDirectory(atPath: cohort, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample.folder, toPath: cohort + "/c1")
        let out = folder.file("out")
        #expect(try Binary.run(["batch", cohort, "--out", out, "--no-registration"]).status == 0)
        #expect(try method(out + "/c1/report.json") == "none")
        let single = folder.file("single")
        #expect(try Binary.run([cohort + "/c1/pre.nii.gz", cohort + "/c1/post.nii.gz", "--no-registration", "--case-id", "c1",
                                "--out", single, "--quiet"]).status == 0)
        #expect(withoutTimings(try report(out + "/c1/report.json")) == withoutTimings(try report(single + "/report.json")))
        let again = try Binary.run(["batch", cohort, "--out", out])
        #expect(again.stdout.contains("c1: done"), "\(again.stdout)")
        #expect(try method(out + "/c1/report.json") == "rigid-icp")
        let back = try Binary.run(["batch", cohort, "--out", out, "--no-registration"])
        #expect(back.stdout.contains("c1: done") && !back.stdout.contains("c1: up to date"), "\(back.stdout)")
    }

    @Test("a manifest's transform column: the case uses that transform, as a single run with --transform does")
    func transformColumn() throws {
        let first = folder.file("first")
        #expect(try Binary.run([sample.pre, sample.post, "--out", first, "--quiet"]).status == 0)
        let manifest = folder.file("cases.csv")
        try "case_id,pre,post,transform\nc1,\(sample.pre),\(sample.post),first/pre_to_post.tfm\nc2,\(sample.pre),\(sample.post),\n"
            .write(toFile: manifest, atomically: true, encoding: .utf8)
        let out = folder.file("out")
        let run = try Binary.run(["batch", "--manifest", manifest, "--out", out])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try method(out + "/c1/report.json") == "transform-file")
        #expect(try method(out + "/c2/report.json") == "rigid-icp")
        let single = folder.file("single")
        #expect(try Binary.run([sample.pre, sample.post, "--transform", first + "/pre_to_post.tfm", "--case-id", "c1",
                                "--out", single, "--quiet"]).status == 0)
        #expect(withoutTimings(try report(out + "/c1/report.json")) == withoutTimings(try report(single + "/report.json")))
        // Up to date on a second run; a changed transform file is not.
        #expect(try Binary.run(["batch", "--manifest", manifest, "--out", out]).stdout.contains("c1: up to date"))
        var text = try String(contentsOfFile: first + "/pre_to_post.tfm", encoding: .utf8)
        text += "\n"
        try text.write(toFile: first + "/pre_to_post.tfm", atomically: true, encoding: .utf8)
        #expect(try Binary.run(["batch", "--manifest", manifest, "--out", out]).stdout.contains("c1: done"))
        let both = try Binary.run(["batch", "--manifest", manifest, "--out", out, "--no-registration"])
        #expect(both.status == 64 && both.stderr.contains("case c1 has a transform, and --no-registration was given"))
    }

    @Test("--list names the files it found when the patterns match none")
    func listFound() throws {
        let cohort = folder.file("cohort")
        try FileManager.default.createDirectory(atPath: cohort + "/p01", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: sample.pre, toPath: cohort + "/p01/seg_pre.nii.gz")
        try FileManager.default.copyItem(atPath: sample.post, toPath: cohort + "/p01/seg_post.nii.gz")
        let list = try Binary.run(["batch", cohort, "--out", folder.file("out"), "--list"])
        #expect(list.stdout.contains("p01: MISSING: missing pre.nii*|pre.nrrd|pre.seg.nrrd|pre.mha|pre.dcm and post.nii*|post.nrrd|post.seg.nrrd|post.mha|post.dcm in \(cohort)/p01 (found: seg_post.nii.gz, seg_pre.nii.gz)"),
                "\(list.stdout)")
    }
}
