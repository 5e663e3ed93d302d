internal import _CNIfTI

/// A file read through zlib: gzip-compressed or plain (zlib reads plain files as they are).
/// Every zlib error becomes an `ImageIOError` naming the file.
final class GzipFile {
    private let handle: gzFile
    let path: String

    init(path: String) throws(ImageIOError) {
        guard let handle = gzopen(path, "rb") else {
            throw ImageIOError(path: path, problem: .unreadable(reason: "cannot open"))
        }
        self.handle = handle
        self.path = path
        gzbuffer(handle, 1 << 17)
    }

    deinit { gzclose(handle) }

    /// True when the content is gzip-compressed (valid after the first read).
    var isCompressed: Bool { gzdirect(handle) == 0 }

    /// Reads until `buffer` is full or the stream ends; returns the byte count read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageIOError) -> Int {
        var done = 0
        while done < buffer.count {
            let chunk = UInt32(min(buffer.count - done, 1 << 30))
            let got = gzread(handle, buffer.baseAddress! + done, chunk)
            if got < 0 { throw compressionError() }
            if got == 0 { break }
            done += Int(got)
        }
        if done < buffer.count, let error = pendingError() { throw error }
        return done
    }

    /// Skips `count` bytes forward (decompressing them for a gzip file).
    func skip(_ count: Int) throws(ImageIOError) {
        guard count > 0 else { return }
        let position = gzseek(handle, count, SEEK_SET)
        if position < 0 { throw compressionError() }
    }

    /// Reads whatever follows to the end of the file, so that zlib checks the gzip trailer
    /// (CRC-32 and length); throws if the stream is corrupt or ends early.
    func verifyToEnd() throws(ImageIOError) {
        var scratch = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = scratch.withUnsafeMutableBytes { gzread(handle, $0.baseAddress!, UInt32($0.count)) }
            if got < 0 { throw compressionError() }
            if got == 0 { break }
        }
        if let error = pendingError() { throw error }
    }

    private func pendingError() -> ImageIOError? {
        var code: Int32 = 0
        let message = gzerror(handle, &code)
        guard code != Z_OK else { return nil }
        return compressionError(code: code, message: message.map { String(cString: $0) })
    }

    private func compressionError() -> ImageIOError {
        var code: Int32 = 0
        let message = gzerror(handle, &code)
        return compressionError(code: code, message: message.map { String(cString: $0) })
    }

    private func compressionError(code: Int32, message: String?) -> ImageIOError {
        if code == Z_ERRNO {
            return ImageIOError(path: path, problem: .unreadable(reason: "read error"))
        }
        var reason = message ?? "zlib error \(code)"
        if code == Z_BUF_ERROR { reason = "the file ends inside the compressed stream" }
        return ImageIOError(path: path, problem: .corruptCompression(reason: reason))
    }
}

/// The first bytes of a file, enough to tell a NIfTI-1 or NIfTI-2 header from anything else
/// and a corrupt gzip stream from a wrong format, before libnifti sees the file.
struct HeaderSniff {
    let isGzip: Bool
    /// From sizeof_hdr (libnifti reports NIfTI-2 files as nifti_type 1 in some versions).
    let format: ImageFormat
    /// Why the dimensions in the header cannot be right, when they cannot.
    let dimensionProblem: String?
    /// pixdim[0...7] as stored (libnifti replaces zero or non-finite spacings by 1, which would
    /// hide a corrupt header).
    let pixdim: [Double]

    init(path: String) throws(ImageIOError) {
        let file = try GzipFile(path: path)
        var bytes = [UInt8](repeating: 0, count: 540)
        let got = try narrowingErrors { try bytes.withUnsafeMutableBytes { try file.read(into: $0) } }
        isGzip = file.isCompressed
        let header = Array(bytes[0..<got])

        func int32(_ offset: Int, swapped: Bool) -> Int32 {
            let v = header[offset..<offset + 4].enumerated().reduce(UInt32(0)) {
                $0 | UInt32($1.element) << (8 * UInt32($1.offset))
            }
            return Int32(bitPattern: swapped ? v.byteSwapped : v)
        }
        func magic(_ offset: Int, _ text: [UInt8]) -> Bool {
            header.count >= offset + text.count && Array(header[offset..<offset + text.count]) == text
        }
        guard header.count >= 4 else { throw ImageIOError(path: path, problem: .notNIfTI) }
        let swapped: Bool
        let version: Int
        if int32(0, swapped: false) == 348 || int32(0, swapped: true) == 348 {
            swapped = int32(0, swapped: false) != 348
            version = 1
            guard magic(344, Array("n+1\0".utf8)) else { throw ImageIOError(path: path, problem: .notNIfTI) }
        } else if int32(0, swapped: false) == 540 || int32(0, swapped: true) == 540 {
            swapped = int32(0, swapped: false) != 540
            version = 2
            guard magic(4, Array("n+2\0".utf8)) else { throw ImageIOError(path: path, problem: .notNIfTI) }
        } else {
            throw ImageIOError(path: path, problem: .notNIfTI)
        }
        format = version == 1 ? .nifti1 : .nifti2
        guard header.count >= (version == 1 ? 348 : 540) else {
            throw ImageIOError(path: path, problem: .invalidHeader(reason: "the file ends inside the header"))
        }
        func uint64(_ offset: Int) -> UInt64 {
            let lo = UInt64(UInt32(bitPattern: int32(offset, swapped: false)))
            let hi = UInt64(UInt32(bitPattern: int32(offset + 4, swapped: false)))
            let v = lo | hi << 32
            return swapped ? v.byteSwapped : v
        }
        // pixdim[0...7]: float32 at byte 76 (NIfTI-1) or float64 at byte 104 (NIfTI-2).
        pixdim = (0..<8).map { i in
            version == 1
                ? Double(Float(bitPattern: UInt32(bitPattern: int32(76 + 4 * i, swapped: swapped))))
                : Double(bitPattern: uint64(104 + 8 * i))
        }
        // dim[0...7]: int16 at byte 40 (NIfTI-1) or int64 at byte 16 (NIfTI-2).
        let dims: [Int] = (0..<8).map { i in
            if version == 1 {
                let v = UInt16(header[40 + 2 * i]) | UInt16(header[41 + 2 * i]) << 8
                return Int(Int16(bitPattern: swapped ? v.byteSwapped : v))
            }
            return Int(Int64(bitPattern: uint64(16 + 8 * i)))
        }
        if !(1...7).contains(dims[0]) || dims[1...max(1, min(7, dims[0]))].contains(where: { $0 < 1 }) {
            dimensionProblem = "dimensions \(dims) are not valid"
        } else {
            dimensionProblem = nil
        }
    }
}
