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
