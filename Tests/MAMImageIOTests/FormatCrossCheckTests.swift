import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

/// NRRD, Slicer segmentations and MetaImage written by independent tools (pynrrd, SimpleITK,
/// slicerio; Tests/Tools/formats_write.py) and read here: the same world geometry as the
/// reference reader and the same voxels.
@Suite("NRRD and MetaImage agree with pynrrd, SimpleITK and slicerio")
struct FormatCrossCheckTests {
    struct Entry: Decodable {
        struct Segment: Decodable { let name: String; let labelValue: Int }
        let path: String
        let writer: String
        let corners: [[Double]]
        let values: String
        let segments: [Segment]?
    }

    @Test("RAS-, LPS- and obliquely-oriented anisotropic grids; raw, gzip, ascii and zlib; attached and detached; both byte orders; layered segments")
    func crossCheck() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let entries = try JSONDecoder().decode([Entry].self, from: ReferenceTools.run("formats_write.py", [folder.path]))
        // 24 pynrrd files, 15 SimpleITK files, 2 Slicer segmentations (one and two layers).
        #expect(entries.count == 41)
        var formats: Set<ImageFormat> = []
        for entry in entries {
            let image = try ImageReaders.read(entry.path)
            formats.insert(image.format)
            let size = image.geometry.size
            var corners: [SIMD3<Double>] = []
            for k in [0, size.z - 1] {
                for j in [0, size.y - 1] {
                    for i in [0, size.x - 1] { corners.append(image.geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))) }
                }
            }
            // Corners within 1e-3 mm (the bound; the files hold the geometry to ~1e-15).
            for (mine, theirs) in zip(corners, entry.corners) {
                let d = mine - SIMD3(theirs[0], theirs[1], theirs[2])
                #expect((d * d).sum().squareRoot() < 1e-3, "\(entry.path): corner \(mine) vs \(theirs)")
            }
            // Voxels exactly.
            #expect(image.scaledValues() == (try ReferenceTools.loadFloat64(entry.values)), "\(entry.path): voxels differ")
            if let segments = entry.segments {
                #expect(image.segments.map(\.name) == segments.map(\.name))
                #expect(image.segments.map(\.labelValue) == segments.map(\.labelValue))
            }
        }
        #expect(formats == [.nrrd, .metaImage])
    }
}
