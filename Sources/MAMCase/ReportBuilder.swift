import Foundation
import MAMCore
import MAMMargin
import MAMRegistration
import MAMSurface

/// How every output of mam-quantify rounds its figures: to what they can mean (micrometres
/// for distances, 0.1 microlitre for volumes, 1e-5 for fractions, 1e-4 for coefficients such
/// as ICC and kappa), which also keeps files byte-identical when the last bits of a parallel
/// sum differ.
public enum Rounded {
    public static func digits(_ x: Double, _ digits: Int) -> Double {
        let scale = pow(10, Double(digits))
        return (x * scale).rounded() / scale + 0  // + 0 turns -0 into 0
    }

    public static func mm(_ x: Double) -> Double { digits(x, 3) }
    public static func ml(_ x: Double) -> Double { digits(x, 4) }
    public static func fraction(_ x: Double) -> Double { digits(x, 5) }
    public static func coefficient(_ x: Double) -> Double { digits(x, 4) }
}

/// Turns a case's results into its report, its figures `Rounded`.
struct ReportBuilder {
    let request: CaseRequest
    let loaded: Inputs
    let masks: Masks

    static func rounded(_ x: Double, _ digits: Int) -> Double { Rounded.digits(x, digits) }
    static func mm(_ x: Double) -> Double { Rounded.mm(x) }
    static func ml(_ x: Double) -> Double { Rounded.ml(x) }
    static func fraction(_ x: Double) -> Double { Rounded.fraction(x) }
    static func point(_ p: SIMD3<Double>) -> [Double] { [mm(p.x), mm(p.y), mm(p.z)] }

    /// The zone's volume and shape; the long axis' direction is given pointing to +z (superior)
    /// or, lying in the axial plane, to +y and then +x, so that it does not flip between runs.
    static func ablationZone(_ analysis: MarginAnalysis, _ shape: PrincipalExtents?, holesFilled: Bool) -> CaseReport.AblationZone {
        var zone = CaseReport.AblationZone(volumeML: ml(analysis.ablationVolumeML), holesFilled: holesFilled)
        guard let shape else { return zone }
        let e = shape.extentsMM
        zone.longAxisMM = mm(e[0])
        zone.shortAxisMM = mm(e[1])
        zone.thirdAxisMM = mm(e[2])
        zone.sphericityIndex = rounded(e[1] / e[0], 3)
        var u = shape.axes[0]
        if u.z < 0 || (u.z == 0 && (u.y < 0 || (u.y == 0 && u.x < 0))) { u = -u }
        zone.longAxisDirection = [rounded(u.x, 4), rounded(u.y, 4), rounded(u.z, 4)]
        return zone
    }

    /// The warning for a liver cut at its cranial or caudal end by a scan's field of view, nil
    /// when neither scan cuts it there. Breathing moves the liver mostly head to foot, by
    /// different amounts along it; a rigid fit of what remains carries the motion of the part it
    /// sees to the tumours: on the deformed-liver phantoms one such tumour in eight was more than
    /// 1 mm off, half of them with the local and whole-liver fits agreeing (Docs/uncertainty.md).
    static func cranioCaudalCutWarning(_ registration: RegistrationResult) -> String? {
        func ends(_ cuts: [String]) -> String { cuts.joined(separator: " and ") + (cuts.count > 1 ? " ends" : " end") }
        let s = registration.surfaces
        let scans = [("pre-ablation", s.preCranioCaudalCuts), ("post-ablation", s.postCranioCaudalCuts)]
            .filter { !$0.1.isEmpty }.map { "the \($0.0) scan's field of view cuts the liver at its \(ends($0.1))" }
        guard !scans.isEmpty else { return nil }
        return scans.joined(separator: "; ")
            + ": the registration does not see how the liver moved beyond the cut (breathing moves it mostly head to foot),"
            + " so a margin can be more than 1 mm off with no other sign; check the registration at each tumour"
    }

    static func matrix(_ a: Affine3D, _ digits: Int) -> [[Double]] { a.matrix4x4.map { $0.map { rounded($0, digits) } } }

