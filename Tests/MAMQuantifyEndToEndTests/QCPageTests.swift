import Foundation
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
