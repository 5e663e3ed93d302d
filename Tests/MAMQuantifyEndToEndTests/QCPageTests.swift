import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

/// The case page, qc.html, written by the whole command: its pictures read back by Pillow and
/// checked against the report's numbers, and the page opened in a real browser (Chromium).
@Suite("QC case page", .serialized)
final class QCPageTests {
    let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    struct PageReport: Decodable {
        struct Tumour: Decodable {
            let number: Int
            let centroidPostMM: [Double]
            let minimalMarginLocationPostMM: [Double]?
        }
        struct Outputs: Decodable {
            let qcPage: String?
            let qcThumbnails: [String]
        }
        let tumours: [Tumour]
        let outputs: Outputs
    }

    func run(_ sample: SampleCaseFiles, _ extra: [String] = []) throws -> (out: String, report: PageReport) {
        let out = folder.file(sample.name)
        let run = try Binary.run([sample.pre, sample.post, "--out", out, "--quiet"] + extra)
        #expect(run.status == 0, "\(run.stderr)")
        let report = try JSONDecoder().decode(PageReport.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        return (out, report)
    }

    static let marker: [UInt8] = [255, 236, 0], tumourOutline: [UInt8] = [0, 229, 255]

    @Test("the minimal-margin marker lies on the pixel the report's location maps to, in every view (within one pixel)",
          arguments: SampleCaseFiles.all)
    func marker(_ sample: SampleCaseFiles) throws {
        let (out, report) = try run(sample)
        #expect(report.outputs.qcPage == "qc.html")
        #expect(report.outputs.qcThumbnails == report.tumours.map { "qc_tumour_\($0.number).png" })
        for tumour in report.tumours {
            let location = try #require(tumour.minimalMarginLocationPostMM)
            let point = SIMD3(location[0], location[1], location[2])
            for view in ["axial", "coronal", "sagittal"] {
                let image = try DecodedPNG(out + "/qc.html#tumour-\(tumour.number)-\(view)", in: folder)
                let p = try #require(image.pixel(ofWorld: point))
                let (u, v) = (Int(p.column.rounded()), Int(p.row.rounded()))
                // The cross's centre pixel is the marker's colour; with its 2-pixel gap, the
                // pixel one step away is not, so a marker drawn elsewhere cannot pass.
                let near = (-1...1).flatMap { dy in (-1...1).map { dx in image.pixel(u + dx, v + dy) } }
                #expect(near.contains(Self.marker), "\(sample.name) tumour \(tumour.number) \(view): no marker at (\(u), \(v))")
            }
            // The thumbnail is the page's axial image.
            let thumbnail = try DecodedPNG(out + "/qc_tumour_\(tumour.number).png", in: folder)
            let axial = try DecodedPNG(out + "/qc.html#tumour-\(tumour.number)-axial", in: folder)
            #expect(thumbnail.rgb == axial.rgb)
        }
    }

    @Test("the sphere's tumour outline on the axial slice is the analytic circle (radius within one pixel)")
    func sphereOutline() throws {
        let (out, report) = try run(SampleCaseFiles.all[0])
        let tumour = try #require(report.tumours.first)
        let image = try DecodedPNG(out + "/qc.html#tumour-1-axial", in: folder)
        let location = try #require(tumour.minimalMarginLocationPostMM)
        // The sample's tumour: a ball of 10 mm radius (SampleCases/sphere-5mm); the slice cuts
        // it at the location's height.
        let centre = SIMD3(tumour.centroidPostMM[0], tumour.centroidPostMM[1], location[2])
        let c = try #require(image.pixel(ofWorld: centre))
        let step = try #require(image.plane).columnStepMM.map(abs).max()!
        let dz = location[2] - tumour.centroidPostMM[2]
        let expected = (100 - dz * dz).squareRoot() / step - 0.5  // pixel centres of the inner outline
        var distances: [Double] = []
        for y in 0..<image.height {
            for x in 0..<image.width where image.pixel(x, y) == Self.tumourOutline {
                distances.append(((Double(x) - c.column) * (Double(x) - c.column) + (Double(y) - c.row) * (Double(y) - c.row)).squareRoot())
            }
        }
        // Outline pixels hidden under the marker's arms are simply missing from the mean.
        let mean = distances.reduce(0, +) / Double(distances.count)
        #expect(distances.count > 100 && abs(mean - expected) <= 1, "outline radius \(mean) pixels, circle \(expected)")
    }

    @Test("--no-qc and a protocol with qc_page: false write no page; a re-run removes the thumbnails of an earlier one")
    func noPage() throws {
        let sample = SampleCaseFiles.all[2]  // two tumours
        let (out, first) = try run(sample)
        #expect(first.outputs.qcThumbnails.count == 2)
        let (_, second) = try run(sample, ["--no-qc"])
        #expect(second.outputs.qcPage == nil && second.outputs.qcThumbnails.isEmpty)
        let left = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.hasPrefix("qc") }
        #expect(left.isEmpty, "\(left)")

        let protocolFile = folder.file("no-page.yaml")
        let builtIn = try Binary.run(["protocols", "--show", "iamcomplete"])
        try builtIn.stdout.replacingOccurrences(of: "qc_page: true", with: "qc_page: false")
            .replacingOccurrences(of: "name: iamcomplete", with: "name: no-page")
            .write(toFile: protocolFile, atomically: true, encoding: .utf8)
        let (_, third) = try run(sample, ["--protocol", protocolFile])
        #expect(third.outputs.qcPage == nil)
        #expect(!FileManager.default.fileExists(atPath: out + "/qc.html"))
    }

