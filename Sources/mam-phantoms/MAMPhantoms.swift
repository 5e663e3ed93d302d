import ArgumentParser
import Foundation
import MAMImageIO
import MAMPhantoms

/// Writes the phantom sample cases (label maps plus their analytic answers).
@main
struct MAMPhantomsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mam-phantoms",
        abstract: "Write phantom cases with known margins: pre.nii.gz, post.nii.gz and expected.json per case.",
        discussion: "Example: mam-phantoms --out SampleCases"
    )

    @Option(help: "Folder to write the cases into (one sub-folder per case).")
    var out: String = "SampleCases"

    func run() throws {
        for sample in SampleCase.all {
            let folder = out + "/" + sample.name
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try NIfTIWriter.write(sample.preLabels, to: folder + "/pre.nii.gz", description: "pre: 1 liver, 2 tumour")
            try NIfTIWriter.write(sample.postLabels, to: folder + "/post.nii.gz", description: "post: 1 liver, 2 ablation")
            let expected = Expected(case: sample.name, summary: sample.summary, labels: .init(),
                                    expectedMarginsMM: sample.expectedMarginsMM, preToPostMM: sample.motion.matrix4x4)
            try AtomicFile.write(JSONOutput.document(expected), to: folder + "/expected.json")
            print("wrote \(folder): \(sample.summary)")
        }
    }
}

struct Expected: Encodable {
    struct Labels: Encodable {
        var liver = Int(SampleCase.liverLabel)
        var tumourInPre = Int(SampleCase.lesionLabel)
        var ablationZoneInPost = Int(SampleCase.lesionLabel)
    }

    var `case`: String
    var summary: String
    var labels: Labels
    /// Analytic minimal ablation margins, largest tumour first (the report's order).
    var expectedMarginsMM: [Double]
    /// The true pre-to-post world transform (4 x 4, rows).
    var preToPostMM: [[Double]]
}
