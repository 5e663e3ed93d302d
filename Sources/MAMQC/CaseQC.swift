import Foundation
public import MAMCase
import MAMCore

/// The page for a visual check of one case, qc.html: the registration before and after, each
/// tumour's slices through its point of minimal margin, the surface-margin histogram, the
/// report's figures beside each picture, and the inputs. One file that opens from disk with no
/// server or network (images embedded as PNG data), plus one thumbnail per tumour for the
/// cohort page (Docs/qc.md).
public enum CaseQC {
    /// Width and height of every slice image, pixels.
    public static let pixels = 360

    /// Renders the page and the thumbnails into `result` (written with it, before its report),
    /// and names them in the report's outputs; with `scans`, the scans are drawn under the
    /// outlines (each read, windowed to grey levels and let go of in turn).
    public static func attach(to result: inout CaseResult, scans: ScanFiles? = nil) throws(QCError) {
        let report = result.report
        // Both scans at once, each read, hashed and windowed.
        let read = concurrentMap([("pre-scan", scans?.pre), ("post-scan", scans?.post)]) { role, path -> Result<(Volume<UInt8>, ScanInput)?, QCError> in
            guard let scans, let path else { return .success(nil) }
            return Result { () throws(QCError) in
                let grey = try scans.grey(path)
                return (grey, ScanInput(role: role, path: path, sha256: (try? FileDigest.sha256(path: path)) ?? "", geometry: grey.geometry.description))
            }
        }
        var greys: [Volume<UInt8>?] = []
        var scanInputs: [ScanInput] = []
        for result in read {
            let scan = try result.get()
            greys.append(scan?.0)
            if let input = scan?.1 { scanInputs.append(input) }
        }
        let views = CaseViews(report: report, scene: result.scene, preScan: greys[0], postScan: greys[1])
        let pictures = try views.pictures()
        var thumbnails: [(name: String, data: Data)] = []
        var tumourSections: [String] = []
        for (n, tumour) in report.tumours.enumerated() {
            let section = TumourSection(views: views, pictures: pictures, index: n, tumour: tumour)
            if let axial = pictures["tumour-\(tumour.number)-axial"] {
                thumbnails.append((CasePipeline.FileName.qcThumbnail(tumour: tumour.number), axial.png))
            }
            tumourSections.append(section.html)
        }
        result.report.outputs.qcPage = CasePipeline.FileName.qcPage
        result.report.outputs.qcThumbnails = thumbnails.map(\.name)
        let page = CasePage(report: result.report, views: views, pictures: pictures, tumourSections: tumourSections,
                            scans: scanInputs).html
        result.alongside = thumbnails + [(CasePipeline.FileName.qcPage, Data(page.utf8))]
    }
}

/// The colours of the pictures; the page's legends show the same ones.
enum Palette {
    static let background = RGB(28, 28, 28)
    static let liver = RGB(92, 92, 92)
    static let zone = RGB(214, 126, 52)
    static let preLiver = RGB(90, 230, 90)
    static let tumour = RGB(0, 229, 255)
    static let shell = RGB(255, 64, 255)
    static let marker = RGB(255, 236, 0)
    static let annotation = RGB(240, 240, 240)
    /// The post liver's outline over the registered pre scan.
    static let postLiverOutline = RGB(255, 150, 150)
}

/// A scan drawn under the outlines, as the page's inputs list it.
struct ScanInput {
    let role: String, path: String, sha256: String, geometry: String
}

/// A rendered slice: its PNG and its plane.
typealias Picture = (png: Data, plane: SlicePlane)

/// The slice pictures of one case.
struct CaseViews: Sendable {
    let report: CaseReport
    let scene: CaseScene
    /// Grey levels of the scans, when given.
    var preScan: Volume<UInt8>? = nil
    var postScan: Volume<UInt8>? = nil

