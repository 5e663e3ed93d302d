import Foundation
public import MAMCase

/// One case of a cohort: its identifier and files, or what is missing.
public struct CohortCase: Sendable {
    public var id: String
    /// Nil when the case's files are incomplete or ambiguous (`problem` says why).
    public var images: CaseRequest.Images?
    public var problem: String?
    /// A pre-to-post transform file to use instead of registering (a manifest's `transform`).
    public var transform: String?
    /// Scans to draw under the QC page's outlines (shown, not measured: not hashed for the
    /// up-to-date check).
    public var preImage: String?
    public var postImage: String?

    public init(id: String, images: CaseRequest.Images?, problem: String?, transform: String? = nil,
                preImage: String? = nil, postImage: String? = nil) {
        self.id = id
        self.images = images
        self.problem = problem
        self.transform = transform
        self.preImage = preImage
        self.postImage = postImage
    }

    /// Every file the case names, for listing and hashing (as its report lists its inputs).
    public var files: [(role: CaseRequest.FileRole, path: String)] {
        (images?.files ?? []) + (transform.map { [(.transform, $0)] } ?? [])
    }
}

/// Why a cohort could not be listed at all.
public struct CohortError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// Finding a cohort's cases: one sub-folder per case (file names from the protocol's `files`
/// patterns), or a manifest CSV. See Docs/batch.md.
public enum Cohort {
    /// The cases in `folder`, one per sub-folder (hidden ones skipped), sorted by name. A
    /// sub-folder that is `outFolder` or holds a batch's results (its tables or their lock) is
    /// not a case: `batch cohort --out cohort/results` must not take its results for a case.
    public static func discover(_ folder: String, patterns: AnalysisProtocol.FilePatterns,
                                outFolder: String? = nil) throws(CohortError) -> [CohortCase] {
        let out = outFolder.map { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        guard manager.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CohortError(description: "\(folder): no such cohort folder")
        }
        guard let names = try? manager.contentsOfDirectory(atPath: folder) else {
            throw CohortError(description: "\(folder): cannot be listed")
        }
        var cases: [CohortCase] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            let caseFolder = folder + "/" + name
            guard manager.fileExists(atPath: caseFolder, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            if URL(fileURLWithPath: caseFolder).standardizedFileURL.resolvingSymlinksInPath().path == out
                || [CohortSummary.csvName, CohortSummary.jsonLinesName, CohortSummary.errorLinesName, Batch.tablesLockName]
                    .contains(where: { manager.fileExists(atPath: caseFolder + "/" + $0) }) {
                continue
            }
            if let problem = CaseID.problem(name) {
                cases.append(CohortCase(id: name, images: nil, problem: "\(caseFolder): \(problem)"))
                continue
            }
            let files = ((try? manager.contentsOfDirectory(atPath: caseFolder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
            cases.append(match(id: name, folder: caseFolder, files: files, patterns: patterns))
        }
        return cases
    }

    /// The case's images from the file names in its folder: label maps when both `pre` and
    /// `post` match, else per-structure masks.
    static func match(id: String, folder: String, files: [String], patterns: AnalysisProtocol.FilePatterns) -> CohortCase {
        func find(_ pattern: String) -> (path: String?, problem: String?) {
            // Alternatives separated by "|": a file matching any of them.
            let alternatives = pattern.split(separator: "|").map(String.init)
            let hits = files.filter { name in alternatives.contains { fnmatch($0, name, 0) == 0 } }
            if hits.count > 1 { return (nil, "several files match \(pattern): \(hits.joined(separator: ", "))") }
            return (hits.first.map { folder + "/" + $0 }, nil)
        }
        let pre = find(patterns.pre), post = find(patterns.post)
        let preImage = find(patterns.preImage), postImage = find(patterns.postImage)
        if let problem = pre.problem ?? post.problem ?? preImage.problem ?? postImage.problem {
            return CohortCase(id: id, images: nil, problem: problem)
        }
        if let prePath = pre.path, let postPath = post.path {
            return CohortCase(id: id, images: .labelMaps(pre: prePath, post: postPath), problem: nil,
                              preImage: preImage.path, postImage: postImage.path)
        }
        let tumour = find(patterns.preTumour), zone = find(patterns.postAblationZone)
        let preLiver = find(patterns.preLiver), postLiver = find(patterns.postLiver)
        if let problem = tumour.problem ?? zone.problem ?? preLiver.problem ?? postLiver.problem {
            return CohortCase(id: id, images: nil, problem: problem)
        }
        if let tumourPath = tumour.path, let zonePath = zone.path {
            return CohortCase(id: id, images: .structures(preLiver: preLiver.path, preTumour: tumourPath,
                                                          postLiver: postLiver.path, postAblationZone: zonePath), problem: nil,
                              preImage: preImage.path, postImage: postImage.path)
        }
        var missing: [String] = []
        if pre.path != nil || post.path != nil || tumour.path == nil && zone.path == nil {
            if pre.path == nil { missing.append(patterns.pre) }
            if post.path == nil { missing.append(patterns.post) }
        } else {
            if tumour.path == nil { missing.append(patterns.preTumour) }
            if zone.path == nil { missing.append(patterns.postAblationZone) }
        }
        let found = files.isEmpty ? "the folder is empty"
            : "found: " + files.prefix(8).joined(separator: ", ") + (files.count > 8 ? " and \(files.count - 8) more" : "")
        return CohortCase(id: id, images: nil, problem: "missing \(missing.joined(separator: " and ")) in \(folder) (\(found))")
    }

    /// The cases of a manifest: a CSV file with a header row naming `case_id` and either `pre`
    /// and `post` or `pre_tumour` and `post_ablation_zone` (plus optional `pre_liver` and
    /// `post_liver`), and optionally `transform` (a pre-to-post .tfm used instead of registering)
    /// and `pre_image`, `post_image` (scans drawn under the QC page's outlines). Relative paths
    /// are relative to the manifest's folder. Sorted by case id.
    public static func manifest(_ path: String) throws(CohortError) -> [CohortCase] {
        let (header, rows) = try table(path)
        let known = ["case_id", "pre", "post", "pre_liver", "pre_tumour", "post_liver", "post_ablation_zone", "transform",
                     "pre_image", "post_image"]
        if let unknown = header.first(where: { !known.contains($0) }) {
            throw CohortError(description: "\(path): header: unknown column \(unknown) (known: \(known.joined(separator: ", ")))")
        }
        guard header.contains("case_id"),
              (header.contains("pre") && header.contains("post"))
                || (header.contains("pre_tumour") && header.contains("post_ablation_zone")) else {
            throw CohortError(description: "\(path): the header needs case_id and either pre, post or pre_tumour, post_ablation_zone")
        }
        var cases: [CohortCase] = []
        var seen = Set<String>()
        for (line, column) in rows {
            guard let id = column["case_id"], id.range(of: "^[A-Za-z0-9._-]+$", options: .regularExpression) != nil else {
                throw CohortError(description: "\(path): line \(line): case_id must be letters, digits, '.', '_' or '-'")
            }
            if let problem = CaseID.problem(id) { throw CohortError(description: "\(path): line \(line): \(problem)") }
            guard seen.insert(id).inserted else { throw CohortError(description: "\(path): line \(line): case \(id) listed twice") }
            if let pre = column["pre"], let post = column["post"] {
                cases.append(CohortCase(id: id, images: .labelMaps(pre: pre, post: post), problem: nil, transform: column["transform"],
                                        preImage: column["pre_image"], postImage: column["post_image"]))
            } else if let tumour = column["pre_tumour"], let zone = column["post_ablation_zone"] {
                cases.append(CohortCase(id: id, images: .structures(preLiver: column["pre_liver"], preTumour: tumour,
                                                                    postLiver: column["post_liver"], postAblationZone: zone),
                                        problem: nil, transform: column["transform"],
                                        preImage: column["pre_image"], postImage: column["post_image"]))
            } else {
                cases.append(CohortCase(id: id, images: nil, problem: "the manifest names no complete set of files (line \(line))"))
            }
        }
        return cases.sorted { $0.id < $1.id }
    }

    /// A CSV file with a header row: the header's column names, and per row its line number and
    /// its non-empty fields by column, paths made relative to the file's folder (every column
    /// but `case_id`). Blank lines and lines starting with `#` are skipped.
    static func table(_ path: String) throws(CohortError) -> (header: [String], rows: [(line: Int, column: [String: String])]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw CohortError(description: "\(path): no such manifest, or not UTF-8 text")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .map { (line: $0.offset + 1, text: $0.element.trimmingCharacters(in: .whitespacesAndNewlines)) }
            .filter { !$0.text.isEmpty && !$0.text.hasPrefix("#") }
        guard let first = lines.first else { throw CohortError(description: "\(path): the manifest is empty") }
        let header = fields(first.text)
        var rows: [(line: Int, column: [String: String])] = []
        for (line, text) in lines.dropFirst() {
            let values = fields(text)
            guard values.count == header.count else {
                throw CohortError(description: "\(path): line \(line): \(values.count) fields, the header has \(header.count)")
            }
            var column: [String: String] = [:]
            for (key, value) in zip(header, values) where !value.isEmpty {
                column[key] = key == "case_id" || value.hasPrefix("/") ? value : base + "/" + value
            }
            rows.append((line, column))
        }
        return (header, rows)
    }

    /// The fields of one CSV row: commas separate, double quotes protect commas and quotes ("");
    /// each trimmed of spaces.
    public static func fields(_ row: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        let characters = Array(row)
        var i = 0
        while i < characters.count {
            let c = characters[i]
            if quoted {
                if c != "\"" {
                    current.append(c)
                } else if i + 1 < characters.count, characters[i + 1] == "\"" {
                    current.append("\"")
                    i += 1
                } else {
                    quoted = false
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
            i += 1
        }
        fields.append(current)
        return fields.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// Whether a case belongs to shard `index` (1-based) of `count`: by a stable hash of its
    /// id (FNV-1a), so a case stays in its shard when others are added or removed.
    public static func inShard(_ id: String, index: Int, count: Int) -> Bool {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(count)) == index - 1
    }
}
