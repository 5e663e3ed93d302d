import Foundation
import MAMCore
import MAMImageIO
import MAMMargin
import MAMSurface
import MAMTestSupport
import Testing

@Suite("Margin maps and tumour definitions")
struct MarginMapsTests {
    @Test("margin maps lie exactly on the post grid; a voxel holds the margin of the nearest tumour surface; the smallest is the MAM")
    func maps() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // A tumour of radius 8 mm, 3 mm off the centre of a 14 mm zone: the surface point in
        // direction u has the margin 14 - |c_t + 8u - c_z|, from 3 mm (MAM) to 9 mm.
        let centre = SIMD3(0.3, -0.2, 0.4)
        let tumourCentre = centre + SIMD3(3, 0, 0)
        let post = grid(around: centre, extentMM: 60, spacing: SIMD3(0.8, 0.8, 1.5),
                        direction: Matrix3.rotation(axis: SIMD3(0, 0, 1), degrees: 20))
        let tumour = paint(grid(around: centre, extentMM: 50, spacing: SIMD3(1, 1, 1)), [.sphere(center: tumourCentre, radius: 8)])
        let zone = paint(post, [.sphere(center: centre, radius: 14)])
        let analysis = try MarginEngine.analyse(MarginCase(tumours: [tumour], ablationZone: zone))
        let maps = try #require(analysis.marginMaps())
        // The sub-grid: same spacing and orientation, voxel centres on the post grid's.
        let g = maps.marginMM.geometry
        #expect(g.indexToWorld.linear.maxAbsDifference(to: post.indexToWorld.linear) < 1e-12)
        let offset = post.index(atWorld: g.origin)
        #expect(length(offset - offset.rounded(.toNearestOrEven)) < 1e-9)
        #expect(g.size.count < post.size.count / 2)
        // Tumour voxels: about the ball's volume (+-5%).
        let voxelML = g.voxelVolumeML
        #expect(abs(Double(maps.tumourVoxels.count) * voxelML - 4 / 3 * .pi * 512 / 1000) < 0.05 * 4 / 3 * .pi * 512 / 1000)
        // Every voxel holds the margin of its nearest surface sample (found here by brute
        // force), or less where it is the voxel nearest to a sample of smaller margin; inside
        // (under 6 mm from the tumour's centre, samples lying 8 +- 0.4 mm out and a voxel's
        // half diagonal being 0.94 mm) no voxel is nearest to a sample, so exactly that margin.
        // Against the analytic margin of the nearest surface point (voxels 3 mm or more from
        // the centre, where that point is well defined): the engine's surface error (0.5 mm on
        // 1 mm grids) plus the margin's slope along the surface (3 / sqrt(73) = 0.35 mm per
        // mm) times the distance to the nearest sample (at most the 1.3 mm sample spacing of
        // 460 samples on 804 mm^2): 0.96 mm; near the surface the smaller samples a voxel takes
        // lower that by at most the slope times the voxel's diagonal (1.88 mm): 0.66 mm more.
        let samples = try #require(analysis.surfaceMargins[0])
        var smallest = Float.infinity
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x where maps.tumourVoxels[i, j, k] {
            let value = maps.marginMM[i, j, k]
            smallest = min(smallest, value)
            let x = g.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
            let nearest = samples.postPoints.indices.min { length(samples.postPoints[$0] - x) < length(samples.postPoints[$1] - x) }!
            let r = length(x - tumourCentre)
            if r < 6 {
                #expect(value == Float(samples.marginsMM[nearest]))
            } else {
                #expect(value <= Float(samples.marginsMM[nearest]))
            }
            #expect(maps.categories[i, j, k] == (value < 5 ? 2 : 3))
            guard r >= 3 else { continue }
            let expected = 14 - length(tumourCentre + 8 * (x - tumourCentre) / r - centre)
            #expect(Double(value) <= expected + 0.96 && Double(value) >= expected - 0.96 - 0.66, "\(value) against \(expected) at r = \(r)")
        } } }
        // The smallest value is the MAM itself (float32 of it: 1e-6 mm here).
        let mam = try #require(analysis.tumours[0].minimalMarginMM)
        #expect(abs(Double(smallest) - mam) < 1e-6, "map minimum \(smallest), MAM \(mam)")
        #expect(abs(mam - 3) < 0.5)
        // Outside the tumour: 0 and category 0.
        for v in maps.tumourVoxels.voxels.indices where !maps.tumourVoxels.voxels[v] {
            #expect(maps.marginMM.voxels[v] == 0 && maps.categories.voxels[v] == 0)
        }
        // Written and read back, the maps keep their geometry and values.
        try NIfTIWriter.write(maps.marginMM, to: folder.file("margin.nii.gz"))
        try NIfTIWriter.write(maps.categories, to: folder.file("categories.nii.gz"))
        let read = try NIfTIReader().read(folder.file("margin.nii.gz"))
        #expect(read.voxels == .float32(maps.marginMM.voxels))
        #expect(read.geometry.isSamePhysicalSpace(as: g))
        // The whole-grid variant covers the post grid.
        #expect(analysis.marginMaps(wholeGrid: true)?.marginMM.geometry.isSamePhysicalSpace(as: post) == true)
    }
}
