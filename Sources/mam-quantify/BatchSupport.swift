import Dispatch
import Foundation
import MAMCohort
import MAMQC

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
    /// The per-case lines go wherever standard output goes (`batch ... > overnight.log` from a
    /// terminal puts them in the log); the status line only when both outputs are a terminal.
    let terminal = isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1

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
            FileHandle.standardError.write(Data("\r\u{1B}[K\(Self.fitting(status(p), columns: Self.columns()))".utf8))
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

    /// The terminal's width (standard error's), 80 when it cannot be told.
    static func columns() -> Int {
        var size = winsize()
        return ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
    }

    /// `text` cut to fit `columns - 1` characters, so that the status line never wraps (a
    /// wrapped line is not rewritten in place: each update would add a line).
    static func fitting(_ text: String, columns: Int) -> String {
        text.count < columns ? text : String(text.prefix(max(0, columns - 2))) + "…"
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
              + "summary: \(out)/\(CohortSummary.csvName), reports: \(out)/\(CohortSummary.jsonLinesName), "
              + "page: \(out)/\(CohortPage.fileName)")
    }
}
