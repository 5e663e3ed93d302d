import ArgumentParser
import Foundation
import MAMCore
import MAMMargin
import MAMPhantoms
import MAMRegistration

/// Seeded deformed-liver phantoms through registration and the margin engine: the error of
/// the MAM and of the transform at the tumour, per kind of case.
struct TrustBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "MAM and registration error at the tumour on seeded deformed-liver phantoms."
    )

    @Option(help: "Number of phantoms.") var count = 20
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Trim fraction.") var trim = 0.7
    @Option(help: "Local sigma (mm); 0 for none.") var sigma = 40.0
    @Option(help: "Local trim.") var localTrim = 0.9

    func run() throws {
        for s in seed..<(seed + UInt64(count)) {
            let options = DeformedLiverCase.Options.random(seed: s)
            let phantom = DeformedLiverCase(options)
            let preLiver = phantom.preLabels.map { $0 != 0 }, postLiver = phantom.postLabels.map { $0 != 0 }
            var settings = RegistrationSettings()
            settings.trimFraction = trim
            let r: RegistrationResult
            do {
                r = try RigidRegistration.register(preLiver: preLiver, postLiver: postLiver, settings: settings)
            } catch {
                print(String(format: "%3d %-40@ %@", s, options.kind as NSString, "\(error)" as NSString))
                continue
            }
            var local = LocalRefinementSettings()
            local.sigmaMM = sigma
            local.trimFraction = localTrim
            let used = sigma > 0 ? r.surfaces.refine(r.preToPost, around: phantom.tumourCentrePre, settings: local).preToPost : r.preToPost
            let analysis = try MarginEngine.analyse(MarginCase(tumours: [phantom.preLabels.map { $0 == 2 }],
                                                               ablationZone: phantom.postLabels.map { $0 == 2 },
                                                               preLiver: preLiver, preToPost: used))
            let mam = analysis.tumours[0].minimalMarginMM ?? .nan
            let miss = length(used.apply(phantom.tumourCentrePre) - phantom.tumourCentrePost)
            let shift = length(used.apply(phantom.tumourCentrePre) - r.preToPost.apply(phantom.tumourCentrePre))
            print(String(format: "%3d %-40@ %-10@ true %6.2f  mam %6.2f  err %+5.2f  tre %4.2f  shift %4.2f %@ dice %.3f msd %.2f",
                         s, options.kind as NSString, options.site.rawValue as NSString, phantom.trueMarginMM, mam,
                         mam - phantom.trueMarginMM, miss, shift, r.verdict.rawValue as NSString, r.quality.liverDice,
                         r.quality.meanSurfaceDistanceMM))
        }
    }
}
