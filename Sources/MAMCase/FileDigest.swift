public import Foundation
internal import _COpenSSL

/// SHA-256 digests (lowercase hex, as `sha256sum` prints them), through libcrypto.
public enum FileDigest {
    /// The digest of a file's bytes, read in 1 MiB pieces. Throws when the file cannot be read.
    public static func sha256(path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        let digest = Digest()
        while let piece = try handle.read(upToCount: 1 << 20), !piece.isEmpty {
            digest.update(piece)
        }
        return digest.hex()
    }

    /// The digest of `data`.
    public static func sha256(_ data: Data) -> String {
        let digest = Digest()
        digest.update(data)
        return digest.hex()
    }

    /// One EVP digest context; every libcrypto call of the module is here.
    private final class Digest {
        let context: OpaquePointer

        init() {
            // Allocation or initialisation fails only when memory is exhausted.
            guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
                fatalError("libcrypto could not start a SHA-256 digest")
            }
            self.context = context
        }

        deinit { EVP_MD_CTX_free(context) }

        func update(_ data: Data) {
            let ok = data.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
            precondition(ok == 1, "libcrypto's SHA-256 update failed")
        }

        func hex() -> String {
            var bytes = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            precondition(EVP_DigestFinal_ex(context, &bytes, &length) == 1, "libcrypto's SHA-256 final step failed")
            return bytes.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
        }
    }
}
