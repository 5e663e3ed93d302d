import ArgumentParser
import Foundation
import MAMCore
import MAMMargin
import MAMPhantoms
import MAMSurface

struct MarginBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin",
        abstract: "The margin engine on the realistic case: 512 x 512 x 300 at 0.7 x 0.7 x 1.0 mm, 1.5 L liver, 3 cm tumour, 5 cm ablation zone."
    )

    @OptionGroup var options: BenchOptions

    func run() throws {
        let g = RealisticCase.geometry
        let labels = Phantom.labelMap(geometry: g, shapes: [(1, RealisticCase.liver), (2, RealisticCase.tumour)])
        let zone = Phantom.labelMap(geometry: g, shapes: [(1, RealisticCase.ablationZone)]).map { $0 == 1 }
        let tumourMask = labels.map { $0 == 2 }
        let liver = labels.map { $0 != 0 }
        var settings = MarginSettings()
        settings.capsuleExclusionMM = 3
        var split: [Double] = []
        var engine: [Double] = []
        var maps: [Double] = []
        var surfaces: [Double] = []
        var prepare: [Double] = []
        var remeasure: [Double] = []
        var remeasureSurface: [Double] = []
        var moved: MarginAnalysis?
        var last: MarginAnalysis?
        // The engine's floor: the two sub-voxel surfaces it cannot do without, on the crops it
        // makes (the zone with holes filled, the tumour's box), built side by side.
        let zoneCrop = Components.fillingHoles(SubvoxelSurface.crop(zone, around: zone.boundingBox))
        let tumourCrop = SubvoxelSurface.crop(tumourMask, around: tumourMask.boundingBox)
        for _ in 0..<options.repeats {
            var tumours: [Mask] = []
            split.append(seconds { tumours = MarginEngine.separateTumours(tumourMask, settings: settings).tumours })
            let input = MarginCase(tumours: tumours, ablationZone: zone, preLiver: liver)
            engine.append(try seconds { last = try MarginEngine.analyse(input, settings: settings) })
            // The same case prepared once, then measured under a second transform: 2 degrees
            // about z through the tumour's centre and 1 mm along x (an uncertainty sample's size).
            var prepared: PreparedCase?
            prepare.append(try seconds { prepared = try MarginEngine.prepare(input, settings: settings) })
            let centre = SIMD3<Double>(20, -10, 5)  // RealisticCase.tumour's centre
            let turn = Affine3D(linear: .rotation(axis: SIMD3(0, 0, 1), degrees: 2), translation: .zero)
            let second = Affine3D(linear: .identity, translation: centre + SIMD3(1, 0, 0)) * turn
                * Affine3D(linear: .identity, translation: -centre)
            remeasure.append(seconds { moved = prepared!.measure(preToPost: second) })
            remeasureSurface.append(seconds { _ = prepared!.measure(preToPost: second, figures: .surface) })
            maps.append(seconds { _ = last!.marginMaps()! })
            surfaces.append(seconds {
                concurrently({ _ = SubvoxelSurface(mask: zoneCrop) }, { _ = SubvoxelSurface(mask: tumourCrop) })
            })
        }
        let t = last!.tumours[0]
        print("margin: \(g.size) voxels; tumour \(String(format: "%.1f", t.volumeML)) mL, zone \(String(format: "%.1f", last!.ablationVolumeML)) mL, MAM \(String(format: "%.2f", t.minimalMarginMM ?? .nan)) mm (analytic \(String(format: "%.2f", 25 - (length(SIMD3<Double>(2, 3, 2)) + 15))))")
        print("  " + "stage".padding(toLength: 44, withPad: " ", startingAt: 0) + "   median")
        print(String(format: "  (under the second transform: MAM %.2f mm)", moved!.tumours[0].minimalMarginMM ?? .nan))
        for (name, times) in [("tumour components (26-connected)", split), ("margin engine (all figures)", engine),
                             ("  its two sub-voxel surfaces alone", surfaces),
                             ("  its preparation (transform-independent)", prepare),
                             ("prepared case under a second transform", remeasure),
                             ("  surface margins only (MAM, distribution)", remeasureSurface),
                             ("margin maps (sub-grid)", maps)] {
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: " %8.1f ms", median(times) * 1000))
        }
    }
}
