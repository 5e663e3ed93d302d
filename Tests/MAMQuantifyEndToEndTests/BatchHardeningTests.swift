import Foundation
import MAMTestSupport
import Testing

/// The 0.6.0 audit's batch and output-folder findings, rebuilt: ids that are not one path
/// component, a symlinked case folder, two batches on one output folder, an output folder that
/// cannot be written, ids that look like options, results left over from an earlier run.
@Suite("mam-quantify end to end: output folders cannot be escaped or left stale")
final class BatchHardeningTests {
    let folder: TemporaryFolder
    let sample = SampleCaseFiles.all[0]

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    /// A cohort folder with one copy of the sphere sample case per id.
    func cohort(_ ids: [String], in name: String = "cohort") throws -> String {
        let root = folder.file(name)
        try sampleCohort(root, ids: ids, sample: sample)
        return root
    }

    func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test("manifest ids '..', '.', 'a/b' and '.hidden' are refused by line; nothing is written outside OUT",
          arguments: ["..", ".", "a/b", ".hidden"])
    func manifestIds(_ id: String) throws {
        let manifest = folder.file("manifest.csv")
        try "case_id,pre,post\n\(id),\(sample.pre),\(sample.post)\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        let out = folder.file("results/out")
        let run = try Binary.run(["batch", "--manifest", manifest, "--out", out])
        #expect(run.status == 66)
        #expect(run.stderr.hasPrefix("error: \(manifest): line 2: "))
        #expect(run.stderr.split(separator: "\n").count == 1)
        #expect(!exists(folder.file("results/report.json")) && !exists(out + "/report.json"))
    }

    @Test("--case-id ../../x cannot escape mam-results/: bad usage, nothing written")
    func caseIdEscape() throws {
        let run = try Binary.run([sample.pre, sample.post, "--case-id", "../../x"], in: folder.path)
        #expect(run.status == 64)
        #expect(run.stderr.contains("--case-id: a case id cannot start with '.'"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test("a case folder inside OUT that is a symbolic link is not written through")
    func symlinkedCaseFolder() throws {
        let root = try cohort(["p01", "p02"])
        let out = folder.file("out")
        let elsewhere = folder.file("elsewhere")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out + "/p01", withDestinationPath: elsewhere)
        let run = try Binary.run(["batch", root, "--out", out])
        #expect(run.status == 4)
        #expect(run.stdout.contains("p01: FAILED (output, exit 73): \(out)/p01: the case folder is a symbolic link"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty)
        #expect(exists(out + "/p02/report.json"))
    }

    @Test("two batches on one OUT at once: each case is computed by exactly one of them")
    func twoBatches() throws {
        let ids = (1...6).map { String(format: "p%02d", $0) }
        let root = try cohort(ids)
        let out = folder.file("out")
        func start() throws -> (Process, Pipe) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = ["batch", root, "--out", out, "--jobs", "1"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            return (process, pipe)
        }
        let runs = [try start(), try start()]
        var computed: [String: Int] = [:]
        for (process, pipe) in runs {
            let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            for line in text.split(separator: "\n") where line.contains(": done, MAM") {
                let id = line.split(separator: " ")[1].dropLast()
                computed[String(id), default: 0] += 1
            }
        }
        #expect(computed == Dictionary(uniqueKeysWithValues: ids.map { ($0, 1) }))
        let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
        #expect(summary.split(separator: "\n").count == 1 + ids.count)
    }

    @Test("an output folder that cannot be written: exit 73 with one line before any case is computed")
    func unwritableOut() throws {
        let root = try cohort(["p01"])
        let blocker = folder.file("blocker")
        try "a file, not a folder".write(toFile: blocker, atomically: true, encoding: .utf8)
        let run = try Binary.run(["batch", root, "--out", blocker + "/out"])
        #expect(run.status == 73)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first == "error: \(blocker)/out: the output folder cannot be written (Not a directory)")
    }

    @Test("an output folder inside the cohort is not taken for a case on the next run")
    func outInsideCohort() throws {
        let root = try cohort(["p01"])
        let out = root + "/results"
        #expect(try Binary.run(["batch", root, "--out", out]).status == 0)
        let again = try Binary.run(["batch", root, "--out", out])
        #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
        #expect(again.stdout.contains("1 cases: 0 done, 1 up to date, 0 failed"))
        #expect(!exists(out + "/results"))
        // Nor is another batch's results folder.
        #expect(try Binary.run(["batch", root, "--out", folder.file("elsewhere")]).status == 0)
        #expect(!exists(folder.file("elsewhere/results")))
    }

