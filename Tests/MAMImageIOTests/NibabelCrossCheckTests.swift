import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

/// Our reader against nibabel, an independent implementation of the NIfTI standard.
@Suite("NIfTI reading agrees with nibabel")
struct NibabelCrossCheckTests {
    /// World positions agree to 1e-3 mm at the eight corner voxels; since both mappings are
    /// affine, that bounds the disagreement everywhere in the grid.
    static let cornerToleranceMM = 1e-3

    @Test("every .nii/.nii.gz in nibabel's own test data")
    func nibabelTestData() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let entries = try ReferenceTools.nibabel("testdata", in: folder)
        #expect(entries.count >= 8, "nibabel ships 8 such files in version 5.x")
        var volumes = 0
        for entry in entries {
            try check(entry)
            if entry.status == "volume" { volumes += 1 }
        }
        #expect(volumes >= 4)
    }

    @Test("files nibabel writes: every datatype, scaling, qform-only, pixdim-only, NIfTI-2, big-endian, 4-D")
    func nibabelWrittenFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let entries = try ReferenceTools.nibabel("make", in: folder)
        #expect(entries.count == 18)
        for entry in entries { try check(entry) }
        let sources = try Set(entries.map { try NIfTIReader().read($0.path).geometrySource })
        #expect(sources == [.sform, .qform, .pixdim])  // every NIfTI source (the others are NRRD's and MetaImage's)
    }

    func check(_ entry: ReferenceTools.NibabelEntry) throws {
        let name = URL(fileURLWithPath: entry.path).lastPathComponent
        guard entry.status == "volume" else {
            // nibabel refuses it or finds several volumes: we must give a typed, one-line error.
            let error = #expect(throws: ImageIOError.self, "\(name): \(entry.reason ?? "")") {
                try NIfTIReader().read(entry.path)
            }
            if let error {
                #expect(error.description.hasPrefix(entry.path))
                #expect(!error.description.contains("\n"))
            }
            return
        }
        let image = try NIfTIReader().read(entry.path)
        let size = image.geometry.size
        #expect([size.x, size.y, size.z] == entry.shape!, "\(name)")

        // Expected mapping: nibabel's affine, except when both codes are 0, where nibabel
        // centres the grid and flips x; there the NIfTI standard's method 1 applies.
        let expected: Affine3D
        if entry.sform_code! == 0 && entry.qform_code! == 0 {
            #expect(image.geometrySource == GeometrySource.pixdim)
            let p = entry.pixdim!
            expected = Affine3D(linear: .diagonal(SIMD3(p[0], p[1], p[2])), translation: .zero)
        } else {
            expected = Affine3D(matrix4x4: entry.affine!)!
        }
        for corner in corners(size) {
            let ours = image.geometry.world(atIndex: corner)
            let theirs = expected.apply(corner)
            #expect(MAMCore.length(ours - theirs) <= Self.cornerToleranceMM, "\(name) corner \(corner): \(ours) vs \(theirs)")
        }

        // Scaled values: exact, except where float32 arithmetic is involved on either side
        // (float32 data or scaling), where they agree within float32 rounding (2^-23 relative).
        let ours = image.scaledValues()
        let theirs = try entry.loadValues()
        try #require(ours.count == theirs.count)
        let exact = image.scaling == nil && !image.datatype.isFloatingPoint
        var worst = 0.0
        for (a, b) in zip(ours, theirs) {
            let error = Swift.abs(a - b)
            if exact {
                worst = max(worst, error)
            } else {
                worst = max(worst, error / max(abs(a), abs(b), Double(Float.leastNormalMagnitude)))
            }
        }
        #expect(worst <= (exact ? 0 : 1.2e-7), "\(name): worst \(exact ? "absolute" : "relative") difference \(worst)")
    }

    func corners(_ size: GridSize) -> [SIMD3<Double>] {
        var result: [SIMD3<Double>] = []
        for k in [0, size.z - 1] {
            for j in [0, size.y - 1] {
                for i in [0, size.x - 1] { result.append(SIMD3(Double(i), Double(j), Double(k))) }
            }
        }
        return result
    }
}
