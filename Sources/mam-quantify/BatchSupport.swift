import Dispatch
import Foundation
import MAMCohort

/// A batch worker ends when the batch that started it is gone (killed with SIGKILL, say):
/// the batch's re-run will analyse the case again.
enum BatchWorker {
    static func endWithParent() {
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { usleep(100_000) }
            _exit(ExitStatus.internalError)
        }
    }
}

/// SIGINT and SIGTERM stop the batch cleanly: `stop` runs (the batch then winds down and the
/// command exits with 130).
enum SignalStop {
    static func install(_ stop: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop() }
            source.resume()
            return source
        }
    }
}

/// Progress of a batch: one updating line on a terminal (done / failed / remaining, rate,
/// estimated time left), or one line per case when the output goes to a file or a pipe.
final class ProgressDisplay: @unchecked Sendable {
    let total: Int
    let start = Date()
    let terminal = isatty(STDERR_FILENO) == 1

    init(total: Int) { self.total = total }

    func show(_ id: String, _ outcome: Batch.Outcome, _ seconds: Double, _ p: Batch.Progress) {
        let finished = p.done + p.skipped + p.failed
        let what: String
        switch outcome {
        case .done(let rejected, let margins):
            let mams = margins.map { $0.map { String(format: "%.2f mm", $0) } ?? "none" }.joined(separator: ", ")
            what = "done, MAM \(mams)" + (rejected ? " (registration rejected)" : "")
        case .upToDate:
            what = "up to date, skipped"
        case .busy:
            what = "skipped: another run on this output folder is computing it"
        case .failed(let record):
            what = "FAILED (\(record.stage), exit \(record.exitStatus)): \(record.reason)"
        }
        let line = String(format: "[%d/%d] %@: %@ (%.1f s)", finished, total, id, what, seconds)
        if terminal {
            if case .failed = outcome { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)\n".utf8)) }
            FileHandle.standardError.write(Data("\r\u{1B}[K\(status(p))".utf8))
        } else {
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
    }

    func status(_ p: Batch.Progress) -> String {
        let elapsed = Date().timeIntervalSince(start)
        // The rate counts the cases analysed, not failures (which are mostly instant).
        let computed = p.done
        var text = "\(p.done) done, \(p.skipped) up to date, \(p.failed) failed, \(p.remaining) remaining"
        if computed > 0, elapsed > 0 {
            let perMinute = Double(computed) / elapsed * 60
            let left = Double(p.remaining) / perMinute * 60
            text += String(format: "; %.1f cases/min, about %@ left", perMinute, Self.duration(left))
        }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : (s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s")
    }

    /// Clears the status line before an error is printed.
    func abandon() {
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    func interrupted() {
        FileHandle.standardError.write(Data("\ninterrupted: the cases in flight were stopped; run the same command again to go on\n".utf8))
    }

    func finish(_ p: Batch.Progress, out: String) {
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        print("\(p.total) cases: \(p.done) done, \(p.skipped) up to date, \(p.failed) failed; "
              + "summary: \(out)/\(CohortSummary.csvName), reports: \(out)/\(CohortSummary.jsonLinesName)")
    }
}
