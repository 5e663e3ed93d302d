import MAMCore
import MAMImageIO
import MAMSurface
import MAMTestSupport
import Testing

@Suite("Label images")
struct LabelImageTests {
    @Test("tumours by label value: one mask per label present")
    func byLabel() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let g = grid(extentMM: 40, spacing: SIMD3(1, 1, 1))
        var labels = Volume<UInt8>(geometry: g, repeating: 0)
        labels[5, 5, 5] = 2
        labels[6, 5, 5] = 3  // touching label 2: one connected component, two labels
        labels[20, 20, 20] = 3
        try NIfTIWriter.write(labels, to: folder.file("labels.nii"))
        let image = try NIfTIReader().read(folder.file("labels.nii"))
        let parts = try image.masks(byLabel: [2, 3, 4])
        #expect(parts.map(\.label) == [2, 3])
        #expect(parts.map(\.mask.count) == [1, 2])
        #expect(Components.connected26(try image.mask(labels: [2, 3]), margin: 0).map(\.count) == [2, 1])
    }

    /// labelCounts counts distinct stored values first (issue 20: a dictionary update per voxel
    /// took 82% of `agreement` on CT-sized masks); against the plain per-voxel count.
    @Test("label counts of every datatype, with and without scaling, NaN and fractions: as a per-voxel count gives them",
          arguments: 0..<10)
    func labelCounts(_ kind: Int) throws {
        let g = ImageGeometry(size: GridSize(30, 20, 10), spacing: SIMD3(1, 1, 1), origin: .zero)
        var generator = SeededGenerator(seed: UInt64(100 + kind))
        // Runs of random values, as label maps have, with negative values where the type has them.
        var values: [Int] = []
        while values.count < g.size.count {
            let value = Int.random(in: -3...5, using: &generator)
            values += Array(repeating: value, count: Int.random(in: 1...40, using: &generator))
        }
        values = Array(values.prefix(g.size.count))
        let positive = values.map { abs($0) }
        let voxels: VoxelArray
        switch kind {
        case 0: voxels = .uint8(positive.map(UInt8.init))
        case 1: voxels = .int8(values.map(Int8.init))
        case 2: voxels = .int16(values.map(Int16.init))
        case 3: voxels = .uint16(positive.map(UInt16.init))
        case 4: voxels = .int32(values.map(Int32.init))
        case 5: voxels = .uint32(positive.map(UInt32.init))
        case 6: voxels = .int64(values.map(Int64.init))
        case 7: voxels = .uint64(positive.map(UInt64.init))
        // Floats: value 5 stands for NaN, -3 for 2.5 (not a label).
        case 8: voxels = .float32(values.map { $0 == 5 ? .nan : ($0 == -3 ? 2.5 : Float($0)) })
        default: voxels = .float64(values.map { $0 == 5 ? .nan : ($0 == -3 ? 2.5 : Double($0)) })
        }
        for scaling in [nil, LinearScaling(slope: 2, intercept: 1), LinearScaling(slope: 0.5, intercept: 0)] {
            let image = LabelImage(path: "t.nii", format: .nifti1, geometry: g, geometrySource: .sform, voxels: voxels, scaling: scaling)
            // The reference: every voxel through the scaling, counted one by one.
            var expected: [Int: Int] = [:]
            var nonFinite = 0, fractional = 0
            for v in image.scaledValues() {
                if !v.isFinite { nonFinite += 1 } else if v != v.rounded() { fractional += 1 } else { expected[Int(v), default: 0] += 1 }
            }
            if nonFinite > 0 {
                #expect(throws: ImageIOError(path: "t.nii", problem: .nonFiniteVoxels(count: nonFinite))) { try image.labelCounts() }
            } else if fractional > 0 {
                #expect(throws: ImageIOError(path: "t.nii", problem: .notALabelMap(nonIntegerVoxels: fractional))) { try image.labelCounts() }
            } else {
                #expect(try image.labelCounts() == expected, "kind \(kind), scaling \(String(describing: scaling))")
            }
        }
    }

    /// croppedMasks (issue 20: no whole-grid mask for a CT-sized case) against the definition:
    /// each voxel's scaled value tested one by one on the whole grid, that mask's bounding box
    /// found by a plain loop, grown by the pad and clipped to the grid.
    @Test("cropped masks: the whole-grid mask's voxels on its box grown by the pad, clipped at the grid's border; the same errors",
          arguments: 0..<3)
    func croppedMasks(_ kind: Int) throws {
        let g = ImageGeometry(size: GridSize(37, 23, 11), spacing: SIMD3(0.7, 0.8, 2.5), origin: SIMD3(-10, 4, 30))
        var generator = SeededGenerator(seed: UInt64(200 + kind))
        // Label 1 fills a block touching the grid's low x face and its top slice; 2 a small block
        // inside it; 3 scattered voxels; 7 one voxel in a corner; 4 nowhere. Rows of zeros and
        // runs of every length, as label maps have.
        var values = [Int](repeating: 0, count: g.size.count)
        for k in 3..<11 { for j in 2..<15 { for i in 0..<20 { values[g.size.linearIndex(i, j, k)] = 1 } } }
        for k in 5..<7 { for j in 6..<9 { for i in 8..<12 { values[g.size.linearIndex(i, j, k)] = 2 } } }
        for _ in 0..<30 { values[Int.random(in: 0..<values.count, using: &generator)] = 3 }
        values[g.size.linearIndex(36, 22, 0)] = 7
        let voxels: VoxelArray
        let scaling: LinearScaling?
        switch kind {
        case 0: (voxels, scaling) = (.uint8(values.map(UInt8.init)), nil)
        case 1: (voxels, scaling) = (.int16(values.map(Int16.init)), nil)
        default: (voxels, scaling) = (.uint8(values.map { UInt8($0 * 2) }), LinearScaling(slope: 0.5, intercept: 0))
        }
        let image = LabelImage(path: "t.nii", format: .nifti1, geometry: g, geometrySource: .sform, voxels: voxels, scaling: scaling)
        let requests: [LabelImage.CropRequest] = [
            .init(labels: [2], padVoxels: 3), .init(labels: [1, 2], padVoxels: 10), .init(labels: [3], padVoxels: 0),
            .init(labels: [7], padVoxels: 2), .init(labels: [4], padVoxels: 1), .init(labels: [4, 2], padVoxels: 0),
        ]
        let made = image.croppedMasks(requests)
        for (request, result) in zip(requests, made) {
            let inside = values.map { request.labels.contains($0) }
            guard inside.contains(true) else {
                #expect(throws: ImageIOError(path: "t.nii", problem: .labelAbsent(label: 4, present: [0, 1, 2, 3, 7]))) { try result.get() }
                continue
            }
            var lower = SIMD3(Int.max, Int.max, Int.max), upper = SIMD3(Int.min, Int.min, Int.min)
            for k in 0..<g.size.z { for j in 0..<g.size.y { for i in 0..<g.size.x where inside[g.size.linearIndex(i, j, k)] {
                lower = pointwiseMin(lower, SIMD3(i, j, k))
                upper = pointwiseMax(upper, SIMD3(i, j, k) &+ 1)
            } } }
            let pad = SIMD3(repeating: request.padVoxels)
            lower = pointwiseMax(lower &- pad, .zero)
            upper = pointwiseMin(upper &+ pad, SIMD3(g.size.x, g.size.y, g.size.z))
            let mask = try result.get()
            #expect(mask.size == GridSize(upper.x - lower.x, upper.y - lower.y, upper.z - lower.z), "\(request.labels)")
            var expected: [Bool] = []
            for k in lower.z..<upper.z { for j in lower.y..<upper.y { for i in lower.x..<upper.x {
                expected.append(inside[g.size.linearIndex(i, j, k)])
            } } }
            #expect(mask.voxels == expected, "\(request.labels)")
            // Every voxel keeps its world position (1e-9 mm: one rounding of the grid's affine).
            let first = g.world(atIndex: SIMD3(Double(lower.x), Double(lower.y), Double(lower.z)))
            #expect(length(mask.geometry.world(atIndex: .zero) - first) < 1e-9)
            #expect(mask.geometry.indexToWorld.linear == g.indexToWorld.linear)
        }
    }
}