    /// `caseWarnings` (about the inputs) come first among the report's warnings.
    func report(caseWarnings: [String], analysis: MarginAnalysis, zoneShape: PrincipalExtents?, labels: [Int?],
                method: RegistrationMethod, registration: RegistrationResult?,
                preToPost: Affine3D, writesMaps: Bool, atTumours findings: [TumourFindings],
                timings: CaseReport.Timings) -> CaseReport {
        let proto = request.analysisProtocol
        var warnings = caseWarnings
        let rejected = registration?.verdict == .rejected
        if rejected {
            warnings.append("registration rejected (\(registration!.reasons.joined(separator: "; "))): the margins are unreliable")
        }
        if masks.preLiver == nil {
            warnings.append("no pre-ablation liver mask: the peri-tumoural shells are not restricted to the liver"
                + (proto.margin.capsuleExclusionMM == nil ? "" : " and no capsule exclusion was made"))
        }
        let tumours = analysis.tumours.indices.map { tumour(from: analysis.tumours[$0], label: labels[$0], findings: findings[$0]) }
        for t in tumours where t.outcome != MarginOutcome.measured.rawValue {
            warnings.append("tumour \(t.number): \(t.message ?? t.outcome)")
        }
        if let local = proto.localRegistration {
            for t in tumours {
                guard let d = t.registrationAtTumour.localToGlobalDisplacementMM, d > local.warningMM else { continue }
                var text = String(format: "tumour %d: the local and whole-liver fits place the tumour %.1f mm apart (more than %@ mm)",
                                  t.number, d, formatMM(local.warningMM))
                if let g = t.registrationAtTumour.globalMinimalMarginMM, let l = t.registrationAtTumour.localMinimalMarginMM {
                    text += String(format: "; MAM %.2f mm with the local fit, %.2f mm with the whole-liver fit", l, g)
                }
                warnings.append(text + ": the liver deformed or was segmented differently near it; check the registration at the tumour")
            }
        }
        if let cut = registration.flatMap(Self.cranioCaudalCutWarning) { warnings.append(cut) }
        for t in tumours {
            guard let u = t.uncertainty, u.categoryUncertain else { continue }
            warnings.append(String(format: "tumour %d: category uncertain: the MAM's 95%% interval %.2f to %.2f mm holds a category cut-off",
                                   t.number, u.minimalMarginInterval95MM[0], u.minimalMarginInterval95MM[1]))
        }
        return CaseReport(
            schemaVersion: CaseReport.currentSchemaVersion,
            tool: .current,
            caseId: request.caseId,
            status: rejected ? .registrationRejected : .done,
            marginsReliable: !rejected,
            analysisProtocol: .init(name: proto.name, version: proto.version, source: proto.source, sha256: proto.sha256,
                                    targetMarginMM: proto.margin.targetMarginMM,
                                    categoryCutoffsMM: proto.margin.categoryCutoffsMM, categories: proto.categoryNames),
            inputs: loaded.files.map(Self.input),
            registration: registrationSection(method: method, result: registration, preToPost: preToPost),
            ablationZone: Self.ablationZone(analysis, zoneShape, holesFilled: proto.margin.fillAblationHoles),
            tumours: tumours,
            outputs: .init(report: CasePipeline.FileName.report,
                           marginMap: writesMaps ? CasePipeline.FileName.marginMap : nil,
                           marginMask: writesMaps ? CasePipeline.FileName.marginMask : nil,
                           categoryMap: writesMaps ? CasePipeline.FileName.categoryMap : nil,
                           categoryColoursSlicer: writesMaps ? CasePipeline.FileName.slicerColours : nil,
                           categoryLabelsITKSNAP: writesMaps ? CasePipeline.FileName.itkSnapLabels : nil,
                           transform: proto.writesTransform ? CasePipeline.FileName.transform : nil,
                           qcPage: nil, qcThumbnails: []),
            warnings: warnings,
            timingsSeconds: timings,
            run: .now())
    }

    static func input(_ file: Inputs.File) -> CaseReport.InputFile {
        var geometry: CaseReport.Geometry?
        if let g = file.geometry, let source = file.geometrySource {
            geometry = .init(sizeVoxels: [g.size.x, g.size.y, g.size.z],
                             spacingMM: [g.spacing.x, g.spacing.y, g.spacing.z].map { rounded($0, 6) },
                             orientation: g.orientationCode, geometrySource: source.rawValue,
                             indexToWorldMM: matrix(g.indexToWorld, 6))
        }
        return .init(role: file.role.rawValue, path: file.path, sha256: file.sha256, sizeBytes: file.sizeBytes,
                     format: file.format?.rawValue, datatype: file.datatype.map { "\($0)" }, geometry: geometry)
    }

    func registrationSection(method: RegistrationMethod, result: RegistrationResult?, preToPost: Affine3D) -> CaseReport.Registration {
        let proto = request.analysisProtocol
        let r = preToPost.linear
        let trace = r[0, 0] + r[1, 1] + r[2, 2]
        let degrees = acos(min(1, max(-1, (trace - 1) / 2))) * 180 / .pi
        var section = CaseReport.Registration(
            method: method, preToPostMM: Self.matrix(preToPost, 9), rotationDegrees: Self.rounded(degrees, 4),
            translationMM: Self.point(preToPost.translation), parameters: nil, acceptance: nil, quality: nil,
            verdict: "not-assessed", reasons: [])
        guard let result else {
            section.reasons = [method == .transformFile ? "the transform was given as a file: no registration ran"
                                                           : "the masks were taken as co-registered: no registration ran"]
            return section
        }
        let s = proto.registration
        section.parameters = .init(preSurfaceSamplingMM: s.sourceSpacingMM, postSurfaceSamplingMM: s.targetSpacingMM,
                                   trimFraction: s.trimFraction, maxIterations: s.maxIterations, toleranceMM: s.toleranceMM,
                                   maxLiverVolumeRatio: s.maxVolumeRatio, inlierDistanceMM: s.inlierDistanceMM,
                                   borderExclusionMM: s.borderExclusionMM,
                                   localRefinement: proto.localRegistration.map {
                                       .init(sigmaMM: $0.settings.sigmaMM, useForMargins: $0.useForMargins, warningMM: $0.warningMM)
                                   })
        section.fieldOfViewCuts = .init(pre: result.surfaces.preCutSides, post: result.surfaces.postCutSides)
        let a = proto.acceptance
        section.acceptance = .init(minLiverDice: a.minLiverDice, maxMeanSurfaceDistanceMM: a.maxMeanSurfaceDistanceMM,
                                   maxSurfaceDistance95MM: a.maxSurfaceDistance95MM, minInlierFraction: a.minInlierFraction)
        let q = result.quality
        section.quality = .init(liverDice: Self.fraction(q.liverDice), meanSurfaceDistanceMM: Self.mm(q.meanSurfaceDistanceMM),
                                surfaceDistance95MM: Self.mm(q.surfaceDistance95MM), inlierRMSMM: Self.mm(q.inlierRMSMM),
                                inlierFraction: Self.fraction(q.inlierFraction), iterations: q.iterations)
        section.verdict = result.verdict.rawValue
        section.reasons = result.reasons
        return section
    }