    @Test("shards that get no case of a non-empty cohort succeed with a message; the one that gets it computes it")
    func emptyShards() throws {
        let root = try cohort(["p01"])
        let out = folder.file("out")
        var computed = 0
        for k in 1...5 {
            let run = try Binary.run(["batch", root, "--out", out, "--shard", "\(k)/5"])
            #expect(run.status == 0, "shard \(k): \(run.stderr)")
            if run.stdout.contains("p01: done") { computed += 1 } else {
                #expect(run.stdout == "shard \(k)/5: none of the 1 cases falls in this shard; nothing to do\n")
            }
        }
        #expect(computed == 1)
    }

    @Test("case folders named '-p01' and '--help' are cases, not options")
    func idsLikeOptions() throws {
        let root = try cohort(["-p01", "--help"])
        let out = folder.file("out")
        let run = try Binary.run(["batch", root, "--out", out])
        #expect(run.status == 0)
        #expect(exists(out + "/-p01/report.json") && exists(out + "/--help/report.json"))
    }

    @Test("a shard clears leftover temporary files only in its own cases' folders (another shard may be writing the rest)")
    func shardCleansOwnCases() throws {
        let ids = ["p01", "p02", "p03", "p04"]
        let root = try cohort(ids)
        let out = folder.file("out")
        let leftover = ".report.json.tmp-4242-1"
        for id in ids {
            try FileManager.default.createDirectory(atPath: out + "/" + id, withIntermediateDirectories: true)
            try "half".write(toFile: out + "/" + id + "/" + leftover, atomically: true, encoding: .utf8)
        }
        let run = try Binary.run(["batch", root, "--out", out, "--shard", "1/2"])
        #expect(run.status == 0)
        let own = ids.filter { exists(out + "/" + $0 + "/report.json") }
        #expect(!own.isEmpty && own.count < ids.count, "shard 1/2 computed \(own)")
        for id in ids {
            #expect(exists(out + "/" + id + "/" + leftover) == !own.contains(id), "\(id)")
        }
    }

    @Test("a failed re-run (--force) into an existing --out leaves neither the old report nor the old maps")
    func staleSingleRun() throws {
        let out = folder.file("case")
        #expect(try Binary.run([sample.pre, sample.post, "--out", out, "--quiet"]).status == 0)
        #expect(exists(out + "/report.json") && exists(out + "/margin_mm.nii.gz"))
        let broken = folder.file("post.nii.gz")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: sample.post))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: broken))
        let rerun = try Binary.run([sample.pre, broken, "--out", out, "--quiet", "--force"])
        #expect(rerun.status == 65)
        let left = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("a batch case that fails on re-run (--force) keeps its error record only")
    func staleBatchCase() throws {
        let root = try cohort(["p01", "p02"])
        let out = folder.file("out")
        #expect(try Binary.run(["batch", root, "--out", out]).status == 0)
        let post = root + "/p01/post.nii.gz"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: post))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: post))
        let rerun = try Binary.run(["batch", root, "--out", out, "--force"])
        #expect(rerun.status == 4)
        let left = try FileManager.default.contentsOfDirectory(atPath: out + "/p01").filter { !$0.hasPrefix(".") }
        #expect(left == ["error.json"])
        #expect(rerun.stdout.contains("FAILED (input, exit 65): \(post): "))
        #expect(!rerun.stdout.contains("error: "))
    }
}

/// A case's report does not depend on how it was run: a single run uses every core, a batch
/// worker one (the 0.6.0 audit found three of the four sample cases differing in histogram
/// fractions, shell volumes and surface fractions).
@Suite("mam-quantify end to end: single run and batch worker agree")
struct ThreadIndependenceTests {
    @Test("every sample case: the batch worker's report and maps are byte-identical to a single run's (timings aside)")
    func sameBytes() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let samples = packageRoot.appendingPathComponent("SampleCases").path
        let batch = try Binary.run(["batch", samples, "--out", folder.file("batch")])
        #expect(batch.status == 0)
        for sample in SampleCaseFiles.all {
            let single = folder.file("single/" + sample.name)
            #expect(try Binary.run([sample.pre, sample.post, "--out", single, "--quiet"]).status == 0)
            let worker = folder.file("batch/" + sample.name)
            let a = try Data(contentsOf: URL(fileURLWithPath: single + "/report.json"))
            let b = try Data(contentsOf: URL(fileURLWithPath: worker + "/report.json"))
            #expect(withoutTimings(a) == withoutTimings(b), "\(sample.name): report.json")
            for map in ["margin_mm.nii.gz", "margin_mask.nii.gz", "margin_categories.nii.gz", "pre_to_post.tfm"] {
                let x = try Data(contentsOf: URL(fileURLWithPath: single + "/" + map))
                let y = try Data(contentsOf: URL(fileURLWithPath: worker + "/" + map))
                #expect(x == y, "\(sample.name): \(map)")
            }
        }
    }
}

