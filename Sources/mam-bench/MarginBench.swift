import ArgumentParser
import Foundation
import MAMImaging
import MAMMargin
import MAMPhantoms

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
        var last: MarginAnalysis?
        // The engine's floor: the two sub-voxel surfaces it cannot do without, on the crops it
        // makes (the zone with holes filled, the tumour's box), built side by side.
        let zoneCrop = Components.fillingHoles(SubvoxelSurface.crop(zone, around: zone.boundingBox))
        let tumourCrop = SubvoxelSurface.crop(tumourMask, around: tumourMask.boundingBox)
        for _ in 0..<options.repeats {
            var tumours: [Mask] = []
            let margin = MarginEngine.cropMarginVoxels(settings, spacing: g.spacing)
            split.append(seconds { tumours = Components.connected26(tumourMask, margin: margin) })
            let input = MarginCase(tumours: tumours, ablationZone: zone, preLiver: liver)
            engine.append(try seconds { last = try MarginEngine.analyse(input, settings: settings) })
            maps.append(seconds { _ = last!.marginMaps() })
            surfaces.append(seconds {
                concurrently({ _ = SubvoxelSurface(mask: zoneCrop) }, { _ = SubvoxelSurface(mask: tumourCrop) })
            })
        }
        let t = last!.tumours[0]
        print("margin: \(g.size) voxels; tumour \(String(format: "%.1f", t.volumeML)) mL, zone \(String(format: "%.1f", last!.ablationVolumeML)) mL, MAM \(String(format: "%.2f", t.minimalMarginMM ?? .nan)) mm (analytic \(String(format: "%.2f", 25 - (length(SIMD3<Double>(2, 3, 2)) + 15))))")
        print("  " + "stage".padding(toLength: 44, withPad: " ", startingAt: 0) + "   median")
        for (name, times) in [("tumour components (26-connected)", split), ("margin engine (all figures)", engine),
                             ("  its two sub-voxel surfaces alone", surfaces), ("margin maps (sub-grid)", maps)] {
            print("  " + name.padding(toLength: 44, withPad: " ", startingAt: 0) + String(format: " %8.1f ms", median(times) * 1000))
        }
    }
}
