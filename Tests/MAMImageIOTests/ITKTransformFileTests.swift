import Foundation
import MAMCore
import MAMImageIO
import MAMPhantoms
import MAMTestSupport
import Testing

@Suite("ITK transform files")
struct ITKTransformFileTests {
    static let preToPost = Affine3D(linear: Matrix3.rotation(axis: SIMD3(1, -2, 0.5), degrees: 13),
                                    translation: SIMD3(18.5, -22.25, 9))

    @Test("write then read gives the same transform")
    func roundTrip() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try ITKTransformFile.write(preToPost: Self.preToPost, to: folder.file("t.tfm"))
        let read = try ITKTransformFile.read(folder.file("t.tfm"))
        // %.17g keeps every bit of a double.
        #expect(read.linear.maxAbsDifference(to: Self.preToPost.linear) < 1e-12)
        #expect(length(read.translation - Self.preToPost.translation) < 1e-9)
        #expect(throws: ITKTransformFile.FormatError.self) {
            try Data("not a transform".utf8).write(to: URL(fileURLWithPath: folder.file("bad.tfm")))
            return try ITKTransformFile.read(folder.file("bad.tfm"))
        }
    }

    @Test("SimpleITK's resampler, given our .tfm, puts the pre tumour where our transform does (0.1 mm)")
    func simpleITKResampling() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let centre = SIMD3(4.3, -2.1, 6.7)
        // A 10 mm ball on a 1 mm pre grid, and a rotated 0.8 mm post grid around its image.
        let pre = ImageGeometry(size: GridSize(40, 40, 40), spacing: SIMD3(1, 1, 1), origin: centre - 19.5)
        let mapped = Self.preToPost.apply(centre)
        let direction = Matrix3.rotation(axis: SIMD3(0, 1, 1), degrees: 20)
        let spacing = SIMD3(0.8, 0.8, 0.8)
        let linear = Matrix3(columns: direction[0] * spacing.x, direction[1] * spacing.y, direction[2] * spacing.z)
        let post = ImageGeometry(size: GridSize(50, 50, 50),
                                 indexToWorld: Affine3D(linear: linear, translation: mapped - linear * SIMD3(24.5, 24.5, 24.5)))
        try NIfTIWriter.write(Phantom.labelMap(geometry: pre, shapes: [(1, .sphere(center: centre, radius: 10))]), to: folder.file("pre.nii.gz"))
        try NIfTIWriter.write(Volume<UInt8>(geometry: post, repeating: 0), to: folder.file("post.nii.gz"))
        try ITKTransformFile.write(preToPost: Self.preToPost, to: folder.file("pre-to-post.tfm"))
        let output = try ReferenceTools.run("sitk_resample.py", [folder.file("pre.nii.gz"), folder.file("post.nii.gz"), folder.file("pre-to-post.tfm")])
        let json = try JSONSerialization.jsonObject(with: output) as! [String: Any]
        let c = json["centroidRAS"] as! [Double]
        let resampledCentre = SIMD3(c[0], c[1], c[2])
        // The voxelised ball's own centroid is within ~0.05 mm of its centre on a 1 mm grid.
        #expect(length(resampledCentre - mapped) < 0.1, "SimpleITK \(resampledCentre) vs ours \(mapped)")
    }
}
