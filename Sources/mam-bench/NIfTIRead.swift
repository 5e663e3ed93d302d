import ArgumentParser
import Foundation
internal import _CNIfTI
import MAMImageIO

struct NIfTIRead: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nifti-read",
        abstract: "Read a 512 x 512 x 300 uint8 label map (.nii.gz): ours vs libnifti's nifti_image_read."
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        let path = try RealisticCase.preLabels(in: options.data)
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print("nifti-read: \(path) (\(RealisticCase.geometry.size), uint8, \(size / 1024) KiB compressed)")
        nifti_set_debug_level(0)
        var libnifti: [Double] = []
        var ours: [Double] = []
        var oursWithMask: [Double] = []
        for _ in 0..<options.repeats {
            // Interleaved, so that both see the same machine state.
            libnifti.append(seconds {
                guard let nim = nifti_image_read(path, 1) else { fatalError("libnifti could not read \(path)") }
                nifti_image_free(nim)
            })
            ours.append(try seconds { _ = try NIfTIReader().read(path) })
            oursWithMask.append(try seconds { _ = try NIfTIReader().read(path).mask(label: 2) })
        }
        report([("libnifti nifti_image_read(path, 1)", median(libnifti)),
                ("mam-quantify NIfTIReader.read", median(ours)),
                ("mam-quantify read + mask(label: 2)", median(oursWithMask))])
    }
}
