import Foundation
import MAMTestSupport
import Testing

/// Issue 17: Docs/report.md's PostgreSQL recipe needed jq and failed on a second load, the
/// SQLite one doubled its rows, a quote in a case id broke `\copy`, and failed cases never
/// reached the database. The recipes in Docs/database/ run here as a data manager runs them:
/// PostgreSQL through psql against the server scripts/test starts (MAMQ_PGHOST, a Unix socket
/// in a temporary folder), SQLite through the shipped Python script; the expected rows come
/// from the report and error files themselves, read here.
@Suite("database recipes (Docs/database): PostgreSQL and SQLite", .serialized)
final class DatabaseRecipeTests {
    let folder: TemporaryFolder
    let recipes = packageRoot.appendingPathComponent("Docs/database").path
    /// Each sample case, a copy of one under an id with both quotes, and a case whose post
    /// file is cut short (it fails).
    let cohort: String
    let results: String
    static let quoted = #"o'brien "7""#

    init() throws {
        folder = try TemporaryFolder()
        cohort = folder.file("cohort")
        results = folder.file("results")
        for sample in SampleCaseFiles.all {
            try FileManager.default.copyItem(atPath: sample.folder, toPath: cohort + "/" + sample.name)
        }
        try FileManager.default.copyItem(atPath: SampleCaseFiles.all[2].folder, toPath: cohort + "/" + Self.quoted)
        try FileManager.default.createDirectory(atPath: cohort + "/broken", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: SampleCaseFiles.all[0].pre, toPath: cohort + "/broken/pre.nii.gz")
        let post = try Data(contentsOf: URL(fileURLWithPath: SampleCaseFiles.all[0].post))
        try post.prefix(3000).write(to: URL(fileURLWithPath: cohort + "/broken/post.nii.gz"))
    }

    deinit { folder.remove() }

    /// A batch over the cohort with a strict registration check (liver Dice >= 0.999), so that
    /// the cases whose livers differ are rejected and those with identical livers accepted.
    func runBatch(force: Bool = false) throws {
        let strict = folder.file("strict.yaml")
        if !FileManager.default.fileExists(atPath: strict) {
            let text = try Binary.run(["protocols", "--show", "iamcomplete"]).stdout
            precondition(text.contains("    min_liver_dice: 0.85"))
            try text.replacingOccurrences(of: "    min_liver_dice: 0.85", with: "    min_liver_dice: 0.999")
                .write(toFile: strict, atomically: true, encoding: .utf8)
        }
        let run = try Binary.run(["batch", cohort, "--out", results, "--protocol", strict] + (force ? ["--force"] : []))
        #expect(run.status == 0 || run.status == 4, "\(run.stderr)")
    }

    /// What the three data-manager queries (and the failed-case one) must return, worked out
    /// from the case folders' report.json and error.json.
    struct Expected {
        var mamPerCase: [(id: String, mam: Double, tumours: Int)] = []
        var belowTarget: [(id: String, count: Int)] = []
        var rejected: [String] = []
        var failed: [(id: String, stage: String, status: Int, reason: String)] = []
    }

    func expected() throws -> Expected {
        var e = Expected()
        for id in try FileManager.default.contentsOfDirectory(atPath: results).sorted() {
            let path = results + "/" + id
            if let data = FileManager.default.contents(atPath: path + "/report.json") {
                let report = try JSONSerialization.jsonObject(with: data) as! [String: Any]
                let tumours = report["tumours"] as! [[String: Any]]
                let mams = tumours.compactMap { $0["minimalMarginMM"] as? Double }
                e.mamPerCase.append((id, mams.min()!, tumours.count))
                let below = tumours.filter { $0["minimalMarginMM"] is NSNull || ($0["meetsTargetMargin"] as? Bool) == false }
                if !below.isEmpty { e.belowTarget.append((id, below.count)) }
                if ((report["registration"] as! [String: Any])["verdict"] as! String) == "rejected" { e.rejected.append(id) }
            } else if let data = FileManager.default.contents(atPath: path + "/error.json") {
                let record = try JSONSerialization.jsonObject(with: data) as! [String: Any]
                e.failed.append((id, record["stage"] as! String, record["exitStatus"] as! Int, record["reason"] as! String))
            }
        }
        return e
    }

