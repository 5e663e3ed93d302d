import Foundation
import FuzzDriver
import MAMImageIO

/// The function libFuzzer calls with each input: the input is a whole file (plain or gzip); it is read as
/// `ImageReaders.read` reads a case's file, and each label present becomes a mask, as a case
/// does with its label maps. Any crash, sanitizer report or leak is a finding; errors are not.
/// In a folder of its own: an RTSTRUCT input makes the reader look for its CT series beside it.
private let path: String = {
    let folder = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/mamq-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return "\(folder)/input.nii"
}()

func fuzzNIfTIReader(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let data else { return 0 }
    // Both readers' names: .nii (plain or gzip content alike) goes through the same checks.
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: count)) else {
        fatalError("cannot write \(path)")
    }
    if let image = try? ImageReaders.read(path), let labels = try? image.labelCounts() {
        for label in labels.keys.sorted().prefix(4) { _ = try? image.mask(label: label) }
    }
    return 0
}

runFuzzer(fuzzNIfTIReader)