    /// Every picture of the page by its image id, rendered two at a time (one per core):
    /// `registration-liver-VIEW-after|before`, per tumour `tumour-N-VIEW` (with a margin) and
    /// `registration-tumour-N-VIEW-after|before` (with livers); VIEW axial, coronal, sagittal.
    func pictures() throws(QCError) -> [String: Picture] {
        // A registration job draws its view after and before registration (`ID-after`,
        // `ID-before`), sampling the post structures once for both.
        enum Kind { case registration(tumours: [Int]), preScan(before: Bool), margin(Int) }
        var jobs: [(id: String, plane: SlicePlane, kind: Kind)] = []
        func pair(_ id: String, _ planes: [SlicePlane], _ tumours: [Int]) {
            for plane in planes { jobs.append(("\(id)-\(plane.orientation.rawValue)", plane, .registration(tumours: tumours))) }
        }
        // The liver's box is found once (a pass over the whole post liver mask).
        let liver = liverPlanes()
        pair("registration-liver", liver, Array(report.tumours.indices))
        if preScan != nil {
            for plane in liver {
                for before in [false, true] {
                    jobs.append(("registration-prescan-\(plane.orientation.rawValue)-\(before ? "before" : "after")", plane, .preScan(before: before)))
                }
            }
        }
        var distances: [Int: DistanceLayer] = [:]
        for (n, t) in report.tumours.enumerated() {
            if t.minimalMarginMM != nil {
                jobs += tumourPlanes(n).map { ("tumour-\(t.number)-\($0.orientation.rawValue)", $0, .margin(n)) }
                distances[n] = DistanceLayer(tumour: scene.tumours[n], preToPost: scene.tumourPreToPost[n],
                                             reachMM: report.analysisProtocol.targetMarginMM + 2)
            }
            if scene.postLiver != nil {
                let centre = point(t.centroidPostMM)
                // Context views, 120 mm wide: 240 pixels (0.5 mm each) show the liver's edge near
                // the tumour at about a scan's resolution, for less than half the samples.
                pair("registration-tumour-\(t.number)",
                     SlicePlane.Orientation.allCases.map { SlicePlane($0, centreMM: centre, halfWidthMM: 60, pixels: 240) }, [n])
            }
        }
        let rendered = concurrentMap(jobs) { job -> Result<[(String, Data)], QCError> in
            let images: [(String, RGBImage)] = switch job.kind {
            case .registration(let tumours):
                registrationImages(job.plane, tumours: tumours).map { ("\(job.id)-\($0.0)", $0.1) }
            case .preScan(let before): [(job.id, preScanImage(job.plane, before: before))]
            case .margin(let n): [(job.id, marginImage(job.plane, tumour: n, distance: distances[n]!))]
            }
            return Result { () throws(QCError) in
                var pngs: [(String, Data)] = []
                for (id, image) in images { pngs.append((id, try image.pngData())) }
                return pngs
            }
        }
        var pictures: [String: Picture] = [:]
        for (job, pngs) in zip(jobs, rendered) {
            for (id, png) in try pngs.get() { pictures[id] = (png, job.plane) }
        }
        return pictures
    }

    /// Three planes through the centre of the post liver's box, wide enough for the liver.
    func liverPlanes() -> [SlicePlane] {
        guard let liver = scene.postLiver else { return [] }
        let corners = MaskLayer(liver).boxCornersPostMM()
        guard !corners.isEmpty else { return [] }
        let centre = corners.reduce(SIMD3<Double>.zero, +) / Double(corners.count)
        return SlicePlane.Orientation.allCases.map { orientation in
            let probe = SlicePlane(orientation, centreMM: centre, halfWidthMM: 1, pixels: 2)
            let reach = corners.map { max(abs(dot($0 - centre, probe.right)), abs(dot($0 - centre, probe.down))) }.max()!
            return SlicePlane(orientation, centreMM: centre, halfWidthMM: reach + 10, pixels: CaseQC.pixels)
        }
    }

