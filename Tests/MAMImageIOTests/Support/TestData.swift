import Foundation
import MAMCore
import MAMTestSupport

/// Byte offsets of NIfTI-1 header fields (nifti1.h).
enum NIfTI1Field {
    static let dim = 40  // int16[8]
    static let datatype = 70  // int16
    static let bitpix = 72  // int16
    static let pixdim = 76  // float32[8]
    static let voxOffset = 108  // float32
    static let sclSlope = 112  // float32
    static let sclInter = 116  // float32
    static let qformCode = 252  // int16
    static let sformCode = 254  // int16
    static let quaternB = 256  // float32 x 6: b, c, d, qoffset x, y, z
    static let srowX = 280  // float32[4]; srow_y at 296, srow_z at 312
    static let headerSize = 348
}

/// An uncompressed NIfTI-1 file's bytes, for making broken variants.
struct NIfTIBytes {
    var bytes: [UInt8]

    init(path: String) throws { bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path))) }

    mutating func setInt16(_ offset: Int, _ value: Int16) {
        let v = UInt16(bitPattern: value)
        bytes[offset] = UInt8(v & 0xFF)
        bytes[offset + 1] = UInt8(v >> 8)
    }

    mutating func setFloat32(_ offset: Int, _ value: Float) {
        let v = value.bitPattern
        for i in 0..<4 { bytes[offset + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }

    func write(to path: String) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }
}
