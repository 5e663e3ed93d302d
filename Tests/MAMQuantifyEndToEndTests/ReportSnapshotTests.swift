import Foundation
import MAMTestSupport
import Testing

/// Any JSON value, for describing a report's structure.
indirect enum JSONValue: Decodable {
    case null, bool, number, string
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() { self = .null; return }
        if (try? single.decode(Bool.self)) != nil { self = .bool; return }
        if (try? single.decode(Double.self)) != nil { self = .number; return }
        if (try? single.decode(String.self)) != nil { self = .string; return }
        if let array = try? single.decode([JSONValue].self) { self = .array(array); return }
        self = .object(try single.decode([String: JSONValue].self))
    }

    /// One line per key path with the JSON types seen there, e.g. `tumours[].minimalMarginMM: number|null`.
    func structure(_ path: String = "", into lines: inout [String: Set<String>]) {
        switch self {
        case .null: lines[path, default: []].insert("null")
        case .bool: lines[path, default: []].insert("boolean")
        case .number: lines[path, default: []].insert("number")
        case .string: lines[path, default: []].insert("string")
        case .array(let items):
            lines[path, default: []].insert("array")
            for item in items { item.structure(path + "[]", into: &lines) }
        case .object(let members):
            lines[path, default: []].insert("object")
            for (key, value) in members { value.structure(path.isEmpty ? key : path + "." + key, into: &lines) }
        }
    }
}

/// Pins the report's structure (every key path and its types) to a stored snapshot, so that a
/// change of the schema is a deliberate act: update Docs/report.schema.json, Docs/report.md and
/// the schema version, then re-record with MAMQ_RECORD_SNAPSHOTS=1.
@Suite("Report structure snapshot")
struct ReportSnapshotTests {
    static let snapshot = packageRoot.appendingPathComponent("Tests/MAMQuantifyEndToEndTests/Snapshots/report-structure.txt").path

    @Test("the report's key paths and types match the snapshot")
    func structure() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Two tumours, capsule exclusion on: every section holds values (none is null throughout).
        let protocolText = try Binary.run(["protocols", "--show", "iamcomplete"]).stdout
            .replacingOccurrences(of: "capsule_exclusion_mm: null", with: "capsule_exclusion_mm: 2")
        try protocolText.write(toFile: folder.file("capsule.yaml"), atomically: true, encoding: .utf8)
        let sample = SampleCaseFiles.all[2]
        let run = try Binary.run([sample.pre, sample.post, "--protocol", folder.file("capsule.yaml"),
                                  "--out", folder.file("out"), "--quiet"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: folder.file("out/report.json"))))
        var lines: [String: Set<String>] = [:]
        report.structure(into: &lines)
        let text = lines.filter { !$0.key.isEmpty }.map { "\($0.key): \($0.value.sorted().joined(separator: "|"))" }.sorted()
            .joined(separator: "\n") + "\n"
        if ProcessInfo.processInfo.environment["MAMQ_RECORD_SNAPSHOTS"] == "1" {
            try text.write(toFile: Self.snapshot, atomically: true, encoding: .utf8)
        }
        let stored = try String(contentsOfFile: Self.snapshot, encoding: .utf8)
        #expect(text == stored, "the report's structure changed; see this suite's documentation")
    }
}