/// Issue 17: with the layout pXX/pre/seg.nii.gz, pXX/post/seg.nii.gz every single run was
/// named "post" and replaced the previous patient's results in mam-results/post/.
@Suite("mam-quantify end to end: single runs do not overwrite each other")
final class OverwriteTests {
    let folder: TemporaryFolder
    let samples = SampleCaseFiles.all

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    /// Patient folders pXX/pre/seg.nii.gz and pXX/post/seg.nii.gz, one sample case each.
    func patients(_ count: Int) throws -> [(pre: String, post: String)] {
        try (0..<count).map { n in
            let root = folder.file(String(format: "data/p%02d", n + 1))
            for side in ["pre", "post"] {
                try FileManager.default.createDirectory(atPath: root + "/" + side, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: side == "pre" ? samples[n].pre : samples[n].post,
                                                 toPath: root + "/" + side + "/seg.nii.gz")
            }
            return (root + "/pre/seg.nii.gz", root + "/post/seg.nii.gz")
        }
    }

    func report(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    func protocolName(_ out: String) throws -> String? {
        (try report(out + "/report.json")["protocol"] as? [String: Any])?["name"] as? String
    }

    @Test("pXX/pre/seg.nii.gz and pXX/post/seg.nii.gz: each patient gets its own id and folder, named on the terminal")
    func patientLayout() throws {
        let cases = try patients(2)
        for (n, files) in cases.enumerated() {
            let id = String(format: "p%02d", n + 1)
            let run = try Binary.run([files.pre, files.post], in: folder.path)
            #expect(run.status == 0)
            #expect(run.stdout.hasPrefix("case \(id): "))
            #expect(run.stdout.contains("report: mam-results/\(id)/report.json"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.file("mam-results/post")))
        for (n, name) in ["p01", "p02"].enumerated() {
            let written = try report(folder.file("mam-results/\(name)/report.json"))
            #expect(written["caseId"] as? String == name)
            let inputs = written["inputs"] as! [[String: Any]]
            #expect(inputs.map { $0["path"] as? String } == [cases[n].pre, cases[n].post])
        }
    }

    @Test("another case's results are kept (exit 73, one line) unless --force; the same case re-runs freely")
    func anotherCase() throws {
        let out = folder.file("shared")
        let first = samples[0], second = samples[2]
        #expect(try Binary.run([first.pre, first.post, "--out", out, "--quiet"]).status == 0)

        // The same inputs again (another protocol, say): replaced without asking.
        #expect(try Binary.run([first.pre, first.post, "--out", out, "--quiet", "--protocol", "prometheus"]).status == 0)
        #expect(try protocolName(out) == "prometheus")
        #expect(try Binary.run([first.pre, first.post, "--out", out, "--quiet"]).status == 0)
        #expect(try protocolName(out) == "iamcomplete")

        let refused = try Binary.run([second.pre, second.post, "--out", out, "--quiet"])
        #expect(refused.status == 73)
        #expect(refused.stderr == "error: \(out): holds another case's results (its report.json was made from other input files (pre, post differ)); give this case its own --out or --case-id, or --force to replace them\n")
        #expect(try report(out + "/report.json")["caseId"] as? String == first.name)
        #expect(FileManager.default.fileExists(atPath: out + "/margin_mm.nii.gz"))

        // One file changed is another case too (a re-segmented post: --force says so).
        let changed = try Binary.run([first.pre, samples[1].post, "--out", out, "--quiet", "--case-id", first.name])
        #expect(changed.status == 73 && changed.stderr.contains("(post differ)"))

        // A missing input: its own error (65), and the other case's results stay.
        let missing = try Binary.run([second.pre, folder.file("nowhere/post.nii.gz"), "--out", out, "--quiet"])
        #expect(missing.status == 65 && missing.stderr.contains("nowhere/post.nii.gz"))
        #expect(try report(out + "/report.json")["caseId"] as? String == first.name)

        let forced = try Binary.run([second.pre, second.post, "--out", out, "--quiet", "--force"])
        #expect(forced.status == 0)
        #expect(try report(out + "/report.json")["caseId"] as? String == second.name)
    }

    @Test("a report.json that is not ours is not overwritten either")
    func foreignReport() throws {
        let out = folder.file("theirs")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "{\"study\": 1}".write(toFile: out + "/report.json", atomically: true, encoding: .utf8)
        let run = try Binary.run([samples[0].pre, samples[0].post, "--out", out, "--quiet"])
        #expect(run.status == 73 && run.stderr.contains("its report.json is not a mam-quantify report"))
        #expect(try String(contentsOfFile: out + "/report.json", encoding: .utf8) == "{\"study\": 1}")
    }
}
