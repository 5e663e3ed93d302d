import Foundation

/// A case id names a case in reports and tables and is the name of its folder under the
/// output folder, so it must be one safe path component: this is the one place that says so.
public enum CaseID {
    /// Longest id, in bytes of UTF-8 (file systems allow 255 per component).
    public static let maxBytes = 200

    /// Why `id` cannot be a case id (nil when it can): empty, `.` or `..`, hidden (starting
    /// with `.`, as our temporary and lock files do), holding `/`, a backslash or a control
    /// character, or longer than `maxBytes`.
    public static func problem(_ id: String) -> String? {
        if id.isEmpty { return "a case id cannot be empty" }
        if id.hasPrefix(".") { return "a case id cannot start with '.' (got '\(id)')" }
        if id.contains("/") || id.contains("\\") { return "a case id cannot hold '/' or '\\' (got '\(id)')" }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "a case id cannot hold control characters"
        }
        if id.utf8.count > maxBytes { return "a case id is at most \(maxBytes) bytes long" }
        return nil
    }
}

extension CaseID {
    /// The id of a case given by its files: the name of the deepest folder holding all of them
    /// (`p07` for `p07/pre/seg.nii.gz` and `p07/post/seg.nii.gz`, `sphere-5mm` for two files
    /// side by side in `sphere-5mm/`); relative paths count from the current folder. "case"
    /// when that name cannot be a case id (the file system's root, say).
    public static func derived(from paths: [String]) -> String {
        let folders = paths.map { URL(fileURLWithPath: $0).standardizedFileURL.deletingLastPathComponent().pathComponents }
        guard var common = folders.first else { return "case" }
        for folder in folders.dropFirst() {
            common = Array(zip(common, folder).prefix { $0 == $1 }.map(\.0))
        }
        guard let name = common.last, common.count > 1, problem(name) == nil else { return "case" }
        return name
    }
}