    /// Checks the four queries' rows (as text, however the database prints them) against `e`.
    func check(_ rows: [[[String]]], against e: Expected, _ database: String) {
        guard rows.count == 4 else {
            Issue.record("\(database): \(rows.count) result sets, 4 expected")
            return
        }
        // MAM per case: the case ids in order; the MAM as stored (the report's 3 decimals,
        // through each database's double): equal to 1e-9 mm.
        #expect(rows[0].map { $0[0] } == e.mamPerCase.map(\.id), "\(database)")
        for (row, want) in zip(rows[0], e.mamPerCase) {
            #expect(abs((Double(row[1]) ?? .nan) - want.mam) <= 1e-9, "\(database): \(row)")
            #expect(row[4] == "\(want.tumours)", "\(database): \(row)")
        }
        #expect(rows[1].map { $0[0] } == e.belowTarget.map(\.id), "\(database)")
        #expect(rows[1].map { $0[1] } == e.belowTarget.map { "\($0.count)" }, "\(database)")
        #expect(rows[2].map { $0[0] } == e.rejected, "\(database)")
        #expect(rows[3] == e.failed.map { [$0.id, $0.stage, "\($0.status)", $0.reason] }, "\(database)")
    }

    @Test("Docs/database.md shows queries.sql as it is")
    func documentedQueries() throws {
        let doc = try String(contentsOfFile: packageRoot.appendingPathComponent("Docs/database.md").path, encoding: .utf8)
        let questions = try #require(doc.range(of: "## Questions"))
        let start = try #require(doc.range(of: "```sql\n", range: questions.upperBound..<doc.endIndex))
        let end = try #require(doc.range(of: "```", range: start.upperBound..<doc.endIndex))
        let file = try String(contentsOfFile: recipes + "/queries.sql", encoding: .utf8)
        // The file's header (up to its first blank line) is not shown.
        let body = try #require(file.range(of: "\n\n"))
        #expect(String(doc[start.upperBound..<end.lowerBound]) == String(file[body.upperBound...]))
    }

    // MARK: PostgreSQL

    /// psql with the suite's server; nil with an issue recorded when scripts/test did not start one.
    func psql(_ arguments: [String], input: Data? = nil) throws -> Binary.Run? {
        guard let host = ProcessInfo.processInfo.environment["MAMQ_PGHOST"] else {
            Issue.record("no PostgreSQL server for the database recipes: run scripts/test (it starts one and sets MAMQ_PGHOST)")
            return nil
        }
        return try runTool("/usr/bin/env", ["psql", "-X", "-h", host, "-U", "postgres"] + arguments, input: input)
    }

