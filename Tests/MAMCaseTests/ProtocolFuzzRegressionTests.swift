import Foundation
import MAMCase
import MAMTestSupport
import Testing

/// Every protocol kept in Tests/Fuzz/Regressions/protocol (crashes or hangs found by fuzzing, and the
/// 0.6.0 audit's hostile protocols, named audit-*) parsed as `--protocol FILE` is: no crash, and
/// the audit's are refused with file, line and key.
@Suite("Fuzz regressions: the protocol parser")
struct ProtocolFuzzRegressionTests {
    static let folder = packageRoot.appendingPathComponent("Tests/Fuzz/Regressions/protocol").path
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()

    @Test("the regression folder holds the audit's protocols")
    func present() {
        #expect(Self.files.filter { $0.hasPrefix("audit-") }.count >= 4)
    }

    @Test("each kept protocol: parsed or refused, never a crash", arguments: files)
    func replay(_ name: String) throws {
        let path = Self.folder + "/" + name
        do {
            _ = try AnalysisProtocol(contentsOfFile: path)
            #expect(!name.hasPrefix("audit-"), "\(name) was accepted")
        } catch {
            #expect(error.source == path)
            #expect(!name.hasPrefix("audit-") || (error.line != nil && error.key != nil))
        }
    }
}