    func tumour(from t: TumourMargin, label: Int?, findings f: TumourFindings) -> CaseReport.Tumour {
        let proto = request.analysisProtocol
        let minimum = t.minimalMarginMM.map(Self.mm)
        let uncertainty = f.uncertainty.map { u in
            CaseReport.Uncertainty(
                minimalMarginInterval95MM: [Self.mm(u.lowerMM), Self.mm(u.upperMM)],
                probabilityMeetsTarget: Self.rounded(u.probabilityAtLeastTarget, 3),
                probabilityAtLeastZero: Self.rounded(u.probabilityAtLeastZero, 3),
                categoryUncertain: proto.margin.category(ofMarginMM: u.lowerMM) != proto.margin.category(ofMarginMM: u.upperMM),
                registrationSpreadMM: Self.mm(u.registrationSpreadMM), boundarySDMM: Self.mm(u.boundarySDMM),
                includesRegistration: f.includesRegistration, draws: u.draws)
        }
        return CaseReport.Tumour(
            number: t.number, label: label, outcome: Self.outcomeName(t.outcome), message: t.message,
            volumeML: Self.ml(t.volumeML), centroidPreMM: Self.point(t.centroidPreMM), centroidPostMM: Self.point(t.centroidPostMM),
            minimalMarginMM: minimum, minimalMarginLocationPostMM: t.surface.map { $0.minimumLocationPostMM.map(Self.mm) },
            // Category and target from the unrounded MAM, as the margin maps have them.
            category: t.minimalMarginMM.map { m in
                let index = proto.margin.category(ofMarginMM: m)
                return CaseReport.Category(index: index, name: proto.categoryNames[index - 1])
            },
            meetsTargetMargin: t.minimalMarginMM.map { $0 >= proto.margin.targetMarginMM },
            surface: t.surface.map(Self.surface),
            capsuleExcludedSurfaceFraction: t.capsuleExcludedSurfaceFraction.map(Self.fraction),
            surfaceWithoutCapsule: t.surfaceWithoutCapsule.map(Self.surface),
            fractionInsideAblation: t.fractionInsideAblation.map(Self.fraction),
            residualVolumeML: t.residualVolumeML.map(Self.ml),
            shells: t.shells.map { .init(widthMM: $0.widthMM, volumeML: Self.ml($0.volumeML), fractionAblated: $0.fractionAblated.map(Self.fraction)) },
            registrationAtTumour: .init(transformUsed: f.transformUsed, localPreToPostMM: f.localPreToPost.map { Self.matrix($0, 9) },
                                        globalMinimalMarginMM: f.globalMAM.map(Self.mm), localMinimalMarginMM: f.localMAM.map(Self.mm),
                                        localToGlobalDisplacementMM: f.displacementMM.map(Self.mm)),
            uncertainty: uncertainty)
    }

    static func outcomeName(_ outcome: MarginOutcome) -> String {
        switch outcome {
        case .measured: return "measured"
        case .noAblationZone: return "no-ablation-zone"
        case .outsidePostFieldOfView: return "outside-post-field-of-view"
        }
    }

    static func surface(_ s: SurfaceMarginStatistics) -> CaseReport.Surface {
        CaseReport.Surface(
            minimumMM: mm(s.minimumMM), p5MM: mm(s.p5MM), p25MM: mm(s.p25MM), p50MM: mm(s.p50MM), p75MM: mm(s.p75MM),
            p95MM: mm(s.p95MM), maximumMM: mm(s.maximumMM), areaMM2: rounded(s.surfaceAreaMM2, 2),
            fractionBelowZero: fraction(s.fractionBelowZero), fractionBelowTarget: fraction(s.fractionBelowTarget),
            fractionAtOrAboveTarget: fraction(s.fractionAtOrAboveTarget),
            histogram: s.histogram.map { .init(lowerMM: mm($0.lowerMM), upperMM: mm($0.upperMM), areaFraction: fraction($0.areaFraction)) })
    }
}