    func pgRows(_ database: String, _ sql: String) throws -> [[String]] {
        guard let run = try psql(["-d", database, "-A", "-t", "-F", "\u{1F}", "-R", "\u{1E}", "-v", "ON_ERROR_STOP=1", "-c", sql]) else { return [] }
        #expect(run.status == 0, "\(run.stderr)")
        return run.stdout.split(separator: "\u{1E}").map { $0.trimmingCharacters(in: .newlines) }.filter { !$0.isEmpty }
            .map { $0.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init) }
    }

    func pgLoad(_ database: String) throws -> String {
        let input = try Data(contentsOf: URL(fileURLWithPath: results + "/reports.jsonl"))
            + Data(contentsOf: URL(fileURLWithPath: results + "/errors.jsonl"))
        guard let run = try psql(["-d", database, "-v", "ON_ERROR_STOP=1", "-f", recipes + "/postgresql.sql"], input: input) else { return "" }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty, "psql printed: \(run.stderr)")
        return run.stdout
    }

    func queries() throws -> [String] {
        let text = try String(contentsOfFile: recipes + "/queries.sql", encoding: .utf8)
            .split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined(separator: "\n")
        return text.split(separator: ";").map(String.init).filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }

    @Test("PostgreSQL 15: a second load leaves the same rows, a failed case is a row, a repaired case replaces its row, the queries answer")
    func postgres() throws {
        try runBatch()
        let database = "mamq_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        guard let created = try psql(["-d", "postgres", "-c", "CREATE DATABASE \(database)"]) else { return }
        #expect(created.status == 0, "\(created.stderr)")
        let version = try pgRows(database, "SHOW server_version_num")
        #expect(version.first?.first?.hasPrefix("15") == true, "server \(version)")

        let table = "SELECT case_id, status, inputs_sha256, document::text, loaded_at FROM mam_case ORDER BY case_id"
        let view = "SELECT * FROM mam_tumour ORDER BY case_id, tumour"
        #expect(try pgLoad(database).contains("INSERT 0 6"))
        let (first, firstView) = (try pgRows(database, table), try pgRows(database, view))
        #expect(first.count == 6)
        // Loaded again: nothing inserted or updated (loaded_at, microseconds, would differ).
        #expect(try pgLoad(database).contains("INSERT 0 0"))
        #expect(try pgRows(database, table) == first)
        #expect(try pgRows(database, view) == firstView)
        #expect(first.map { $0[0] }.contains(Self.quoted))
        #expect(first.first { $0[0] == "broken" }?[1] == "failed")

        let e = try expected()
        #expect(e.failed.count == 1 && !e.rejected.isEmpty && e.rejected.count < e.mamPerCase.count)
        check(try queries().map { try pgRows(database, $0) }, against: e, "PostgreSQL")

        // The broken case repaired and run again: its row replaced, the others untouched.
        try FileManager.default.removeItem(atPath: cohort + "/broken/post.nii.gz")
        try FileManager.default.copyItem(atPath: SampleCaseFiles.all[0].post, toPath: cohort + "/broken/post.nii.gz")
        try runBatch()
        #expect(try pgLoad(database).contains("INSERT 0 1"))
        let repaired = try pgRows(database, table)
        #expect(repaired.filter { $0[0] != "broken" } == first.filter { $0[0] != "broken" })
        #expect(repaired.first { $0[0] == "broken" }?[1] == "done")
        check(try queries().map { try pgRows(database, $0) }, against: try expected(), "PostgreSQL, repaired")
        _ = try psql(["-d", "postgres", "-c", "DROP DATABASE \(database)"])
    }

    // MARK: SQLite

    func sqliteLoad(_ database: String) throws -> String {
        let run = try runTool(try #require(ReferenceTools.python), [recipes + "/sqlite.py", results, database])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run.stderr)")
        return run.stdout
    }

    func sqliteRows(_ database: String, _ sql: String) throws -> [[[String]]] {
        let file = folder.file("query-\(UUID().uuidString).sql")
        try sql.write(toFile: file, atomically: true, encoding: .utf8)
        let data = try ReferenceTools.run("sqlite_rows.py", [database, file])
        let sets = try JSONSerialization.jsonObject(with: data) as! [[[Any]]]
        return sets.map { $0.map { $0.map { value in value is NSNull ? "" : "\(value)" } } }
    }

    @Test("SQLite: a second load leaves the same rows, a failed case is a row, a repaired case replaces its row, the queries answer")
    func sqlite() throws {
        try runBatch()
        let database = folder.file("mam.sqlite")
        let table = "SELECT case_id, status, inputs_sha256, document, loaded_at FROM mam_case ORDER BY case_id;"
        #expect(try sqliteLoad(database) == "\(database): 6 cases: 6 new, 0 replaced, 0 unchanged\n")
        let first = try sqliteRows(database, table + "SELECT * FROM mam_tumour ORDER BY case_id, tumour;")
        #expect(first[0].count == 6)
        #expect(try sqliteLoad(database) == "\(database): 6 cases: 0 new, 0 replaced, 6 unchanged\n")
        #expect(try sqliteRows(database, table + "SELECT * FROM mam_tumour ORDER BY case_id, tumour;") == first)
        #expect(first[0].first { $0[0] == Self.quoted }?[1] == "done")

        let e = try expected()
        check(try sqliteRows(database, String(contentsOfFile: recipes + "/queries.sql", encoding: .utf8)), against: e, "SQLite")

        try FileManager.default.removeItem(atPath: cohort + "/broken/post.nii.gz")
        try FileManager.default.copyItem(atPath: SampleCaseFiles.all[0].post, toPath: cohort + "/broken/post.nii.gz")
        try runBatch()
        #expect(try sqliteLoad(database) == "\(database): 6 cases: 0 new, 1 replaced, 5 unchanged\n")
        check(try sqliteRows(database, String(contentsOfFile: recipes + "/queries.sql", encoding: .utf8)),
              against: try expected(), "SQLite, repaired")
    }
}