    /// The registration seen on `plane`: the post liver filled, the ablation zone, and the pre
    /// liver and the tumours outlined through `preToPost` (the identity: before registration).
    /// The view `after` and `before` registration: the post structures drawn once, then the
    /// pre liver and the tumours outlined through the transforms or the identity.
    func registrationImages(_ plane: SlicePlane, tumours: [Int]) -> [(String, RGBImage)] {
        var base = SliceCanvas(plane, background: Palette.background)
        let zone = MaskLayer(scene.ablationZone).sample(plane)
        if let scan = postScan {
            // The scan shows the liver: the zone is outlined only.
            base.underlay(ScanLayer(scan).sample(plane))
            base.outline(zone, Palette.zone)
        } else {
            if let liver = scene.postLiver { base.fill(MaskLayer(liver).sample(plane), Palette.liver) }
            base.fill(zone, Palette.zone)
        }
        return [("after", false), ("before", true)].map { name, before in
            var canvas = base
            if let pre = scene.preLiver {
                canvas.outline(MaskLayer(pre, preToPost: before ? .identity : scene.preToPost).sample(plane), Palette.preLiver)
            }
            for n in tumours {
                let transform = before ? Affine3D.identity : scene.tumourPreToPost[n]
                canvas.outline(MaskLayer(scene.tumours[n], preToPost: transform).sample(plane), Palette.tumour)
            }
            canvas.annotate(Palette.annotation)
            return (name, canvas.image)
        }
    }

    /// The pre scan moved onto the post world by the whole-liver transform (or not moved:
    /// `before`) under the post liver's outline.
    func preScanImage(_ plane: SlicePlane, before: Bool) -> RGBImage {
        var canvas = SliceCanvas(plane, background: Palette.background)
        if let scan = preScan { canvas.underlay(ScanLayer(scan, preToPost: before ? .identity : scene.preToPost).sample(plane)) }
        if let liver = scene.postLiver { canvas.outline(MaskLayer(liver).sample(plane), Palette.postLiverOutline) }
        canvas.annotate(Palette.annotation)
        return canvas.image
    }

    /// Three planes through a tumour's point of minimal margin (its centre when it has none),
    /// wide enough for the tumour, its target-margin shell and 8 mm around.
    func tumourPlanes(_ n: Int) -> [SlicePlane] {
        let t = report.tumours[n]
        let centre = point(t.minimalMarginLocationPostMM ?? t.centroidPostMM)
        let corners = MaskLayer(scene.tumours[n]).boxCornersPostMM(preToPost: scene.tumourPreToPost[n])
        return SlicePlane.Orientation.allCases.map { orientation in
            let probe = SlicePlane(orientation, centreMM: centre, halfWidthMM: 1, pixels: 2)
            let reach = corners.map { max(abs(dot($0 - centre, probe.right)), abs(dot($0 - centre, probe.down))) }.max() ?? 0
            return SlicePlane(orientation, centreMM: centre,
                              halfWidthMM: max(25, reach + report.analysisProtocol.targetMarginMM + 8), pixels: CaseQC.pixels)
        }
    }

    /// A tumour's margin on `plane`: the ablation zone filled, the registered tumour and its
    /// target-margin shell outlined, the minimal-margin point marked.
    func marginImage(_ plane: SlicePlane, tumour n: Int, distance: DistanceLayer) -> RGBImage {
        var canvas = SliceCanvas(plane, background: Palette.background)
        let zone = MaskLayer(scene.ablationZone).sample(plane)
        if let scan = postScan {
            canvas.underlay(ScanLayer(scan).sample(plane))
            canvas.tint(zone, Palette.zone, opacity: 0.35)
            canvas.outline(zone, Palette.zone)
        } else {
            if let liver = scene.postLiver { canvas.fill(MaskLayer(liver).sample(plane), Palette.liver) }
            canvas.fill(zone, Palette.zone)
        }
        canvas.outline(distance.sample(plane, widthMM: report.analysisProtocol.targetMarginMM), Palette.shell)
        canvas.outline(distance.sample(plane), Palette.tumour)
        if let location = report.tumours[n].minimalMarginLocationPostMM { canvas.marker(point(location), Palette.marker) }
        canvas.annotate(Palette.annotation)
        return canvas.image
    }

    func point(_ xyz: [Double]) -> SIMD3<Double> { SIMD3(xyz[0], xyz[1], xyz[2]) }
}
