import Foundation
public import MAMCase
import MAMImageIO

/// Runs a cohort: one worker process per case (single threaded), at most `jobs` at a time, so
/// at most `jobs` cases are ever in memory. Results go to `<out>/<case>/`; the cohort tables
/// are rebuilt as cases finish and at the end.
public final class Batch: @unchecked Sendable {
    /// How to run one case in a process of its own: the command line's business, so that this
    /// module knows neither its arguments nor its exit codes.
    public struct Worker: Sendable {
        public var executable: String
        /// The arguments that analyse one case (complete: its images are known) into a folder,
        /// writing the report or, on failure, an error record there.
        public var arguments: @Sendable (_ item: CohortCase, _ folder: String) -> [String]
        /// The exit status the worker gives a kind of failure, for the error records the
        /// batch writes itself.
        public var exitStatus: @Sendable (PipelineError.Kind) -> Int32

        public init(executable: String,
                    arguments: @escaping @Sendable (_ item: CohortCase, _ folder: String) -> [String],
                    exitStatus: @escaping @Sendable (PipelineError.Kind) -> Int32) {
            self.executable = executable
            self.arguments = arguments
            self.exitStatus = exitStatus
        }
    }

    public struct Options: Sendable {
        public var outFolder: String
        public var analysisProtocol: AnalysisProtocol
        public var jobs: Int
        public var force: Bool
        /// The masks are co-registered already (the workers get `--no-registration`).
        public var noRegistration: Bool
        /// Each case writes its QC page (the protocol's choice, unless the workers get `--no-qc`).
        public var writesQCPage: Bool
        public var worker: Worker

        public init(outFolder: String, analysisProtocol: AnalysisProtocol, jobs: Int, force: Bool,
                    noRegistration: Bool = false, writesQCPage: Bool? = nil, worker: Worker) {
            self.outFolder = outFolder
            self.analysisProtocol = analysisProtocol
            self.jobs = jobs
            self.force = force
            self.noRegistration = noRegistration
            self.writesQCPage = writesQCPage ?? analysisProtocol.writesQCPage
            self.worker = worker
        }
    }

    /// How a case ended.
    public enum Outcome: Sendable {
        /// Report written (`registrationRejected` when its registration was rejected).
        case done(registrationRejected: Bool, margins: [Double?])
        /// Skipped: its report is up to date (same inputs and protocol, by SHA-256).
        case upToDate
        /// Skipped: another run (a second batch on the same output folder) is computing it.
        case busy
        case failed(ErrorRecord)
    }

    public struct Progress: Sendable {
        /// True when `stop()` ended the run early.
        public var interrupted = false
        public var total = 0
        public var done = 0
        public var skipped = 0
        public var failed = 0
        public var remaining: Int { total - done - skipped - failed }
    }

    public let options: Options
    private let lock = NSLock()
    private var running: [String: Process] = [:]
    private var progress = Progress()
    private var lastRebuild = Date.distantPast
    private var stopping = false
    /// The next case to hand to a worker.
    private var next = 0

    public init(_ options: Options) {
        self.options = options
    }

