import Foundation
import MAMCore
import MAMImageIO
import MAMMargin
import MAMSurface
import MAMTestSupport
import Testing

@Suite("Margin maps and tumour definitions")
struct MarginMapsTests {
    @Test("margin maps lie exactly on the post grid and hold the signed margin of tumour voxels")
    func maps() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let centre = SIMD3(0.3, -0.2, 0.4)
        let post = grid(around: centre, extentMM: 60, spacing: SIMD3(0.8, 0.8, 1.5),
                        direction: Matrix3.rotation(axis: SIMD3(0, 0, 1), degrees: 20))
        let tumour = paint(grid(around: centre, extentMM: 50, spacing: SIMD3(1, 1, 1)), [.sphere(center: centre, radius: 8)])
        let zone = paint(post, [.sphere(center: centre, radius: 14)])
        let analysis = try MarginEngine.analyse(MarginCase(tumours: [tumour], ablationZone: zone))
        let maps = try #require(analysis.marginMaps())
        // The sub-grid: same spacing and orientation, voxel centres on the post grid's.
        let g = maps.marginMM.geometry
        #expect(g.indexToWorld.linear.maxAbsDifference(to: post.indexToWorld.linear) < 1e-12)
        let offset = post.index(atWorld: g.origin)
        #expect(length(offset - offset.rounded(.toNearestOrEven)) < 1e-9)
        #expect(g.size.count < post.size.count / 2)
        // Tumour voxels: about the ball's volume (+-5%); margins 14 - |x - c| within 0.5 mm.
        let voxelML = g.voxelVolumeML
        #expect(abs(Double(maps.tumourVoxels.count) * voxelML - 4 / 3 * .pi * 512 / 1000) < 0.05 * 4 / 3 * .pi * 512 / 1000)
        var worst = 0.0
        for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x where maps.tumourVoxels[i, j, k] {
            let x = g.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
            let expected = 14 - length(x - centre)
            worst = max(worst, abs(Double(maps.marginMM[i, j, k]) - expected))
            #expect(maps.categories[i, j, k] == (expected >= 5.5 ? 3 : (expected < 4.5 ? 2 : maps.categories[i, j, k])))
        } } }
        #expect(worst < 0.5, "largest map error \(worst) mm")
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
