import Foundation
import MAMCase
import MAMCore
import MAMTestSupport
import Testing

@Suite("Analysis protocols")
struct AnalysisProtocolTests {
    static let iamcomplete = AnalysisProtocol.builtIn("iamcomplete")!

    @Test("the files in Protocols/ are the built-in protocols, byte for byte")
    func filesMatchBuiltIns() throws {
        for (name, text) in AnalysisProtocol.builtInTexts {
            let file = packageRoot.appendingPathComponent("Protocols/\(name).yaml").path
            let contents = try #require(FileManager.default.contents(atPath: file),
                                        "missing \(file): run mam-quantify protocols --write Protocols")
            #expect(String(decoding: contents, as: UTF8.self) == text, "\(file) differs: run mam-quantify protocols --write Protocols")
            // Reading the file gives the same protocol (apart from where it came from) and hash.
            var fromFile = try AnalysisProtocol(contentsOfFile: file)
            #expect(fromFile.sha256 == FileDigest.sha256(contents))
            fromFile.source = "built-in"
            #expect(fromFile == AnalysisProtocol.builtIn(name))
        }
    }

    @Test("every default of the iamcomplete protocol is pinned")
    func iamcompleteDefaults() {
        let p = Self.iamcomplete
        #expect(p.name == "iamcomplete" && p.version == "3")
        var labels = AnalysisProtocol.Labels(preLiver: [1], preTumour: [2], postLiver: [1], postAblationZone: [2])
        (labels.names.preLiver, labels.names.preTumour) = (["liver"], ["tumour", "tumor"])
        (labels.names.postLiver, labels.names.postAblationZone) = (["liver"], ["ablation zone", "ablation", "zone"])
        #expect(p.labels == labels)
        #expect(p.tumours == .components)
        #expect(p.margin.targetMarginMM == 5 && p.margin.categoryCutoffsMM == [0, 5] && p.margin.shellWidthsMM == [5, 10])
        #expect(p.margin.capsuleExclusionMM == nil && p.margin.fillAblationHoles && p.margin.histogramBinMM == 1)
        #expect(p.registers)
        let r = p.registration
        #expect(r.sourceSpacingMM == 2 && r.targetSpacingMM == 1.25 && r.trimFraction == 0.7 && r.maxIterations == 150)
        #expect(r.toleranceMM == 0.001 && r.maxVolumeRatio == 2 && r.inlierDistanceMM == 3 && r.borderExclusionMM == 5)
        #expect(p.localRegistration?.settings.sigmaMM == 30 && p.localRegistration?.useForMargins == true
                    && p.localRegistration?.warningMM == 1)
        #expect(p.estimatesUncertainty)
        let a = p.acceptance
        #expect(a.minLiverDice == 0.85 && a.maxMeanSurfaceDistanceMM == 2 && a.maxSurfaceDistance95MM == 5 && a.minInlierFraction == 0.7)
        #expect(p.marginMaps == .tumourRegion && p.writesTransform)
        #expect(p.categoryNames == ["< 0 mm", "0 to < 5 mm", ">= 5 mm"])
    }

    @Test("prometheus: 2 mm target, four categories")
    func prometheus() {
        let p = AnalysisProtocol.builtIn("prometheus")!
        #expect(p.margin.targetMarginMM == 2 && p.margin.categoryCutoffsMM == [0, 2, 5])
        #expect(p.categoryNames == ["< 0 mm", "0 to < 2 mm", "2 to < 5 mm", ">= 5 mm"])
        // A cut-off belongs to the category above it.
        #expect([-0.001, 0, 1.999, 2, 4.999, 5, 30].map { p.margin.category(ofMarginMM: $0) } == [1, 2, 2, 3, 3, 4, 4])
    }

    /// The iamcomplete text with one line replaced.
    static func edited(_ line: String, _ replacement: String) -> String {
        let text = AnalysisProtocol.builtInTexts[0].text
        precondition(text.contains(line), "no line \(line)")
        return text.replacingOccurrences(of: line, with: replacement)
    }

    static func lineNumber(of fragment: String, in text: String) -> Int {
        text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(fragment) }! + 1
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        let what: String
        let line: String
        let replacement: String
        let key: String
        let reason: String
        var testDescription: String { what }
    }

    static let refusals: [Refusal] = [
        Refusal(what: "unknown key (a typo)", line: "  target_mm: 5 ", replacement: "  targt_mm: 5 ", key: "margin.targt_mm",
                reason: "unknown key (known here: target_mm, category_cutoffs_mm"),
        Refusal(what: "text for a number", line: "  target_mm: 5 ", replacement: "  target_mm: five ", key: "margin.target_mm",
                reason: "expected a number, got 'five'"),
        Refusal(what: "negative margin target", line: "  target_mm: 5 ", replacement: "  target_mm: -1 ", key: "margin.target_mm",
                reason: "must be from 0 to 50, got -1"),
        Refusal(what: "cut-offs out of order", line: "category_cutoffs_mm: [0, 5]", replacement: "category_cutoffs_mm: [5, 0]",
                key: "margin.category_cutoffs_mm", reason: "ascending order"),
        Refusal(what: "label 0", line: "    tumour: [2, \"tumour\", \"tumor\"]", replacement: "    tumour: [0]", key: "labels.pre.tumour",
                reason: "label values start at 1"),
        Refusal(what: "a label both liver and tumour", line: "    tumour: [2, \"tumour\", \"tumor\"]", replacement: "    tumour: [1]", key: "labels.pre",
                reason: "cannot be both liver and lesion"),
        Refusal(what: "unknown choice", line: "tumours: components", replacement: "tumours: blobs", key: "tumours",
                reason: "expected one of components, labels, got 'blobs'"),
        Refusal(what: "a yes/no that is not", line: "  transform: true ", replacement: "  transform: maybe ", key: "outputs.transform",
                reason: "expected true or false, got 'maybe'"),
        Refusal(what: "fraction above 1", line: "    min_liver_dice: 0.85", replacement: "    min_liver_dice: 1.5",
                key: "registration.acceptance.min_liver_dice", reason: "must be from 0 to 1, got 1.5"),
        Refusal(what: "missing key", line: "  histogram_bin_mm: 1\n", replacement: "", key: "margin.histogram_bin_mm",
                reason: "missing key"),
        Refusal(what: "negative local warning", line: "    warning_mm: 1 ", replacement: "    warning_mm: -1 ",
                key: "registration.local_refinement.warning_mm", reason: "must be from 0 to 50, got -1"),
        Refusal(what: "uncertainty not yes/no", line: "  uncertainty: true ", replacement: "  uncertainty: often ",
                key: "margin.uncertainty", reason: "expected true or false, got 'often'"),
        Refusal(what: "iterations not whole", line: "  max_iterations: 150", replacement: "  max_iterations: 150.5",
                key: "registration.max_iterations", reason: "expected a whole number, got '150.5'"),
        // Hostile values inside the old documented ranges (the 0.6.0 audit): each asked for
        // unbounded memory or time, or put infinity in a report.
        Refusal(what: "histogram bin 1e-9 mm (6.7 GB)", line: "  histogram_bin_mm: 1", replacement: "  histogram_bin_mm: 1e-9",
                key: "margin.histogram_bin_mm", reason: "must be from 0.05 to 10, got 1e-09"),
        Refusal(what: "histogram bin 1e308 mm", line: "  histogram_bin_mm: 1", replacement: "  histogram_bin_mm: 1e308",
                key: "margin.histogram_bin_mm", reason: "must be from 0.05 to 10, got 1e+308"),
        Refusal(what: "a 1e308 mm shell", line: "shells_mm: [5, 10]", replacement: "shells_mm: [5, 1e308]",
                key: "margin.shells_mm", reason: "must be from 0.1 to 50, got 1e+308"),
        Refusal(what: "capsule exclusion 1e308 mm", line: "capsule_exclusion_mm: null", replacement: "capsule_exclusion_mm: 1e308",
                key: "margin.capsule_exclusion_mm", reason: "must be from 0.1 to 50, got 1e+308"),
        Refusal(what: "surface sampling 1e-3 mm (1.4 PB)", line: "    pre: 2.0", replacement: "    pre: 0.001",
                key: "registration.surface_sampling_mm.pre", reason: "must be from 0.25 to 20, got 0.001"),
        Refusal(what: "surface sampling 1e308 mm", line: "    post: 1.25", replacement: "    post: 1e308",
                key: "registration.surface_sampling_mm.post", reason: "must be from 0.25 to 20, got 1e+308"),
        Refusal(what: "1e8 iterations", line: "  max_iterations: 150", replacement: "  max_iterations: 100000000",
                key: "registration.max_iterations", reason: "must be from 1 to 1000, got 100000000"),
        Refusal(what: "tolerance 1e-300 mm", line: "  tolerance_mm: 0.001", replacement: "  tolerance_mm: 1e-300",
                key: "registration.tolerance_mm", reason: "must be from 1e-06 to 10, got 1e-300"),
        Refusal(what: "a thousand cut-offs", line: "category_cutoffs_mm: [0, 5]",
                replacement: "category_cutoffs_mm: [\((0..<1000).map { String(Double($0) / 100) }.joined(separator: ", "))]",
                key: "margin.category_cutoffs_mm", reason: "at most 16 values, got 1000"),
        Refusal(what: "segment names without a label value", line: "    tumour: [2, \"tumour\", \"tumor\"]", replacement: "    tumour: [\"tumour\"]",
                key: "labels.pre.tumour", reason: "expected at least one label value"),
        Refusal(what: "a label that is neither a number nor a name", line: "    tumour: [2, \"tumour\", \"tumor\"]", replacement: "    tumour: [2, true]",
                key: "labels.pre.tumour", reason: "expected a label value (a whole number) or a segment name (a quoted string)"),
        Refusal(what: "a label beyond int32", line: "    tumour: [2, \"tumour\", \"tumor\"]", replacement: "    tumour: [4294967296]",
                key: "labels.pre.tumour", reason: "label values are at most 2147483647, got 4294967296"),
    ]

    @Test("bad protocols are refused with file, line, key and reason", arguments: refusals)
    func refused(_ refusal: Refusal) throws {
        let text = Self.edited(refusal.line, refusal.replacement)
        let error = try #require(throws: ProtocolError.self) { try AnalysisProtocol(yaml: text, source: "my.yaml") }
        #expect(error.source == "my.yaml")
        #expect(error.key == refusal.key)
        #expect(error.reason.contains(refusal.reason), "\(error.reason)")
        #expect(error.description.hasPrefix("my.yaml:"))
        #expect(!error.description.contains("\n"))
        if !refusal.replacement.isEmpty, refusal.what != "a label both liver and tumour" {
            #expect(error.line == Self.lineNumber(of: refusal.replacement.trimmingCharacters(in: .whitespaces), in: text))
        }
    }

    @Test("not YAML, empty, missing file and unknown name are refused in one line")
    func unreadable() throws {
        let notYAML = try #require(throws: ProtocolError.self) { try AnalysisProtocol(yaml: "name: [unclosed", source: "x.yaml") }
        #expect(notYAML.reason.hasPrefix("not valid YAML") && !notYAML.description.contains("\n"))
        let empty = try #require(throws: ProtocolError.self) { try AnalysisProtocol(yaml: "", source: "x.yaml") }
        #expect(empty.reason == "the file is empty")
        let missing = try #require(throws: ProtocolError.self) { try AnalysisProtocol.resolve("/nonexistent/p.yaml") }
        #expect(missing.description == "/nonexistent/p.yaml: no such protocol file")
        let unknown = try #require(throws: ProtocolError.self) { try AnalysisProtocol.resolve("iamcompleat") }
        #expect(unknown.description.hasPrefix("iamcompleat: no built-in protocol has this name (built in: iamcomplete, prometheus"))
    }

    @Test("edited values are read: registration off, tumours by label, capsule exclusion")
    func edits() throws {
        var text = Self.edited("  method: rigid-icp ", "  method: none ")
        text = text.replacingOccurrences(of: "tumours: components", with: "tumours: labels")
        text = text.replacingOccurrences(of: "    tumour: [2, \"tumour\", \"tumor\"]", with: "    tumour: [2, 3, 4]")
        text = text.replacingOccurrences(of: "capsule_exclusion_mm: null", with: "capsule_exclusion_mm: 2.5")
        let p = try AnalysisProtocol(yaml: text, source: "edited.yaml")
        #expect(!p.registers && p.tumours == .labels && p.labels.preTumour == [2, 3, 4] && p.margin.capsuleExclusionMM == 2.5)
        #expect(p.sha256 == FileDigest.sha256(Data(text.utf8)) && p.sha256 != Self.iamcomplete.sha256)
    }

    @Test("protocols written before 0.7 (no local_refinement, no uncertainty keys) read with the documented defaults; sigma null turns the local fit off")
    func older() throws {
        let text = Self.edited("  uncertainty: true ", "").replacingOccurrences(
            of: #"(?m)^  local_refinement:.*\n(    .*\n){3}"#, with: "", options: .regularExpression)
        #expect(!text.contains("local_refinement") && !text.contains("uncertainty:"))
        let p = try AnalysisProtocol(yaml: text, source: "old.yaml")
        #expect(p.localRegistration == AnalysisProtocol.LocalRegistration() && p.estimatesUncertainty)
        let off = try AnalysisProtocol(yaml: Self.edited("    sigma_mm: 30 ", "    sigma_mm: null "), source: "off.yaml")
        #expect(off.localRegistration == nil)
    }
}

@Suite("SHA-256 digests")
struct FileDigestTests {
    @Test("FIPS 180-2 test vectors and a file of several 1 MiB pieces agree with sha256sum")
    func vectors() throws {
        #expect(FileDigest.sha256(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(FileDigest.sha256(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var generator = SeededGenerator(seed: 7)
        let bytes = Data((0..<(3 << 20) + 123).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let path = folder.file("random.bin")
        try bytes.write(to: URL(fileURLWithPath: path))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(try FileDigest.sha256(path: path) == String(output.prefix(64)))
        #expect(try FileDigest.sha256(path: path) == FileDigest.sha256(bytes))
    }
}