    /// Runs `cases`; `report` is called (serialised) after each case with its id, outcome,
    /// seconds and the progress so far. Returns the final progress.
    public func run(_ cases: [CohortCase],
                    report: @escaping @Sendable (_ id: String, _ outcome: Outcome, _ seconds: Double, _ progress: Progress) -> Void)
        throws -> Progress {
        // The output folder must be writable before any case is computed.
        do {
            try FileManager.default.createDirectory(atPath: options.outFolder, withIntermediateDirectories: true)
            let probe = options.outFolder + "/.mamq-write-probe.tmp-\(getpid())"  // a killed run's is cleared as temporary
            try Data().write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
        } catch {
            throw BatchError(description: "\(options.outFolder): the output folder cannot be written (\(fileSystemReason(error)))")
        }
        try rebuildTables(removingTemporaryFiles: true)
        progress.total = cases.count
        next = 0
        let workers = max(1, min(options.jobs, cases.count))
        let group = DispatchGroup()
        for _ in 0..<workers {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                while true {
                    lock.lock()
                    guard next < cases.count, !stopping else { lock.unlock(); return }
                    let item = cases[next]
                    next += 1
                    lock.unlock()
                    let start = Date()
                    let outcome = process(item)
                    lock.lock()
                    guard let outcome, !stopping else { lock.unlock(); return }
                    switch outcome {
                    case .done: progress.done += 1
                    case .upToDate, .busy: progress.skipped += 1
                    case .failed: progress.failed += 1
                    }
                    let snapshot = progress
                    report(item.id, outcome, Date().timeIntervalSince(start), snapshot)
                    if Date().timeIntervalSince(lastRebuild) > 5 {
                        lastRebuild = Date()
                        // A periodic rebuild that fails is tried again at the next one and at the end.
                        _ = try? rebuildTables(removingTemporaryFiles: false)
                    }
                    lock.unlock()
                }
            }
        }
        group.wait()
        try rebuildTables(removingTemporaryFiles: false)
        lock.lock()
        defer { lock.unlock() }
        progress.interrupted = stopping
        return progress
    }

    /// Stops early (on SIGINT or SIGTERM, say): no case starts any more, the cases in flight
    /// are terminated and their partial files removed; `run` then rebuilds the tables from the
    /// cases finished and returns with `interrupted` set.
    public func stop() {
        lock.lock()
        stopping = true
        let inFlight = running
        lock.unlock()
        for process in inFlight.values where process.isRunning { process.terminate() }
    }

    /// Rebuilds the cohort tables (and, at the start, removes temporary files of interrupted
    /// table writes) holding the output folder's table lock, so that two runs on one folder
    /// (shards of a cluster array) never write or delete each other's files.
    private func rebuildTables(removingTemporaryFiles: Bool) throws {
        let tablesLock: FileLock
        do {
            tablesLock = try FileLock(path: options.outFolder + "/" + Self.tablesLockName, wait: true)
        } catch {
            throw BatchError(description: "\(options.outFolder): the output folder cannot be written (\(error))")
        }
        if removingTemporaryFiles { Self.removeTemporaryFiles(in: options.outFolder) }
        do {
            try CohortSummary.rebuild(options.outFolder)
        } catch {
            throw BatchError(description: "\(options.outFolder): the cohort tables cannot be written (\(fileSystemReason(error)))")
        }
        withExtendedLifetime(tablesLock) {}
    }

    static let tablesLockName = ".mamq-tables.lock"
    /// The lock file in each case folder, held while the case runs.
    static let caseLockName = ".mamq-case.lock"

    /// Runs one case; nil when the batch was stopped meanwhile.
    private func process(_ item: CohortCase) -> Outcome? {
        let folder = options.outFolder + "/" + item.id
        func failure(_ stage: String, _ kind: PipelineError.Kind, _ reason: String) -> Outcome {
            .failed(ErrorRecord(caseId: item.id, stage: stage, exitStatus: options.worker.exitStatus(kind), reason: reason))
        }
        // Ids are checked where cases are found; a case folder is never a link to elsewhere.
        if let problem = CaseID.problem(item.id) { return failure("input", .invalidInput, problem) }
        if isSymbolicLink(folder) {
            return failure("output", .cannotWrite, "\(folder): the case folder is a symbolic link; results are not written through links")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            return failure("output", .cannotWrite, "\(folder): cannot create the case folder (\(fileSystemReason(error)))")
        }
        // One run at a time per case: a second batch on the same folder leaves it to the first.
        let caseLock: FileLock
        do {
            caseLock = try FileLock(path: folder + "/" + Self.caseLockName, wait: false)
        } catch .held {
            return .busy
        } catch {
            return failure("output", .cannotWrite, "\(folder): the case folder cannot be written (\(error))")
        }
        defer { withExtendedLifetime(caseLock) {} }

        guard item.images != nil else {
            let record = ErrorRecord(caseId: item.id, stage: "input", exitStatus: options.worker.exitStatus(.invalidInput),
                                     reason: item.problem ?? "no input files")
            _ = clear(folder)
            try? record.write(to: folder)
            return .failed(record)
        }
        if !options.force, isUpToDate(item, folder: folder) { return .upToDate }
        if let problem = clear(folder) { return failure("output", .cannotWrite, problem) }
        let status: Int32
        let stderr: String
        do {
            (status, stderr) = try runWorker(item, folder: folder)
        } catch {
            let record = ErrorRecord(caseId: item.id, stage: "worker", exitStatus: options.worker.exitStatus(.internalFailure),
                                     reason: "cannot start \(options.worker.executable): \(error)")
            try? record.write(to: folder)
            return .failed(record)
        }
        if isStopping {
            Self.removeTemporaryFiles(in: folder)
            return nil
        }
        if let report = try? JSONDecoder().decode(CaseReport.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/" + CasePipeline.FileName.report))) {
            return .done(registrationRejected: report.status == .registrationRejected, margins: report.tumours.map(\.minimalMarginMM))
        }
        if let data = FileManager.default.contents(atPath: folder + "/" + ErrorRecord.fileName),
           let record = try? JSONDecoder().decode(ErrorRecord.self, from: data) {
            return .failed(record)
        }
        // The worker ended without a report or a record: killed by a signal, or a usage error
        // (whose one line is kept, without its "error: " prefix).
        let reason: String
        if status > 128 {
            reason = "the case's process was killed by signal \(status - 128)"
        } else if let line = stderr.split(whereSeparator: \.isNewline).last {
            reason = line.hasPrefix("error: ") ? String(line.dropFirst("error: ".count)) : String(line)
        } else {
            reason = "the case's process ended with status \(status) and no message"
        }
        let record = ErrorRecord(caseId: item.id, stage: "worker", exitStatus: status, reason: reason)
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try? record.write(to: folder)
        return .failed(record)
    }

    private var isStopping: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopping
    }

    /// Runs one case in a worker process; returns its exit status and standard error.
    private func runWorker(_ item: CohortCase, folder: String) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: options.worker.executable)
        process.arguments = options.worker.arguments(item, folder)
        var environment = ProcessInfo.processInfo.environment
        environment["MAMQ_THREADS"] = "1"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        lock.lock()
        guard !stopping else { lock.unlock(); return (130, "stopped") }
        try process.run()
        running[item.id] = process
        lock.unlock()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        lock.lock()
        running[item.id] = nil
        lock.unlock()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return (status, text)
    }

    /// True when the case's report exists and was made by this version of mam-quantify, from
    /// the same protocol, the same input bytes (SHA-256, the transform file's included), the
    /// same kind of alignment (registered, given or none) and with a QC page if one is wanted now.
    func isUpToDate(_ item: CohortCase, folder: String) -> Bool {
        let method: RegistrationMethod = options.noRegistration ? .none
            : item.transform != nil ? .transformFile
            : options.analysisProtocol.registers ? .rigidICP : .none
        guard let data = FileManager.default.contents(atPath: folder + "/" + CasePipeline.FileName.report),
              let report = try? JSONDecoder().decode(CaseReport.self, from: data),
              report.tool.version == toolVersion,
              report.registration.method == method,
              (report.outputs.qcPage != nil) == options.writesQCPage,
              report.analysisProtocol.sha256 == options.analysisProtocol.sha256 else { return false }
        let recorded = Dictionary(report.inputs.map { ($0.role, $0.sha256) }, uniquingKeysWith: { a, _ in a })
        let files = item.files
        guard recorded.count == files.count else { return false }
        return files.allSatisfy { file in
            guard let digest = try? FileDigest.sha256(path: file.path) else { return false }
            return recorded[file.role.rawValue] == digest
        }
    }

    /// Removes a case's previous results before it runs again (every file a case writes, its
    /// error record, and any file a killed run left half-written); returns why not, if not.
    private func clear(_ folder: String) -> String? {
        Self.removeTemporaryFiles(in: folder)
        do {
            try CasePipeline.clearEarlierResults(in: folder, errorRecord: ErrorRecord.fileName)
            return nil
        } catch {
            return error.message
        }
    }

    /// Deletes the temporary files of interrupted atomic writes (`.NAME.tmp-...`) in `folder`
    /// (each case's own under its lock, the tables' under the tables lock).
    static func removeTemporaryFiles(in folder: String) {
        let manager = FileManager.default
        for name in (try? manager.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
            try? manager.removeItem(atPath: folder + "/" + name)
        }
    }
}

/// Why a batch cannot run or finish: one line naming the folder (the command exits 73).
public struct BatchError: Error, CustomStringConvertible {
    public let description: String
}
