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
}
