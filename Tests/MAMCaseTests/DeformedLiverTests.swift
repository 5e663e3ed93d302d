import Foundation
import MAMCase
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

/// Issue 14: livers that differ between the scans as real ones do (breathing, a bent lobe, a
/// field of view that cuts the liver, a second segmenter), through the whole case pipeline.
/// The truth is computed on the deformed geometry (`DeformedLiverCase`). The 80-phantom
/// calibration behind the uncertainty is `scripts/bench trust` (Docs/uncertainty.md).
@Suite("Deformed and truncated livers, end to end")
struct DeformedLiverTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let options: DeformedLiverCase.Options
        /// Known to miss the 1.0 mm bound without a warning.
        var knownUnwarned = false
        /// Known to have the truth outside the 95% interval.
        var knownOutsideInterval = false
        var testDescription: String {
            "\(options.kind), tumour at the \(options.site.rawValue), seed \(options.seed)"
        }
    }

    static func options(_ seed: UInt64, _ site: DeformedLiverCase.TumourSite, breathing: Double = 0, bend: Double = 0,
                        truncation: DeformedLiverCase.Truncation = .none, patches: Int = 0,
                        pre: SIMD3<Double> = SIMD3(1.5, 1.5, 1.5), post: SIMD3<Double> = SIMD3(1.5, 1.5, 1.5)) -> Example {
        var o = DeformedLiverCase.Options(seed: seed, site: site)
        (o.breathingMM, o.lobeBendMM, o.truncation, o.segmenterPatches) = (breathing, bend, truncation, patches)
        (o.preSpacing, o.postSpacing) = (pre, post)
        return Example(options: o)
    }

    /// Every kind of difference, each tumour site, thin and thick slices.
    static let examples: [Example] = [
        options(101, .dome, breathing: 5), options(102, .middle, breathing: -4), options(103, .caudalTip, breathing: 6),
        options(104, .caudalTip, bend: 4), options(105, .middle, truncation: .dome),
        options(106, .dome, truncation: .caudalTip, pre: SIMD3(1.2, 1.2, 2.5)), options(107, .dome, truncation: .lateral),
        options(108, .middle, patches: 8),
        missed(options(109, .dome, breathing: 5, truncation: .caudalTip, patches: 6), unwarned: false),
        missed(options(110, .middle, breathing: -4, bend: 4, truncation: .lateral, pre: SIMD3(1.2, 1.2, 2.5), post: SIMD3(1.2, 1.2, 2.5)),
               unwarned: true),
    ]

    /// A known miss: the truth outside the interval, and (`unwarned`) off by 1-1.5 mm without
    /// a warning.
    static func missed(_ example: Example, unwarned: Bool) -> Example {
        var e = example
        e.knownOutsideInterval = true
        e.knownUnwarned = unwarned
        return e
    }

    /// Writes the phantom's label maps and runs the case with the default protocol.
    static func run(_ phantom: DeformedLiverCase, in folder: TemporaryFolder, name: String) throws -> CaseReport {
        let pre = folder.file("\(name)-pre.nii.gz"), post = folder.file("\(name)-post.nii.gz")
        try NIfTIWriter.write(phantom.preLabels, to: pre)
        try NIfTIWriter.write(phantom.postLabels, to: post)
        let request = CaseRequest(caseId: name, images: .labelMaps(pre: pre, post: post),
                                  analysisProtocol: AnalysisProtocol.builtIn("iamcomplete")!)
        return try CasePipeline.run(request).report
    }

    @Test("a deformed, truncated or re-segmented liver: the MAM within 1.0 mm of the truth or warned (local vs whole-liver fit, or a liver cut at its cranial or caudal end); never 1.5 mm off",
          arguments: examples)
    func deformed(_ example: Example) throws {
        let folder = try TemporaryFolder()
        let phantom = DeformedLiverCase(example.options)
        let report = try Self.run(phantom, in: folder, name: "case")
        let tumour = try #require(report.tumours.first)
        let mam = try #require(tumour.minimalMarginMM)
        let error = mam - phantom.trueMarginMM
        // The local-vs-global warning, or the one for a liver cut at its cranial or caudal end,
        // which a post scan truncated at the dome or the caudal tip must carry.
        let cutWarning = report.warnings.contains { $0.contains("field of view cuts the liver at its") }
        let warned = cutWarning || report.warnings.contains { $0.contains("the local and whole-liver fits place the tumour") }
        #expect(cutWarning == [.dome, .caudalTip].contains(example.options.truncation), "\(report.warnings)")
        let u = try #require(tumour.uncertainty)
        let interval = u.minimalMarginInterval95MM
        // Issue 14's bounds: within 1.0 mm of the true MAM or warned; never more than 1.5 mm off.
        // Known misses are marked, each on its own, not hidden: breathing together with a
        // truncated post scan, the class where the calibration under-covers
        // (Docs/uncertainty.md). A marked expectation that starts to hold fails the test.
        let withinOrWarned = { #expect(abs(error) <= 1.0 || warned, "MAM \(mam), truth \(phantom.trueMarginMM), interval \(interval), no warning") }
        let covered = {
            #expect(interval[0] <= phantom.trueMarginMM && phantom.trueMarginMM <= interval[1],
                    "truth \(phantom.trueMarginMM) outside \(interval)")
        }
        if example.knownUnwarned {
            withKnownIssue("breathing with a laterally truncated post scan: MAM off by 1-1.5 mm without a warning") { withinOrWarned() }
        } else {
            withinOrWarned()
        }
        if example.knownOutsideInterval {
            withKnownIssue("breathing with a truncated post scan: the truth outside the 95% interval") { covered() }
        }
        #expect(abs(error) <= 1.5, "MAM \(mam), truth \(phantom.trueMarginMM)")
        #expect(tumour.registrationAtTumour.transformUsed == "local")
        if example.options.truncation != .none {
            #expect(report.registration.fieldOfViewCuts?.post.isEmpty == false, "the post scan's cut was not found")
        }
        // The interval holds the reported MAM, and the probabilities agree with it.
        #expect(interval[0] <= mam && mam <= interval[1], "\(interval) vs \(mam)")
        #expect(u.includesRegistration && u.draws == 4000)
        let target = report.analysisProtocol.targetMarginMM
        if interval[0] >= target { #expect(u.probabilityMeetsTarget >= 0.975) }
        if interval[1] < target { #expect(u.probabilityMeetsTarget <= 0.025) }
        #expect(u.categoryUncertain == (interval[0] < target && interval[1] >= target || interval[0] < 0 && interval[1] >= 0))
    }

    @Test("rigid cases keep their accuracy: within 0.5 mm on 1 mm grids, 0.6 mm with 2.5 mm slices, and no warning",
          arguments: [(options(111, .dome, pre: SIMD3(1, 1, 1), post: SIMD3(1, 1, 1)), 0.5),
                      (options(112, .caudalTip, pre: SIMD3(1, 1, 1), post: SIMD3(0.8, 0.8, 1)), 0.5),
                      (options(113, .middle, pre: SIMD3(0.8, 0.8, 2.5), post: SIMD3(1, 1, 2.5)), 0.6)])
    func rigid(_ example: Example, _ tolerance: Double) throws {
        let folder = try TemporaryFolder()
        let phantom = DeformedLiverCase(example.options)
        let report = try Self.run(phantom, in: folder, name: "rigid")
        let mam = try #require(report.tumours.first?.minimalMarginMM)
        // The margin engine's documented accuracy on these grids (Docs/margin-method.md).
        #expect(abs(mam - phantom.trueMarginMM) <= tolerance, "MAM \(mam), truth \(phantom.trueMarginMM)")
        #expect(!report.warnings.contains { $0.contains("whole-liver fits") }, "\(report.warnings)")
        #expect(report.registration.fieldOfViewCuts?.pre == [] && report.registration.fieldOfViewCuts?.post == [])
        // The interval on a rigid case is narrow: at most 1.5 mm here (the calibration's median
        // is below 1.2 mm; Docs/uncertainty.md).
        let interval = try #require(report.tumours.first?.uncertainty?.minimalMarginInterval95MM)
        #expect(interval[1] - interval[0] <= 1.5, "\(interval)")
    }
}
