import ArgumentParser
import Foundation
import MAMImageIO
import MAMCase

@main
struct MAMQuantify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mam-quantify",
        abstract: "Minimal ablation margin (MAM) after thermal ablation of liver tumours.",
        usage: """
            mam-quantify PRE POST [--protocol <name|file>] [--out <folder>] [--json] [--quiet]
            mam-quantify <subcommand> ...   (batch, merge, agreement, agreement-cohort, describe, protocols)
            """,
        discussion: """
            Measures, for every tumour, how much ablated tissue surrounds it: the smallest \
            distance (mm) from the tumour surface to the edge of the ablation zone, after \
            registering the pre-ablation liver onto the post-ablation liver. Positive: the \
            tumour lies inside the ablation zone with that margin; negative: it sticks out by \
            that much. Without a subcommand, `analyse` runs.

            Example:
              mam-quantify SampleCases/sphere-5mm/pre.nii.gz \\
                  SampleCases/sphere-5mm/post.nii.gz

            `mam-quantify help analyse` explains the options and the exit codes.
            """,
        version: toolVersion,
        subcommands: [Analyse.self, BatchCommand.self, Merge.self, ReviewCommand.self, OutcomesCommand.self, AgreementCommand.self, AgreementCohortCommand.self, Describe.self, Protocols.self],
        defaultSubcommand: Analyse.self
    )
}

/// Prints one line on standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
}

/// The protocol named on the command line, or the exit for an unknown or invalid one.
func resolveProtocol(_ nameOrPath: String) throws -> AnalysisProtocol {
    do {
        return try AnalysisProtocol.resolve(nameOrPath)
    } catch {
        printError(error.description)
        throw ExitCode(ExitStatus.invalidProtocol)
    }
}

struct Describe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read images and describe their format, geometry, labels and named segments.",
        discussion: "Exit status: 0 done; 64 bad usage; 65 a file is missing, unreadable or not a valid image."
    )

    @Argument(help: "Image files: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .seg.nrrd, .nhdr), MetaImage (.mha, .mhd), DICOM-SEG or RTSTRUCT (.dcm; an RTSTRUCT's CT series beside it).")
    var files: [String]

    func run() throws {
        var failed = false
        for path in files {
            do {
                let image = try ImageReaders.read(path)
                print(Self.describe(image))
            } catch {
                printError("\(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(ExitStatus.invalidInput) }
    }

    static func describe(_ image: LabelImage) -> String {
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
                let names = image.segments.filter { $0.labelValue == label }.map { "\"\($0.name)\"" }
                lines.append(String(format: "  label %-5d %9d voxels  %9.2f mL", label, count, Double(count) * g.voxelVolumeML)
                             + (names.isEmpty ? "" : "  segment " + names.joined(separator: ", ")))
            }
            for segment in image.segments where counts[segment.labelValue] == nil {
                lines.append("  segment \"\(segment.name)\" (label \(segment.labelValue)) is empty")
            }
        } else {
            lines.append("  values      not a label map (non-integer, non-finite or more than 32 distinct values)")
        }
        return lines.joined(separator: "\n")
    }
}

struct Protocols: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the built-in analysis protocols, print one, or write them as files to copy and edit.",
        discussion: """
            Examples:
              mam-quantify protocols                       # names and descriptions
              mam-quantify protocols --show prometheus     # the protocol's YAML text
              mam-quantify protocols --write Protocols     # one NAME.yaml per protocol
            """
    )

    @Option(help: ArgumentHelp("Print this built-in protocol's text.", valueName: "name"))
    var show: String?

    @Option(help: ArgumentHelp("Write every built-in protocol into this folder as NAME.yaml.", valueName: "folder"))
    var write: String?

    func run() throws {
        if let show {
            guard let text = AnalysisProtocol.builtInTexts.first(where: { $0.name == show })?.text else {
                printError("\(show): no built-in protocol has this name (built in: "
                    + AnalysisProtocol.builtInTexts.map(\.name).joined(separator: ", ") + ")")
                throw ExitCode(ExitStatus.invalidProtocol)
            }
            print(text, terminator: "")
            return
        }
        if let write {
            try FileManager.default.createDirectory(atPath: write, withIntermediateDirectories: true)
            for (name, text) in AnalysisProtocol.builtInTexts {
                let path = write + "/" + name + ".yaml"
                try AtomicFile.write(Data(text.utf8), to: path)
                print("wrote \(path)")
            }
            return
        }
        for (name, _) in AnalysisProtocol.builtInTexts {
            let p = AnalysisProtocol.builtIn(name)!
            print("\(name)\(name == AnalysisProtocol.defaultName ? " (default)" : ""): \(p.description)")
        }
    }
}
