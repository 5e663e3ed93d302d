import Foundation
import MAMImageIO
import MAMTestSupport
import Testing

/// Every input kept in Tests/Fuzz/Regressions/nifti (crashes found by fuzzing, and the 0.6.0 audit's
/// crafted files, named audit-*) read as a case's file is: no crash, and a refusal is one line
/// naming the file. The audit's files must be refused.
@Suite("Fuzz regressions: the NIfTI reader")
struct NIfTIFuzzRegressionTests {
    static let folder = packageRoot.appendingPathComponent("Tests/Fuzz/Regressions/nifti").path
    static let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()

    @Test("the regression folder holds the audit's files")
    func present() {
        #expect(Self.files.filter { $0.hasPrefix("audit-") }.count >= 9)
    }

    @Test("each kept input: read or refused in one line, never a crash", arguments: files)
    func replay(_ name: String) throws {
        let path = Self.folder + "/" + name
        do {
            let image = try ImageReaders.read(path)
            for label in try image.labelCounts().keys.sorted() { _ = try image.mask(label: label) }
            #expect(!name.hasPrefix("audit-"), "\(name) was read")
        } catch {
            #expect(error.description.hasPrefix(path + ": ") && !error.description.contains("\n"))
        }
    }
}
