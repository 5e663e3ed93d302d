import Foundation
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

/// Corrupted files never crash the reader: each is a typed error or a valid image.
@Suite("Fuzzing the NIfTI reader")
struct FuzzTests {
    /// How one valid file is corrupted.
    enum Mutation: CaseIterable {
        /// 1 to 8 random bytes of the header (and extension flag) replaced.
        case headerBytes
        /// One header field (dimension, datatype, pixdim, offset, scaling, codes, srow)
        /// set to an extreme value.
        case headerField
        /// 1 to 8 random bytes anywhere replaced.
        case anyBytes
        /// Cut at a random length.
        case truncation
    }

    static let iterationsPerBase = 750

    @Test("3,000 corrupted .nii and .nii.gz files: zero crashes, every one a typed error or a valid image")
    func corruptedFiles() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Four valid starting points: uint8 labels, scaled int16 and a float32 map, plain and gzip.
        let geometry = TestVolumes.obliqueGeometry
        let bases = [
            ("labels.nii", VoxelArray.uint8(TestVolumes.labelMap(geometry).voxels), nil as LinearScaling?),
            ("scaled.nii", TestVolumes.randomVoxels(.int16, count: geometry.size.count, seed: 5), LinearScaling(slope: 2, intercept: 1)),
            ("labels.nii.gz", VoxelArray.uint8(TestVolumes.labelMap(geometry).voxels), nil),
            ("map.nii.gz", TestVolumes.randomVoxels(.float32, count: geometry.size.count, seed: 6), nil),
        ]
        var generator = SeededGenerator(seed: 20_261_122)
        var outcomes: [String: Int] = [:]
        var total = 0
        for (name, voxels, scaling) in bases {
            let basePath = folder.file(name)
            try NIfTIWriter.write(voxels, geometry: geometry, scaling: scaling, to: basePath)
            let original = Array(try Data(contentsOf: URL(fileURLWithPath: basePath)))
            for iteration in 0..<Self.iterationsPerBase {
                let mutation = Mutation.allCases[iteration % Mutation.allCases.count]
                let bytes = Self.mutate(original, mutation, using: &generator)
                let path = folder.file("fuzz-\(total)-\(name)")
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                total += 1
                do {
                    let image = try NIfTIReader().read(path)
                    #expect(image.voxels.count == image.geometry.size.count)
                    #expect(ImageGeometry.isUsable(image.geometry.indexToWorld))
                    outcomes["valid image", default: 0] += 1
                } catch {
                    #expect(error.description.hasPrefix(path + ": "))
                    #expect(!error.description.contains("\n"))
                    outcomes[Self.kind(error.problem), default: 0] += 1
                }
                try FileManager.default.removeItem(atPath: path)
            }
        }
        #expect(total == 3_000)
        // The corpus must exercise both outcomes and several distinct errors, or it tests little.
        #expect(outcomes["valid image", default: 0] > 50)
        #expect(outcomes.count >= 6, "outcomes: \(outcomes)")
        print("fuzz outcomes:", outcomes.sorted { $0.key < $1.key })
    }

    static func mutate(_ original: [UInt8], _ mutation: Mutation, using g: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        let isGzip = original.starts(with: [0x1F, 0x8B])
        switch mutation {
        case .headerBytes, .anyBytes:
            let limit = mutation == .headerBytes && !isGzip ? 352 : bytes.count
            for _ in 0..<Int.random(in: 1...8, using: &g) {
                bytes[Int.random(in: 0..<limit, using: &g)] = UInt8.random(in: 0...255, using: &g)
            }
        case .headerField:
            guard !isGzip else {
                // Compressed: corrupt one byte of the deflate stream near the start instead.
                bytes[Int.random(in: 10..<min(60, bytes.count), using: &g)] ^= UInt8.random(in: 1...255, using: &g)
                break
            }
            var file = NIfTIBytes(bytes: bytes)
            let int16Fields = [NIfTI1Field.dim, NIfTI1Field.dim + 2, NIfTI1Field.dim + 4, NIfTI1Field.dim + 6,
                               NIfTI1Field.dim + 8, NIfTI1Field.datatype, NIfTI1Field.bitpix,
                               NIfTI1Field.qformCode, NIfTI1Field.sformCode]
            let floatFields = [NIfTI1Field.pixdim, NIfTI1Field.pixdim + 4, NIfTI1Field.pixdim + 12,
                               NIfTI1Field.voxOffset, NIfTI1Field.sclSlope, NIfTI1Field.sclInter,
                               NIfTI1Field.quaternB, NIfTI1Field.quaternB + 8, NIfTI1Field.srowX,
                               NIfTI1Field.srowX + 20, NIfTI1Field.srowX + 44]
            if Bool.random(using: &g) {
                let values: [Int16] = [0, -1, 1, 2, 7, 8, 255, 256, 1024, 32767, -32768]
                file.setInt16(int16Fields.randomElement(using: &g)!, values.randomElement(using: &g)!)
            } else {
                let values: [Float] = [0, -1, 1e-30, 1e30, .nan, .infinity, -.infinity, 352, 351, 1e9]
                file.setFloat32(floatFields.randomElement(using: &g)!, values.randomElement(using: &g)!)
            }
            bytes = file.bytes
        case .truncation:
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &g)))
        }
        return bytes
    }

    static func kind(_ problem: ImageIOError.Problem) -> String {
        String(String(describing: problem).prefix { $0 != "(" })
    }
}

extension NIfTIBytes {
    init(bytes: [UInt8]) {
        self.bytes = bytes
    }
}