    struct BrowserCase: Decodable {
        let title: String
        let images: Int
        let brokenImages: [String]
        let shownBefore: [String]
        let shownAfterClick: [String]?
        let consoleErrors: [String]
    }

    @Test("in Chromium: the page loads from file:// without console errors, every image loads, the before/after toggle switches")
    func browser() throws {
        let (out, report) = try run(SampleCaseFiles.all[3])  // oblique-anisotropic
        let shot = Screenshots.path("qc-case-oblique-anisotropic.png")
        let result = try JSONDecoder().decode(BrowserCase.self, from: ReferenceTools.run("browser_check.py", ["case", out + "/qc.html", shot]))
        #expect(result.title == "mam-quantify QC: case oblique-anisotropic")
        #expect(result.consoleErrors.isEmpty, "\(result.consoleErrors)")
        #expect(result.brokenImages.isEmpty, "\(result.brokenImages)")
        // Registration: 3 views before and after; per tumour: 3 margin views and 3 + 3 registration views.
        #expect(result.images == 6 + 9 * report.tumours.count)
        let views = ["axial", "coronal", "sagittal"]
        #expect(result.shownBefore == views.map { "registration-liver-\($0)-after" })
        #expect(result.shownAfterClick == views.map { "registration-liver-\($0)-before" })
        #expect(FileManager.default.fileExists(atPath: shot))
    }
}

/// Where the browser tests leave their screenshots for a person to look at:
/// `$MAMQ_SCREENSHOTS`, else .build/screenshots/ in the package.
enum Screenshots {
    static func path(_ name: String) -> String {
        let folder = ProcessInfo.processInfo.environment["MAMQ_SCREENSHOTS"]
            ?? packageRoot.appendingPathComponent(".build/screenshots").path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder + "/" + name
    }
}

/// The cohort page, index.html, of a batch: in Chromium, sorted, filtered, reviewed, and the
/// exported review merged back by `mam-quantify review`.
@Suite("QC cohort page", .serialized)
final class CohortPageTests {
    let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    struct BrowserCohort: Decodable {
        let images: Int
        let brokenImages: [String]
        let mamBefore: [String]
        let mamAfterOneClick: [String]
        let mamAfterTwoClicks: [String]
        let filter: String
        let casesAfterFilter: [String]
        let rowsAfterClearing: Int
        let keptAfterReload: [String: [String]]
        let exported: [String]
        let consoleErrors: [String]
    }

