import Foundation
internal import _CDeflate

/// Voxels stored as bytes after a text header (NRRD, MetaImage): byte order, decompression of
/// a whole data block, and numbers written as text.
enum RawVoxels {
    /// Reverses the bytes of each `width`-byte value in place (2, 4 or 8; 1 is a no-op).
    static func swapBytes(_ raw: UnsafeMutableRawBufferPointer, width: Int) {
        func swap<U: FixedWidthInteger>(_: U.Type) {
            for offset in stride(from: 0, to: raw.count, by: MemoryLayout<U>.stride) {
                raw.storeBytes(of: raw.load(fromByteOffset: offset, as: U.self).byteSwapped,
                               toByteOffset: offset, as: U.self)
            }
        }
        switch width {
        case 2: swap(UInt16.self)
        case 4: swap(UInt32.self)
        case 8: swap(UInt64.self)
        default: break
        }
    }

    /// `count` voxels of `datatype` from exactly `count * bytesPerVoxel` bytes, swapped when
    /// stored big-endian.
    static func decode(_ bytes: UnsafeRawBufferPointer, _ datatype: NIfTIDatatype, count: Int, bigEndian: Bool) -> VoxelArray {
        func values<T>(_: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes.prefix(count * MemoryLayout<T>.stride)))
                if bigEndian { swapBytes(raw, width: MemoryLayout<T>.stride) }
                initialized = count
            }
        }
        switch datatype {
        case .uint8: return .uint8(values(UInt8.self))
        case .int8: return .int8(values(Int8.self))
        case .int16: return .int16(values(Int16.self))
        case .uint16: return .uint16(values(UInt16.self))
        case .int32: return .int32(values(Int32.self))
        case .uint32: return .uint32(values(UInt32.self))
        case .int64: return .int64(values(Int64.self))
        case .uint64: return .uint64(values(UInt64.self))
        case .float32: return .float32(values(Float.self))
        case .float64: return .float64(values(Double.self))
        }
    }

    /// `count` numbers written as text, separated by white space (NRRD's ascii encoding); an
    /// integer type refuses a value it cannot hold.
    static func decodeText(_ text: Substring, _ datatype: NIfTIDatatype, count: Int, path: String) throws(ImageIOError) -> VoxelArray {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "," })
        guard words.count >= count else {
            throw ImageIOError(path: path, problem: .dataTruncated(expectedBytes: count, availableBytes: words.count))
        }
        guard words.count == count else {
            throw ImageIOError(path: path, problem: .badData(reason: "\(words.count - count) values follow the \(count) voxels"))
        }
        func values<T>(_ parse: (Substring) -> T?) throws(ImageIOError) -> [T] {
            var out: [T] = []
            out.reserveCapacity(count)
            for word in words {
                guard let v = parse(word) else {
                    throw ImageIOError(path: path, problem: .badData(reason: "'\(word.prefix(20))' is not a \(datatype) value"))
                }
                out.append(v)
            }
            return out
        }
        switch datatype {
        case .uint8: return .uint8(try values { UInt8($0) })
        case .int8: return .int8(try values { Int8($0) })
        case .int16: return .int16(try values { Int16($0) })
        case .uint16: return .uint16(try values { UInt16($0) })
        case .int32: return .int32(try values { Int32($0) })
        case .uint32: return .uint32(try values { UInt32($0) })
        case .int64: return .int64(try values { Int64($0) })
        case .uint64: return .uint64(try values { UInt64($0) })
        case .float32: return .float32(try values { Float($0) })
        case .float64: return .float64(try values { Double($0) })
        }
    }

    /// The path of a detached header's one data file (`name` relative to the header's folder, or
    /// absolute), which must be a readable regular file; several files (LIST, patterns) are
    /// refused.
    static func dataFile(_ name: String, header path: String, format: ImageFormat) throws(ImageIOError) -> String {
        guard !name.hasPrefix("LIST"), !name.contains("%"), !name.contains(" ") else {
            throw ImageIOError(path: path, problem: .badFormatHeader(format: format, reason: "data file '\(name)': data in several files are not supported"))
        }
        let dataPath = name.hasPrefix("/") ? name : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: dataPath) else {
            throw ImageIOError(path: path, problem: .missingDataFile(dataPath))
        }
        do {
            try ImageReaders.checkFile(dataPath)
        } catch {
            throw ImageIOError(path: path, problem: .unusableDataFile(dataPath, reason: error.problem.message))
        }
        return dataPath
    }

    /// The `expected` bytes of uncompressed voxels in `data` after skipping `skip` bytes (-1: the
    /// voxels end the data); fewer is truncation, more is an error too.
    static func rawBlock(_ data: UnsafeRawBufferPointer, skip: Int, expected: Int, path: String) throws(ImageIOError) -> UnsafeRawBufferPointer {
        let start = skip == -1 ? data.count - expected : skip
        guard start >= 0, data.count - start >= expected else {
            throw ImageIOError(path: path, problem: .dataTruncated(expectedBytes: expected, availableBytes: max(0, data.count - max(0, start))))
        }
        guard data.count - start == expected else {
            throw ImageIOError(path: path, problem: .badData(reason: "\(data.count - start - expected) bytes follow the voxel data"))
        }
        return UnsafeRawBufferPointer(rebasing: data[start...])
    }

    /// How a block of compressed voxels is wrapped: gzip (NRRD's gzip encoding) or zlib
    /// (MetaImage's CompressedData).
    enum Wrapper: String { case gzip, zlib }

    /// Inflates `compressed` whole (libdeflate, which checks the wrapper's checksum) into exactly
    /// `expectedBytes`; anything else (corrupt, fewer or more bytes, bytes after the stream) is
    /// one error naming `path`.
    static func inflate(_ compressed: UnsafeRawBufferPointer, _ wrapper: Wrapper, expectedBytes: Int,
                        path: String) throws(ImageIOError) -> [UInt8] {
        // Deflate cannot expand data by more than about 1032:1: a header promising more than
        // that is refused before allocating.
        guard expectedBytes <= compressed.count * 1032 else {
            throw ImageIOError(path: path, problem: .compressedDataTooShort(expectedBytes: expectedBytes, compressedBytes: compressed.count))
        }
        guard let decompressor = libdeflate_alloc_decompressor() else {
            throw ImageIOError(path: path, problem: .unreadable(reason: "libdeflate could not start"))
        }
        defer { libdeflate_free_decompressor(decompressor) }
        var consumed = 0, produced = 0
        var result = LIBDEFLATE_SUCCESS
        let output = [UInt8](unsafeUninitializedCapacity: max(1, expectedBytes)) { buffer, initialized in
            result = switch wrapper {
            case .gzip: libdeflate_gzip_decompress_ex(decompressor, compressed.baseAddress, compressed.count, buffer.baseAddress,
                                                      expectedBytes, &consumed, &produced)
            case .zlib: libdeflate_zlib_decompress_ex(decompressor, compressed.baseAddress, compressed.count, buffer.baseAddress,
                                                      expectedBytes, &consumed, &produced)
            }
            if result != LIBDEFLATE_SUCCESS { produced = 0 }
            (buffer.baseAddress! + produced).update(repeating: 0, count: max(1, expectedBytes) - produced)
            initialized = max(1, expectedBytes)
        }
        switch result {
        case LIBDEFLATE_SUCCESS:
            guard produced == expectedBytes else {
                throw ImageIOError(path: path, problem: .dataTruncated(expectedBytes: expectedBytes, availableBytes: produced))
            }
            guard consumed == compressed.count else {
                throw ImageIOError(path: path, problem: .corruptCompression(reason: "\(compressed.count - consumed) bytes follow the end of the \(wrapper.rawValue) stream"))
            }
            return expectedBytes == 0 ? [] : output
        case LIBDEFLATE_INSUFFICIENT_SPACE:
            throw ImageIOError(path: path, problem: .badData(reason: "the compressed data hold more than the \(expectedBytes) bytes the header promises"))
        default:
            throw ImageIOError(path: path, problem: .corruptCompression(reason: "the \(wrapper.rawValue) stream is corrupt or cut"))
        }
    }
}
