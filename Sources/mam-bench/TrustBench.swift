import ArgumentParser
import Foundation
import MAMCase
import MAMCore
import MAMMargin
import MAMPhantoms
import MAMRegistration

/// Seeded deformed-liver phantoms through registration, local refinement and the margin
/// engine: the error of the MAM and of the transform at the tumour, and the coverage of the
/// MAM's 95% interval, per kind of case. The calibration of Docs/uncertainty.md:
/// `scripts/bench trust --count 80 --seed 401` (defaults are the shipped settings; the options
/// try others, several uncertainty settings at once).
struct TrustBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "MAM error and 95%-interval coverage on seeded deformed-liver phantoms (calibration)."
    )

    @Option(help: "Number of phantoms.") var count = 20
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Local refinement width (mm).") var sigma = 30.0
    @Option(help: "Registration spread scales to try (comma-separated).") var scales = "1"
    @Option(help: "Registration floors (mm) to try.") var floors = "0.05"
    @Option(help: "Boundary fractions to try.") var boundaries = "0.1"
    @Flag(help: "One line per phantom.") var verbose = false
    @Option(help: "Whole-liver ICP iteration limit.") var maxIterations = RegistrationSettings().maxIterations
    @Option(help: "Local fit: correlated samples per observation.") var correlated = 100.0
    @Option(help: "Local fit: smallest prior standard deviation (mm).") var prior = 0.2
    @Option(help: "Local fit: robust residual scale (mm).") var robust = 0.6
    @Option(help: "Local fit: model-error scale.") var modelError = 3.0
    @Option(help: "Local fit: ridge toward the whole-liver fit (share of the weight).") var regularisation = 0.005
    @Option(help: "Local fit: share of the weight kept by trimming.") var localTrim = 0.9
    @Flag(inversion: .prefixedNo) var useFit = true
    @Flag(help: "Leave out the second segmenter's patches (diagnosis).") var noPatches = false
    @Flag(help: "Coverage per kind of case for every setting tried.") var breakdown = false

    struct Row {
        let options: DeformedLiverCase.Options
        let truth, global, local, shift, tre: Double
        /// Whether the case reports a liver cut at its cranial or caudal end.
        let cranioCaudalCut: Bool
        let intervals: [MarginUncertainty]
    }

    func run() throws {
        func list(_ s: String) -> [Double] { s.split(separator: ",").compactMap { Double($0) } }
        var combos: [UncertaintySettings] = []
        for a in list(scales) { for f in list(floors) { for b in list(boundaries) {
            var u = UncertaintySettings()
            (u.registrationScale, u.registrationFloorMM, u.boundaryFraction) = (a, f, b)
            combos.append(u)
        } } }
        var rows: [Row] = []
        for s in seed..<(seed + UInt64(count)) {
            var options = DeformedLiverCase.Options.random(seed: s)
            if noPatches { options.segmenterPatches = 0 }
            let phantom = DeformedLiverCase(options)
            let preLiver = phantom.preLabels.map { $0 != 0 }, postLiver = phantom.postLabels.map { $0 != 0 }
            let r: RegistrationResult
            do {
                var settings = RegistrationSettings()
                settings.maxIterations = maxIterations
                r = try RigidRegistration.register(preLiver: preLiver, postLiver: postLiver, settings: settings)
            } catch {
                print("\(s) \(options.kind): \(error)")
                continue
            }
            var local = LocalRefinementSettings()
            local.sigmaMM = sigma
            local.correlatedSamples = correlated
            local.priorMinimumMM = prior
            local.robustScaleMM = robust
            local.modelErrorScale = modelError
            local.regularisation = regularisation
            local.trimFraction = localTrim
            let c = phantom.tumourCentrePre
            let ensemble = r.surfaces.localEnsemble(r.preToPost, around: c, settings: local)
            let used = ensemble.fit.preToPost
            let prepared = try MarginEngine.prepare(MarginCase(tumours: [phantom.preLabels.map { $0 == 2 }],
                                                               ablationZone: phantom.postLabels.map { $0 == 2 }, preLiver: preLiver))
            if verbose {
                let shiftTrue = phantom.tumourCentrePost - phantom.motion.apply(c)
                let oracle = Affine3D(linear: phantom.motion.linear, translation: phantom.motion.translation + shiftTrue)
                print("  tumour \(c) r \(phantom.tumourRadiusMM) breathing \(options.breathingMM) true shift \(shiftTrue) local \(used.apply(c) - phantom.motion.apply(c)) global \(r.preToPost.apply(c) - phantom.motion.apply(c))")
                print("  oracle (true motion at the tumour centre) MAM error \(String(format: "%+.2f", prepared.measure(preToPost: oracle, figures: .surface).tumours[0].minimalMarginMM! - phantom.trueMarginMM))")
                print("  ICP iterations \(r.quality.iterations), cuts pre \(r.surfaces.preCutSides) post \(r.surfaces.postCutSides), local effective samples \(Int(ensemble.fit.effectiveSamples)) residual start \(ensemble.fit.startResidualMM) end \(ensemble.fit.residualMM), iterations \(ensemble.fit.iterations), truncated \(String(format: "%.2f", phantom.truncatedLiverFraction))")
            }
            let row = Row(options: options, truth: phantom.trueMarginMM,
                          global: prepared.measure(preToPost: r.preToPost, figures: .surface).tumours[0].minimalMarginMM!,
                          local: prepared.measure(preToPost: used, figures: .surface).tumours[0].minimalMarginMM!,
                          shift: length(used.apply(c) - r.preToPost.apply(c)),
                          tre: length(used.apply(c) - phantom.tumourCentrePost),
                          cranioCaudalCut: !(r.surfaces.preCranioCaudalCuts + r.surfaces.postCranioCaudalCuts).isEmpty,
                          intervals: combos.map { prepared.uncertainty(tumour: 0, preToPost: used, alternatives: ensemble.alternatives,
                                                                          fitCovarianceColumns: useFit ? ensemble.fit.covarianceColumns : [], settings: $0)! })
            rows.append(row)
            if verbose {
                let u = row.intervals[0]
                print(String(format: "%3d %-44@ %-10@ true %6.2f global %+5.2f local %+5.2f shift %4.2f tre %4.2f 95%% %6.2f..%6.2f reg %.2f bnd %.2f",
                             s, options.kind as NSString, options.site.rawValue as NSString, row.truth, row.global - row.truth,
                             row.local - row.truth, row.shift, row.tre, u.lowerMM, u.upperMM, u.registrationSpreadMM, u.boundarySDMM))
            }
        }
        guard !rows.isEmpty else { throw ValidationError("no phantom could be registered") }
        let errors = rows.map { abs($0.local - $0.truth) }
        print(String(format: "%d phantoms: local MAM error median %.2f, max %.2f mm, %d above 1 mm; global: median %.2f, max %.2f, %d above 1 mm",
                     rows.count, median(errors), errors.max() ?? 0, errors.count(where: { $0 > 1 }),
                     median(rows.map { abs($0.global - $0.truth) }), rows.map { abs($0.global - $0.truth) }.max() ?? 0,
                     rows.count(where: { abs($0.global - $0.truth) > 1 })))
        // The report's warnings on the registration at a tumour (the built-in protocols'
        // warning_mm for the local-vs-global one).
        let warningMM = AnalysisProtocol.builtIn("iamcomplete")!.localRegistration!.warningMM
        func shifted(_ row: Row) -> Bool { row.shift > warningMM }
        func warned(_ row: Row) -> Bool { shifted(row) || row.cranioCaudalCut }
        func unwarned(_ isWarned: (Row) -> Bool) -> Int { rows.count(where: { abs($0.local - $0.truth) > 1 && !isWarned($0) }) }
        print("warned: \(rows.count(where: shifted)) local vs whole-liver fit, \(rows.count(where: warned)) with the cranio-caudal cut; "
              + "above 1 mm unwarned: \(unwarned(shifted)) without the cut warning, \(unwarned(warned)) with it; "
              + "above 1.5 mm: \(rows.count(where: { abs($0.local - $0.truth) > 1.5 }))")
        for (n, u) in combos.enumerated() {
            func summary(_ subset: [Row]) -> String {
                guard !subset.isEmpty else { return "-" }
                let covered = subset.count(where: { $0.intervals[n].lowerMM <= $0.truth && $0.truth <= $0.intervals[n].upperMM })
                return String(format: "%d/%d covered (%.0f%%), median width %.2f mm", covered, subset.count,
                              100 * Double(covered) / Double(subset.count), median(subset.map { $0.intervals[n].upperMM - $0.intervals[n].lowerMM }))
            }
            print(String(format: "scale %.2f floor %.2f boundary %.2f: all %@", u.registrationScale, u.registrationFloorMM,
                         u.boundaryFraction, summary(rows) as NSString))
            guard breakdown || combos.count == 1 else { continue }
            print("  rigid (no deformation or truncation): " + summary(rows.filter { $0.options.isRigid }))
            print("  deformed: " + summary(rows.filter { $0.options.breathingMM != 0 || $0.options.lobeBendMM != 0 }))
            print("  truncated: " + summary(rows.filter { $0.options.truncation != .none }))
            print("  second segmenter: " + summary(rows.filter { $0.options.segmenterPatches > 0 }))
            print("  1 mm-class grids (no slice over 2 mm): " + summary(rows.filter { max($0.options.preSpacing.max(), $0.options.postSpacing.max()) <= 2 }))
            print("  2.5 mm slices: " + summary(rows.filter { max($0.options.preSpacing.max(), $0.options.postSpacing.max()) > 2 }))
        }
    }
}
