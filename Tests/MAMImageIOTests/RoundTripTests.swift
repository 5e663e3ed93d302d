import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

@Suite("NIfTI write then read")
struct RoundTripTests {
    static let cases: [(NIfTIDatatype, String)] = NIfTIDatatype.allCases.flatMap { [($0, ".nii"), ($0, ".nii.gz")] }

    @Test("identical voxels and geometry for every datatype, rotated and oblique", arguments: cases)
    func roundTrip(datatype: NIfTIDatatype, suffix: String) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for (index, geometry) in [TestVolumes.rotatedGeometry, TestVolumes.obliqueGeometry].enumerated() {
            let voxels = TestVolumes.randomVoxels(datatype, count: geometry.size.count, seed: UInt64(datatype.rawValue + index))
            let path = folder.file("\(datatype)-\(index)\(suffix)")
            try NIfTIWriter.write(voxels, geometry: geometry, to: path)
            let image = try NIfTIReader().read(path)
            #expect(image.voxels == voxels)
            #expect(image.datatype == datatype)
            #expect(image.scaling == nil)
            // The geometries are float32-representable, so the float32 srow holds them exactly.
            #expect(image.geometry == geometry)
            #expect(image.geometrySource == .sform)
            #expect(image.format == .nifti1)
        }
    }

    @Test("scaling survives the round trip")
    func scaling() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let path = folder.file("scaled.nii.gz")
        let scaling = LinearScaling(slope: 0.5, intercept: -3)
        try NIfTIWriter.write(.int16([0, 1, 2, 3, -4, 5]), geometry: ImageGeometry(size: GridSize(3, 2, 1), spacing: SIMD3(1, 1, 1)),
                              scaling: scaling, to: path)
        let image = try NIfTIReader().read(path)
        #expect(image.scaling == scaling)
        // 0.5 and -3 are exact in binary floating point, so the scaled values are exact.
        #expect(image.scaledValues() == [-3, -2.5, -2, -1.5, -5, -0.5])
    }

    @Test("an arbitrary double-precision affine comes back within float32 precision")
    func float32Precision() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let geometry = ImageGeometry(
            size: GridSize(40, 30, 20), spacing: SIMD3(0.703125, 0.703125, 1.25), origin: SIMD3(-180.123456789, 12.3456789, 1000.987654321),
            direction: Matrix3.rotation(axis: SIMD3(-2, 1, 5), degrees: 17.3))
        let path = folder.file("precise.nii")
        try NIfTIWriter.write(Mask(geometry: geometry, repeating: true), to: path)
        let read = try NIfTIReader().read(path).geometry
        // NIfTI-1 stores srow as float32: relative error 2^-24 of coordinates up to ~1100 mm
        // is at most 7e-5 mm.
        for (a, b) in zip(geometry.cornerPoints, read.cornerPoints) {
            #expect(length(a - b) < 1e-4)
        }
    }

    @Test("a dimension above 32767 is written as NIfTI-2")
    func nifti2() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let geometry = ImageGeometry(size: GridSize(40_000, 1, 1), spacing: SIMD3(0.5, 1, 1), origin: SIMD3(1, 2, 3))
        let voxels = TestVolumes.randomVoxels(.uint8, count: geometry.size.count, seed: 3)
        let path = folder.file("long.nii.gz")
        try NIfTIWriter.write(voxels, geometry: geometry, to: path)
        let image = try NIfTIReader().read(path)
        #expect(image.format == .nifti2)
        #expect(image.voxels == voxels)
        #expect(image.geometry == geometry)
    }

    @Test("nibabel reads our files with the same affine (sform and qform) and values")
    func nibabelReadsOurFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        var written: [String: LabelImage] = [:]
        for (index, geometry) in [TestVolumes.rotatedGeometry, TestVolumes.obliqueGeometry].enumerated() {
            for datatype in NIfTIDatatype.allCases {
                let path = folder.file("\(datatype)-\(index).nii.gz")
                try NIfTIWriter.write(TestVolumes.randomVoxels(datatype, count: geometry.size.count, seed: 11), geometry: geometry, to: path)
                written[path] = try NIfTIReader().read(path)
            }
        }
        let entries = try ReferenceTools.nibabel("describe", written.keys.sorted(), in: folder)
        #expect(entries.count == written.count)
        for entry in entries {
            let image = try #require(written[entry.path])
            try #require(entry.status == "volume", "\(entry.path): \(entry.reason ?? "")")
            #expect(entry.sform_code == 1 && entry.qform_code == 1)
            // sform: the same float32 numbers read by both, so equal to double rounding.
            let sform = try #require(Affine3D(matrix4x4: entry.affine!))
            #expect(sform.linear.maxAbsDifference(to: image.geometry.indexToWorld.linear) < 1e-12)
            #expect(length(sform.translation - image.geometry.origin) < 1e-12)
            // qform: a float32 quaternion for the same rotation; within 1e-3 mm at every corner.
            let qform = try #require(Affine3D(matrix4x4: entry.qform!))
            for corner in image.geometry.cornerPoints {
                let index = image.geometry.index(atWorld: corner)
                #expect(length(qform.apply(index) - corner) < 1e-3)
            }
            #expect(try entry.loadValues() == image.scaledValues())
        }
    }

    @Test("masks, label maps and float maps keep their values")
    func convenienceWriters() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let geometry = TestVolumes.obliqueGeometry
        let labels = TestVolumes.labelMap(geometry)
        try NIfTIWriter.write(labels, to: folder.file("labels.nii.gz"))
        let read = try NIfTIReader().read(folder.file("labels.nii.gz"))
        #expect(read.voxels == .uint8(labels.voxels))

        let mask = try read.mask(label: 2)
        #expect(mask.voxels == labels.voxels.map { $0 == 2 })
        try NIfTIWriter.write(mask, to: folder.file("mask.nii"))
        #expect(try NIfTIReader().read(folder.file("mask.nii")).mask(label: 1).voxels == mask.voxels)

        let map = Volume<Float>(geometry: geometry, voxels: (0..<geometry.size.count).map { Float($0) * -0.25 })
        try NIfTIWriter.write(map, to: folder.file("map.nii.gz"))
        #expect(try NIfTIReader().read(folder.file("map.nii.gz")).voxels == .float32(map.voxels))
    }

    @Test("a failed write leaves nothing behind and no partial file")
    func atomicWrite() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let missingFolder = folder.file("no-such-folder/out.nii.gz")
        #expect(throws: ImageIOError.self) {
            try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.rotatedGeometry), to: missingFolder)
        }
        try NIfTIWriter.write(TestVolumes.labelMap(TestVolumes.rotatedGeometry), to: folder.file("ok.nii.gz"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["ok.nii.gz"])
    }
}
