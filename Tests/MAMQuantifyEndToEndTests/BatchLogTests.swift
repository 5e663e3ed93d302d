import Foundation
import MAMTestSupport
import Testing

/// Where a batch's lines go, seen from a terminal (a pseudo-terminal of 60 columns,
/// Tests/Tools/pty_run.py): `batch ... > overnight.log` put only the last line in the log, and
/// the status line wrapped at 60 columns, adding a line per update (issue 17).
@Suite("mam-quantify end to end: batch logs on a terminal")
final class BatchLogTests {
    let folder: TemporaryFolder
    let cohort: String

    init() throws {
        folder = try TemporaryFolder()
        cohort = folder.file("cohort")
        try sampleCohort(cohort, ids: ["p01", "p02", "p03"])
    }

    deinit { folder.remove() }

    func onTerminal(_ mode: [String], out: String) throws -> String {
        let output = try ReferenceTools.run("pty_run.py", ["--columns", "60"] + mode + ["--", Binary.path, "batch", cohort, "--out", out])
        return String(decoding: output, as: UTF8.self)
    }

    @Test("typed in a terminal with standard output to a file: every case's line is in the file")
    func logToFile() throws {
        let log = folder.file("overnight.log")
        let terminal = try onTerminal(["--stdout", log], out: folder.file("out"))
        #expect(terminal.hasSuffix("exit 0\n"))
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 4, "\(lines)")
        for id in ["p01", "p02", "p03"] { #expect(lines.contains { $0.contains("] \(id): done, MAM 4.81 mm") }) }
        #expect(lines.last?.hasPrefix("3 cases: 3 done, 0 up to date, 0 failed; summary: ") == true)
        #expect(!terminal.contains("done, MAM"))
    }

    @Test("on a terminal of 60 columns: each update of the status line fits in 59 characters")
    func statusLineFits() throws {
        let terminal = try onTerminal(["--both"], out: folder.file("out"))
        #expect(terminal.hasSuffix("exit 0\n"))
        // Each update starts by returning to the line's start and clearing it; an update that
        // is not followed by a line break is a status line.
        let updates = terminal.components(separatedBy: "\r\u{1B}[K").dropFirst().filter { !$0.contains("\n") }
        #expect(updates.count == 3)
        for update in updates {
            #expect(update.count <= 59, "\(update.count) characters: \(update)")
            #expect(update.contains(" done, "))
        }
    }
}

@Suite("mam-quantify batch --help")
struct BatchHelpTests {
    @Test("--jobs says its default once, and the exit statuses include 73 and 130")
    func help() throws {
        let text = try Binary.run(["batch", "--help"]).stdout
        // The option's entry in the list (not the usage line): its line and the wrapped next one.
        let jobs = try #require(text.range(of: "\n  --jobs <n>")).upperBound
        let entry = text[jobs...].split(separator: "\n").prefix(2).joined(separator: " ")
        #expect(entry.components(separatedBy: "default").count == 2, "\(entry)")
        #expect(text.contains("73 the output folder") && text.contains("130 stopped"))
    }
}