    /// summary.csv's rows as column name to value.
    func summary(_ out: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            // The test's comments hold no comma or quote: a plain split is enough here.
            Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }
    }

    @Test("in Chromium: sorting by MAM reorders the rows, the filter hides rows, the review survives a reload and its export merges")
    func cohort() throws {
        let cohort = folder.file("cohort"), out = folder.file("results")
        for sample in SampleCaseFiles.all { try sampleCohort(cohort, ids: [sample.name], sample: sample) }
        try FileManager.default.createDirectory(atPath: cohort + "/broken", withIntermediateDirectories: true)
        try Data("not an image".utf8).write(to: URL(fileURLWithPath: cohort + "/broken/pre.nii.gz"))
        try FileManager.default.copyItem(atPath: SampleCaseFiles.all[0].post, toPath: cohort + "/broken/post.nii.gz")
        let batch = try Binary.run(["batch", cohort, "--out", out, "--jobs", "2"])
        #expect(batch.status == 4, "\(batch.stderr)")  // one case failed
        let page = try String(contentsOfFile: out + "/index.html", encoding: .utf8)
        #expect(page.contains("<td>broken</td><td>input</td>"))
        let rows = try summary(out)
        let mams = rows.compactMap { Double($0["mam_mm"] ?? "") }
        #expect(mams.count == 5 && rows.allSatisfy { $0["review"] == "" })

        let downloads = folder.file("downloads")
        try FileManager.default.createDirectory(atPath: downloads, withIntermediateDirectories: true)
        let wanted = ["two-tumours": ["accept", "tumour 2 close to the vessel"], "sphere-5mm": ["reject", "zone gap at the dome"]]
        let reviews = folder.file("wanted.json")
        try JSONEncoder().encode(wanted).write(to: URL(fileURLWithPath: reviews))
        let result = try JSONDecoder().decode(BrowserCohort.self, from: ReferenceTools.run(
            "browser_check.py", ["cohort", out + "/index.html", Screenshots.path("qc-cohort.png"), downloads, reviews]))
        #expect(result.consoleErrors.isEmpty, "\(result.consoleErrors)")
        #expect(result.images == 5 && result.brokenImages.isEmpty, "\(result.brokenImages)")
        // Rows start in case order; one click sorts by MAM ascending (as numbers: -1.98 first),
        // a second descending.
        let shown = mams.map { String(format: "%.2f", $0) }
        #expect(result.mamBefore == shown)
        let ascending = mams.sorted().map { String(format: "%.2f", $0) }
        #expect(result.mamAfterOneClick == ascending && result.mamAfterTwoClicks == ascending.reversed())
        #expect(!result.casesAfterFilter.isEmpty && result.casesAfterFilter.allSatisfy { $0 == result.filter })
        #expect(result.casesAfterFilter.count == rows.count { $0["case_id"] == result.filter })
        #expect(result.rowsAfterClearing == 5)
        #expect(result.keptAfterReload == wanted)
        #expect(Set(result.exported) == ["review.csv", "review.json"])

        // The exported CSV merges: summary.csv's review columns, review.json, the page's form.
        let merge = try Binary.run(["review", out, downloads + "/review.csv"])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("merged 2 reviews") && merge.stdout.contains("(1 accept, 1 reject)"))
        for row in try summary(out) {
            let expected = wanted[row["case_id"]!] ?? ["", ""]
            #expect([row["review"], row["review_comment"]] == expected.map { Optional($0) }, "\(row["case_id"]!)")
        }
        #expect(try String(contentsOfFile: out + "/index.html", encoding: .utf8)
            .contains("data-case=\"two-tumours\" data-review=\"accept\" data-comment=\"tumour 2 close to the vessel\""))
        // The JSON export merges to the same verdicts.
        let again = try Binary.run(["review", out, downloads + "/review.json"])
        #expect(again.status == 0 && again.stdout.contains("2 cases reviewed in all"))

        // A file naming a case that is not in the results merges nothing: exit 65, one line.
        let stray = folder.file("stray.csv")
        try "case_id,review,comment\nnobody,accept,\ntwo-tumours,reject,\n".write(toFile: stray, atomically: true, encoding: .utf8)
        let before = try Data(contentsOf: URL(fileURLWithPath: out + "/summary.csv"))
        let refused = try Binary.run(["review", out, stray])
        #expect(refused.status == 65 && refused.stderr == "error: \(stray): not cases of \(out): nobody; nothing merged\n")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out + "/summary.csv")) == before)
    }
}

/// Scans under the outlines: CT phantoms made from the sample cases' label maps on other grids
/// (LPS-stored, finer, another origin), so that only world-space resampling can put each grey
/// level where the label map says.
@Suite("QC page with scans", .serialized)
final class QCScanTests {
    let folder: TemporaryFolder

    init() throws { folder = try TemporaryFolder() }
    deinit { folder.remove() }

    /// Hounsfield units by label: background (fat), liver, tumour or ablation zone.
    static let hu: [Int: Int16] = [0: -100, 1: 100, 2: 30]
    /// The protocols' default window: level 60, width 200.
    static func grey(_ hu: Int16) -> Int { Int(((min(max((Double(hu) - (60 - 100)) / 200, 0), 1)) * 255).rounded()) }

