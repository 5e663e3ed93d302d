import Foundation
import MAMCase
import MAMImageIO

/// A reviewer's verdicts on the cases of a batch's results: exported from the cohort page
/// (CSV or JSON), merged into `review.json` in the output folder, and carried by summary.csv's
/// `review` and `review_comment` columns (Docs/qc.md).
public struct Reviews: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var caseId: String
        /// `accept` or `reject`; empty for a comment alone.
        public var review: String
        public var comment: String
    }

    public static let fileName = "review.json"
    public static let verdicts = ["accept", "reject"]

    /// Ordered by case id, one entry per case.
    public var reviews: [Entry]

    /// Why a review file cannot be merged: one line naming the file.
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    /// The entries of a file the cohort page exported: CSV with the header
    /// `case_id,review,comment`, or JSON `{"reviews": [{"caseId", "review", "comment"}]}`.
    public static func read(_ path: String) throws(Problem) -> [Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem(description: "\(path): cannot be read") }
        let entries: [Entry]
        if let json = try? JSONDecoder().decode(Reviews.self, from: data) {
            entries = json.reviews
        } else {
            guard let text = String(data: data, encoding: .utf8) else { throw Problem(description: "\(path): not UTF-8 text") }
            // One review per line (the page's comments are single lines).
            let rows = text.split(whereSeparator: \.isNewline).filter { !$0.isEmpty }.map { Cohort.fields(String($0)) }
            guard rows.first == ["case_id", "review", "comment"] else {
                throw Problem(description: "\(path): neither a review JSON file nor a CSV with the header case_id,review,comment")
            }
            entries = try rows.dropFirst().enumerated().map { (n, row) throws(Problem) in
                guard row.count == 3 else { throw Problem(description: "\(path): line \(n + 2) has \(row.count) fields, not 3") }
                return Entry(caseId: row[0], review: row[1], comment: row[2])
            }
        }
        var seen = Set<String>()
        for e in entries {
            guard e.review.isEmpty || verdicts.contains(e.review) else {
                throw Problem(description: "\(path): case \(e.caseId): review must be accept, reject or empty, not '\(e.review)'")
            }
            guard seen.insert(e.caseId).inserted else { throw Problem(description: "\(path): case \(e.caseId) is reviewed twice") }
        }
        return entries
    }

    /// The verdicts merged into `outFolder` so far (none without review.json).
    public static func load(_ outFolder: String) -> Reviews {
        guard let data = FileManager.default.contents(atPath: outFolder + "/" + fileName),
              let reviews = try? JSONDecoder().decode(Reviews.self, from: data) else { return Reviews(reviews: []) }
        return reviews
    }

    /// Merges the file's entries into `outFolder`'s review.json (a case's new entry replaces its
    /// old one) and rebuilds the tables and the cohort page. Every case named must be one of
    /// the results (analysed or failed); otherwise nothing is merged.
    public static func merge(_ path: String, into outFolder: String) throws -> (merged: [Entry], all: Reviews) {
        let entries = try read(path)
        let results = CohortSummary.collect(outFolder)
        let known = Set(results.reports.map(\.caseId) + results.errors.map(\.caseId))
        let unknown = entries.map(\.caseId).filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw Problem(description: "\(path): not cases of \(outFolder): \(unknown.prefix(5).joined(separator: ", "))"
                          + (unknown.count > 5 ? " and \(unknown.count - 5) more" : "") + "; nothing merged")
        }
        var byCase = Dictionary(load(outFolder).reviews.map { ($0.caseId, $0) }, uniquingKeysWith: { _, b in b })
        for e in entries { byCase[e.caseId] = e }
        let all = Reviews(reviews: byCase.values.sorted { $0.caseId < $1.caseId })
        try AtomicFile.write(JSONOutput.document(all), to: outFolder + "/" + fileName)
        try CohortSummary.rebuild(outFolder)
        return (entries, all)
    }
}
