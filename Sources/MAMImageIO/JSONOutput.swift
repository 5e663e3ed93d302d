public import Foundation

/// How mam-quantify writes JSON: keys sorted (so that the same figures give the same bytes),
/// slashes unescaped (paths stay readable), a final newline.
public enum JSONOutput {
    /// A document (report.json and the like): two-space indentation.
    public static func document(_ value: some Encodable) throws -> Data {
        try encode(value, pretty: true)
    }

    /// One line of a JSON Lines file.
    public static func line(_ value: some Encodable) throws -> Data {
        try encode(value, pretty: false)
    }

    private static func encode(_ value: some Encodable, pretty: Bool) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}