    /// A CT of `labels` on a grid of `spacingMM`, stored LPS (first two axes reversed), covering
    /// the label map's extent; each voxel takes the HU of the label at its centre.
    static func ct(from labels: LabelImage, to path: String, spacingMM: Double, shiftMM: SIMD3<Double> = .zero) throws {
        let corners = labels.geometry.cornerPoints
        let lower = corners.reduce(SIMD3(repeating: Double.infinity)) { pointwiseMin($0, $1) }
        let upper = corners.reduce(SIMD3(repeating: -Double.infinity)) { pointwiseMax($0, $1) }
        let extent = upper - lower
        let size = GridSize(Int(extent.x / spacingMM) + 1, Int(extent.y / spacingMM) + 1, Int(extent.z / spacingMM) + 1)
        let linear = Matrix3.diagonal(SIMD3(-spacingMM, -spacingMM, spacingMM))
        let grid = ImageGeometry(size: size, indexToWorld: Affine3D(linear: linear, translation: SIMD3(upper.x, upper.y, lower.z) + shiftMM))
        let values = labels.scaledValues()
        var voxels = [Int16](repeating: hu[0]!, count: size.count)
        for k in 0..<size.z {
            for j in 0..<size.y {
                for i in 0..<size.x {
                    let index = (labels.geometry.index(atWorld: grid.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))) + 0.5).rounded(.down)
                    let s = labels.geometry.size
                    guard s.contains(Int(index.x), Int(index.y), Int(index.z)) else { continue }
                    voxels[size.linearIndex(i, j, k)] = hu[Int(values[s.linearIndex(Int(index.x), Int(index.y), Int(index.z))])]!
                }
            }
        }
        try NIfTIWriter.write(.int16(voxels), geometry: grid, description: "CT phantom", to: path)
    }

    /// The share of an image's plain grey pixels (no outline, tint or letter) whose grey level
    /// is that of the label `labelAt` gives at the pixel's world point, within 3 levels.
    static func agreement(_ image: DecodedPNG, labelAt: (SIMD3<Double>) -> Int?) throws -> (fraction: Double, pixels: Int) {
        let plane = try #require(image.plane)
        let first = SIMD3(plane.firstPixelCentreMM[0], plane.firstPixelCentreMM[1], plane.firstPixelCentreMM[2])
        let column = SIMD3(plane.columnStepMM[0], plane.columnStepMM[1], plane.columnStepMM[2])
        let row = SIMD3(plane.rowStepMM[0], plane.rowStepMM[1], plane.rowStepMM[2])
        var agree = 0, total = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = image.pixel(x, y)
                guard p[0] == p[1], p[1] == p[2], p[0] != 240, p[0] != 28 else { continue }
                guard let label = labelAt(first + column * Double(x) + row * Double(y)) else { continue }
                total += 1
                if abs(Int(p[0]) - grey(hu[label]!)) <= 3 { agree += 1 }
            }
        }
        return (Double(agree) / Double(max(total, 1)), total)
    }

    static func label(_ image: LabelImage, _ values: [Double], at world: SIMD3<Double>) -> Int? {
        let i = (image.geometry.index(atWorld: world) + 0.5).rounded(.down)
        let s = image.geometry.size
        guard s.contains(Int(i.x), Int(i.y), Int(i.z)) else { return nil }
        return Int(values[s.linearIndex(Int(i.x), Int(i.y), Int(i.z))])
    }

    @Test("the post scan lies under the outlines where its labels are, and the pre scan through the transform where the post's are")
    func scansUnderOutlines() throws {
        let sample = SampleCaseFiles.all[3]  // oblique-anisotropic: moved 8 degrees and 16 mm
        let pre = try ImageReaders.read(sample.pre), post = try ImageReaders.read(sample.post)
        let preCT = folder.file("pre_ct.nii.gz"), postCT = folder.file("post_ct.nii.gz")
        try Self.ct(from: pre, to: preCT, spacingMM: 0.9)
        try Self.ct(from: post, to: postCT, spacingMM: 0.6)
        let out = folder.file("out")
        let run = try Binary.run([sample.pre, sample.post, "--out", out, "--quiet", "--pre-image", preCT, "--post-image", postCT])
        #expect(run.status == 0, "\(run.stderr)")
        let page = try String(contentsOfFile: out + "/qc.html", encoding: .utf8)
        #expect(page.contains("<td>post-scan</td><td>\(postCT)</td>"))
        let postValues = post.scaledValues(), preValues = pre.scaledValues()

        // Post scan under the margin slices and the registration slices. Pixels within about a
        // voxel of a label boundary may take either side's grey (interpolation on one grid,
        // nearest labels on the other): 90% is the bound, well above what a mirrored or
        // misplaced scan reaches (measured below with the pre scan left unmoved).
        for id in ["tumour-1-axial", "tumour-1-coronal", "tumour-1-sagittal", "registration-liver-axial-after", "registration-liver-sagittal-after"] {
            let image = try DecodedPNG(out + "/qc.html#\(id)", in: folder)
            let (fraction, pixels) = try Self.agreement(image) { Self.label(post, postValues, at: $0) }
            #expect(pixels > 10_000 && fraction >= 0.9, "\(id): \(fraction) of \(pixels) pixels")
        }
        // The pre scan through the transform: each pixel's world point taken back to the pre
        // world by the report's transform.
        struct Registration: Decodable { let registration: Inner; struct Inner: Decodable { let preToPostMM: [[Double]] } }
        let m = try JSONDecoder().decode(Registration.self, from: Data(contentsOf: URL(fileURLWithPath: out + "/report.json"))).registration.preToPostMM
        let preToPost = try #require(Affine3D(matrix4x4: m))
        let after = try Self.agreement(DecodedPNG(out + "/qc.html#registration-prescan-axial-after", in: folder)) {
            Self.label(pre, preValues, at: preToPost.inverse.apply($0))
        }
        let before = try Self.agreement(DecodedPNG(out + "/qc.html#registration-prescan-axial-before", in: folder)) {
            Self.label(pre, preValues, at: preToPost.inverse.apply($0))
        }
        #expect(after.fraction >= 0.9 && after.pixels > 10_000, "after: \(after)")
        #expect(before.fraction < after.fraction - 0.1, "before \(before.fraction), after \(after.fraction)")
    }

    @Test("batch: a case folder's post_ct.nii.gz (the protocol's files.post_image) and a manifest's pre_image reach the case pages")
    func batchScans() throws {
        let sample = SampleCaseFiles.all[0]
        let cohort = folder.file("cohort")
        try sampleCohort(cohort, ids: ["p01"], sample: sample)
        let postCT = cohort + "/p01/post_ct.nii.gz"
        try Self.ct(from: ImageReaders.read(sample.post), to: postCT, spacingMM: 1.5)
        let list = try Binary.run(["batch", cohort, "--out", folder.file("results"), "--list"])
        #expect(list.stdout.contains("p01: pre \(cohort)/p01/pre.nii.gz, post \(cohort)/p01/post.nii.gz, post-image \(postCT)"), "\(list.stdout)")
        #expect(try Binary.run(["batch", cohort, "--out", folder.file("results")]).status == 0)
        #expect(try String(contentsOfFile: folder.file("results/p01/qc.html"), encoding: .utf8).contains("<td>post-scan</td><td>\(postCT)</td>"))

        let manifest = folder.file("cases.csv")
        let preCT = folder.file("p02_pre_ct.nii.gz")
        try Self.ct(from: ImageReaders.read(sample.pre), to: preCT, spacingMM: 1.5)
        try "case_id,pre,post,pre_image\np02,\(sample.pre),\(sample.post),\(preCT)\n".write(toFile: manifest, atomically: true, encoding: .utf8)
        #expect(try Binary.run(["batch", "--manifest", manifest, "--out", folder.file("from-manifest")]).status == 0)
        #expect(try String(contentsOfFile: folder.file("from-manifest/p02/qc.html"), encoding: .utf8).contains("<td>pre-scan</td><td>\(preCT)</td>"))
    }

    @Test("a scan that does not overlap its segmentation: exit 65, one line naming both files, before any work")
    func disjointScan() throws {
        let sample = SampleCaseFiles.all[0]
        let post = try ImageReaders.read(sample.post)
        let far = folder.file("far_ct.nii.gz")
        try Self.ct(from: post, to: far, spacingMM: 2, shiftMM: SIMD3(0, 0, 2000))
        let out = folder.file("out")
        let run = try Binary.run([sample.pre, sample.post, "--out", out, "--post-image", far])
        #expect(run.status == 65)
        #expect(run.stderr == "error: \(far): the scan does not overlap its segmentation \(sample.post) (no point of the one lies in the other)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
        let unreadable = try Binary.run([sample.pre, sample.post, "--out", out, "--pre-image", folder.file("missing.nii.gz")])
        #expect(unreadable.status == 65 && unreadable.stderr.hasPrefix("error: \(folder.file("missing.nii.gz")): "))
        #expect(unreadable.stderr.split(separator: "\n").count == 1)
    }
}
