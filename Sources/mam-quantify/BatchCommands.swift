import ArgumentParser
import Foundation
import MAMCase
import MAMCohort
import MAMQC

/// Exit codes of `mam-quantify batch` (Docs/batch.md).
enum BatchExit {
    /// Some cases failed; summary.csv says which and why.
    static let someFailed: Int32 = 4
    /// Nothing could run: no case found, or every case failed.
    static let nothingRan: Int32 = 66
}

struct BatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Analyse a whole cohort: one sub-folder per case (or a manifest), resumable, in parallel.",
        discussion: """
            COHORT holds one sub-folder per case, named by the case id, with the case's files \
            named as the protocol's `files` patterns say (default: pre.nii.gz and post.nii.gz, or \
            pre_tumour.nii.gz, post_ablation_zone.nii.gz and optionally pre_liver.nii.gz, \
            post_liver.nii.gz). Or give --manifest FILE, a CSV with the columns case_id, pre, post \
            (or case_id, pre_liver, pre_tumour, post_liver, post_ablation_zone), and optionally \
            transform (a pre-to-post .tfm used instead of registering that case) and pre_image, \
            post_image (scans drawn under the QC page's outlines; in case folders, files named \
            pre_ct.nii.gz and post_ct.nii.gz by default).

            Each case gets OUT/<case>/ with report.json, margin maps and its page qc.html, or \
            error.json when it fails (the batch goes on). OUT/summary.csv (one row per tumour), \
            OUT/reports.jsonl (one report per line), OUT/errors.jsonl (one error record per \
            line) and the cohort page OUT/index.html are rewritten as cases finish, ordered by \
            case id. A re-run skips cases whose report was made from the same inputs and \
            protocol (by SHA-256); --force recomputes them. Interrupting loses only the cases in \
            flight. --shard K/N processes a fixed 1/N of the cases (a Slurm array task each); \
            `mam-quantify merge OUT` then rebuilds the tables from all shards.

            Examples:
              mam-quantify batch cohort/ --out results/ --list
              mam-quantify batch cohort/ --out results/ --jobs 2
              mam-quantify batch --manifest cases.csv --out results/ --protocol prometheus

            Exit status: 0 every case done (a rejected registration counts as done, flagged in \
            the summary; a shard with no case has nothing to do); 4 some cases failed; 66 nothing \
            could run (no case found, or all failed); 73 the output folder cannot be written; \
            64 bad usage; 78 invalid protocol; 130 stopped by SIGINT or SIGTERM.
            """
    )

    @Argument(help: ArgumentHelp("Cohort folder: one sub-folder per case.", valueName: "cohort"))
    var cohort: String?

    @Option(help: ArgumentHelp("A CSV listing the cases instead of a cohort folder.", valueName: "file"))
    var manifest: String?

    @Option(help: ArgumentHelp("Output folder (one sub-folder per case, plus summary.csv, reports.jsonl and errors.jsonl).", valueName: "folder"))
    var out: String

    @Option(help: ArgumentHelp("Analysis protocol: a built-in name or a YAML file.", valueName: "name|file"))
    var `protocol` = AnalysisProtocol.defaultName

    @Option(help: ArgumentHelp("Cases analysed at once, each on one core: 1 to 256 (default: one per core of the machine).", valueName: "n"))
    var jobs: Int?

    @Flag(help: "The masks are co-registered already: no registration for any case.")
    var noRegistration = false

    @Flag(help: "No qc.html for any case (the cohort page then has no thumbnails).")
    var noQC = false

    @Flag(help: "List the cases found and what is missing, without computing.")
    var list = false

    @Flag(help: "Recompute cases whose report is up to date.")
    var force = false

    @Option(help: ArgumentHelp("Process only shard K of N (1 <= K <= N), e.g. 3/10.", valueName: "K/N"))
    var shard: String?

    func validate() throws {
        guard (cohort == nil) != (manifest == nil) else { throw ValidationError("give a cohort folder or --manifest, one of them") }
        guard (1...256).contains(jobs ?? 1) else { throw ValidationError("--jobs must be from 1 to 256") }
        if let shard { _ = try Self.parseShard(shard) }
    }

    static func parseShard(_ text: String) throws -> (index: Int, count: Int) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, (1...n).contains(k) else {
            throw ValidationError("--shard must be K/N with 1 <= K <= N, e.g. 3/10")
        }
        return (k, n)
    }

    func run() throws {
        let analysisProtocol = try resolveProtocol(self.protocol)
        var cases: [CohortCase]
        do {
            cases = try manifest.map { try Cohort.manifest($0) } ?? Cohort.discover(cohort!, patterns: analysisProtocol.files, outFolder: out)
        } catch {
            printError("\(error)")
            throw ExitCode(BatchExit.nothingRan)
        }
        if noRegistration, let given = cases.first(where: { $0.transform != nil }) {
            printError("\(manifest ?? ""): case \(given.id) has a transform, and --no-registration was given: they exclude each other")
            throw ExitCode(ExitStatus.badUsage)
        }
        if let shard {
            let (k, n) = try Self.parseShard(shard)
            let found = cases.count
            cases = cases.filter { Cohort.inShard($0.id, index: k, count: n) }
            // A shard that gets no case of a non-empty cohort has nothing to do, successfully
            // (an array job's scheduler would otherwise mark the task failed).
            if cases.isEmpty, found > 0, !list {
                print("shard \(k)/\(n): none of the \(found) cases falls in this shard; nothing to do")
                return
            }
        }
        if list {
            for c in cases {
                if let problem = c.problem {
                    print("\(c.id): MISSING: \(problem)")
                } else {
                    let scans = [("pre-image", c.preImage), ("post-image", c.postImage)].compactMap { role, path in path.map { "\(role) \($0)" } }
                    print("\(c.id): " + (c.files.map { "\($0.role.rawValue) \($0.path)" } + scans).joined(separator: ", "))
                }
            }
            let incomplete = cases.filter { $0.problem != nil }.count
            print("\(cases.count) cases, \(cases.count - incomplete) complete, \(incomplete) with missing files")
            if cases.isEmpty { throw ExitCode(BatchExit.nothingRan) }
            return
        }
        guard !cases.isEmpty else {
            printError("\(manifest ?? cohort!): no cases found")
            throw ExitCode(BatchExit.nothingRan)
        }
        // Workers get a protocol file as an absolute path (they may run elsewhere).
        let argument = AnalysisProtocol.builtIn(self.protocol) != nil
            ? self.protocol : URL(fileURLWithPath: self.protocol).standardizedFileURL.path
        let worker = Batch.Worker(executable: Self.executablePath(),
                                  arguments: { [noRegistration, noQC] item, folder in
                                      Self.workerArguments(item, folder, protocol: argument, noRegistration: noRegistration, noQC: noQC)
                                  },
                                  exitStatus: { $0.exitStatus })
        let batch = Batch(.init(outFolder: out, analysisProtocol: analysisProtocol, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount,
                                        force: force, noRegistration: noRegistration,
                                        writesQCPage: analysisProtocol.writesQCPage && !noQC, worker: worker))
        let display = ProgressDisplay(total: cases.count)
        let signals = SignalStop.install { batch.stop() }
        let progress: Batch.Progress
        do {
            progress = try batch.run(cases) { id, outcome, seconds, progress in
                display.show(id, outcome, seconds, progress)
            }
        } catch let error as BatchError {
            display.abandon()
            printError(error.description)
            throw ExitCode(ExitStatus.cannotWrite)
        }
        signals.forEach { $0.cancel() }
        if progress.interrupted {
            display.interrupted()
            throw ExitCode(130)
        }
        display.finish(progress, out: out)
        if progress.done + progress.skipped == 0 { throw ExitCode(BatchExit.nothingRan) }
        if progress.failed > 0 { throw ExitCode(BatchExit.someFailed) }
    }

    /// A worker's arguments: this executable's `analyse` for one case, quiet, single threaded
    /// (the batch sets MAMQ_THREADS=1), writing an error record when it fails.
    static func workerArguments(_ item: CohortCase, _ folder: String, protocol: String, noRegistration: Bool, noQC: Bool = false) -> [String] {
        // Every value joined to its option with '=' and the files after '--', so that an id or
        // a path starting with '-' (a folder named "-p01" or "--help") is never taken for an option.
        var options = ["--out=\(folder)", "--case-id=\(item.id)", "--protocol=\(`protocol`)", "--quiet", "--batch-worker"]
        if noRegistration { options.append("--no-registration") }
        if noQC { options.append("--no-qc") }
        if let transform = item.transform { options.append("--transform=\(transform)") }
        if let scan = item.preImage { options.append("--pre-image=\(scan)") }
        if let scan = item.postImage { options.append("--post-image=\(scan)") }
        var files: [String] = []
        switch item.images! {
        case .labelMaps(let pre, let post):
            files = [pre, post]
        case .structures(let preLiver, let preTumour, let postLiver, let zone):
            if let preLiver { options.append("--pre-liver=\(preLiver)") }
            options.append("--pre-tumour=\(preTumour)")
            if let postLiver { options.append("--post-liver=\(postLiver)") }
            options.append("--post-ablation=\(zone)")
        }
        return ["analyse"] + options + ["--"] + files
    }

    /// This executable (the workers run it too).
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }
}

struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild summary.csv, reports.jsonl, errors.jsonl and index.html from every case folder of a batch's output (after sharded runs).",
        discussion: "Example: mam-quantify merge results/"
    )

    @Argument(help: ArgumentHelp("The batch output folder.", valueName: "out"))
    var out: String

    func run() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), isDirectory.boolValue else {
            printError("\(out): no such output folder")
            throw ExitCode(BatchExit.nothingRan)
        }
        let results = try CohortSummary.rebuild(out)
        let tumours = results.reports.map(\.report.tumours.count).reduce(0, +)
        print("\(out): \(results.reports.count) reports (\(tumours) tumours), \(results.errors.count) failed cases; "
              + "wrote \(CohortSummary.csvName), \(CohortSummary.jsonLinesName), \(CohortSummary.errorLinesName) and \(CohortPage.fileName)")
        if results.reports.isEmpty { throw ExitCode(BatchExit.nothingRan) }
    }
}

struct ReviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Merge a reviewer's verdicts (exported from a batch's index.html) into its results: summary.csv's review columns.",
        discussion: """
            FILE is what the cohort page's export buttons save: review.csv (case_id, review, \
            comment) or review.json. Each case named must be one of the results; a case's new \
            verdict replaces an earlier one. The verdicts are kept in OUT/review.json, and \
            summary.csv and index.html are rebuilt with them.

            Example: mam-quantify review results/ ~/Downloads/review.csv

            Exit status: 0 merged; 65 the file cannot be read, is not a review file, or names \
            cases that are not in OUT (nothing is merged then); 66 OUT is not a batch's output \
            folder; 73 OUT cannot be written.
            """
    )

    @Argument(help: ArgumentHelp("The batch output folder.", valueName: "out"))
    var out: String

    @Argument(help: ArgumentHelp("The exported review file (.csv or .json).", valueName: "file"))
    var file: String

    func run() throws {
        guard FileManager.default.fileExists(atPath: out + "/" + CohortSummary.csvName) else {
            printError("\(out): not a batch's output folder (no \(CohortSummary.csvName))")
            throw ExitCode(BatchExit.nothingRan)
        }
        do {
            let (merged, all) = try Reviews.merge(file, into: out)
            let counts = Reviews.verdicts.map { v in "\(merged.count { $0.review == v }) \(v)" }.joined(separator: ", ")
            print("\(out): merged \(merged.count) reviews from \(file) (\(counts)); \(all.reviews.count) cases reviewed in all; "
                  + "rewrote \(CohortSummary.csvName) and \(CohortPage.fileName)")
        } catch let problem as Reviews.Problem {
            printError(problem.description)
            throw ExitCode(ExitStatus.invalidInput)
        } catch {
            printError("\(out): cannot be written (\(error))")
            throw ExitCode(ExitStatus.cannotWrite)
        }
    }
}
