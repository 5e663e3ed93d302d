import ArgumentParser
import Foundation
import MAMImaging

@main
struct MAMQuantify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mam-quantify",
        abstract: "Minimal ablation margin after thermal ablation of liver tumours.",
        discussion: """
            The margin pipeline (registration, margins, reports) is being built; this version \
            reads NIfTI label maps in their true world geometry and describes them.

            Example:
              mam-quantify describe SampleCases/sphere-5mm/pre.nii.gz SampleCases/sphere-5mm/post.nii.gz
            """,
        subcommands: [Describe.self],
        defaultSubcommand: Describe.self
    )
}

/// Exit codes, documented in Docs/exit-codes.md.
enum ExitStatus {
    static let badUsage: Int32 = 64
    static let invalidInput: Int32 = 65
}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read NIfTI images and describe their geometry and labels.",
        discussion: "Exit status: 0 done; 64 bad usage; 65 a file is missing, unreadable or not a valid NIfTI image."
    )

    @Argument(help: "NIfTI files (.nii or .nii.gz).")
    var files: [String]

    func run() throws {
        let reader = NIfTIReader()
        var failed = false
        for path in files {
            do {
                let image = try reader.read(path)
                print(Self.describe(image))
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.invalidInput) }
    }

    static func describe(_ image: NIfTIImage) -> String {
        let g = image.geometry
        let o = g.origin
        var lines = [
            image.path,
            "  format      \(image.format.rawValue), \(image.datatype), geometry from \(image.geometrySource.rawValue)",
            "  grid        \(g)",
            String(format: "  origin      (%.2f, %.2f, %.2f) mm (RAS)", o.x, o.y, o.z),
        ]
        if let counts = try? image.labelCounts(), counts.count <= 32 {
            for (label, count) in counts.sorted(by: { $0.key < $1.key }) where label != 0 {
                lines.append(String(format: "  label %-5d %9d voxels  %9.2f mL", label, count,
                                    Double(count) * g.voxelVolumeML))
            }
        } else {
            lines.append("  values      not a label map (non-integer, non-finite or more than 32 distinct values)")
        }
        return lines.joined(separator: "\n")
    }
}
