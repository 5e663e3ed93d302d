import Foundation
internal import _CDeflate
internal import _CNIfTI

/// A file read as a byte stream: gzip-compressed (one gzip member, inflated with zlib) or plain.
///
/// Stricter than zlib's gz* layer, which accepts a stream cut inside its 8-byte trailer, bytes
/// after the trailer and further members: here a gzip file must hold exactly one complete
/// member whose CRC-32 and length match, and nothing after it. Every failure is an
/// `ImageIOError` naming the file.
final class GzipFile {
    let path: String
    /// True when the file starts with the gzip magic bytes.
    let isCompressed: Bool
    private let file: UnsafeMutablePointer<FILE>
    private let stream: UnsafeMutablePointer<z_stream>
    /// Compressed bytes read from the file; zlib's next_in points into it across calls.
    private let input: UnsafeMutablePointer<UInt8>
    private var streamEnded = false

    private static let chunk = 1 << 17

    init(path: String) throws(ImageIOError) {
        guard let file = fopen(path, "rb") else {
            throw ImageIOError(path: path, problem: .unreadable(reason: "cannot open"))
        }
        self.file = file
        self.path = path
        input = .allocate(capacity: Self.chunk)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let first = fread(input, 1, 2, file)
        isCompressed = first == 2 && input[0] == 0x1f && input[1] == 0x8b
        if isCompressed {
            // 15 window bits + 16: a gzip wrapper only (no zlib or raw deflate).
            let status = inflateInit2_(stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
            guard status == Z_OK else {
                fclose(file)
                stream.deallocate()
                input.deallocate()
                throw ImageIOError(path: path, problem: .unreadable(reason: "zlib could not start (\(status))"))
            }
            stream.pointee.next_in = input
            stream.pointee.avail_in = UInt32(first)
        } else {
            rewind(file)
        }
    }

    deinit {
        if isCompressed { inflateEnd(stream) }
        stream.deallocate()
        input.deallocate()
        fclose(file)
    }

    /// Reads until `buffer` is full or the data end; returns the byte count read.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ImageIOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        guard isCompressed else {
            let got = fread(buffer.baseAddress!, 1, buffer.count, file)
            if got < buffer.count, ferror(file) != 0 { throw readError() }
            return got
        }
        var done = 0
        while done < buffer.count, !streamEnded {
            if stream.pointee.avail_in == 0 {
                let got = fread(input, 1, Self.chunk, file)
                if got == 0 {
                    if ferror(file) != 0 { throw readError() }
                    throw corrupt("the file ends inside the compressed stream")
                }
                stream.pointee.next_in = input
                stream.pointee.avail_in = UInt32(got)
            }
            let want = UInt32(min(buffer.count - done, 1 << 30))
            stream.pointee.next_out = (buffer.baseAddress! + done).assumingMemoryBound(to: UInt8.self)
            stream.pointee.avail_out = want
            let status = inflate(stream, Z_NO_FLUSH)
            done += Int(want - stream.pointee.avail_out)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                streamEnded = true
                try checkNothingFollows()
            default:
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                throw corrupt(message)
            }
        }
        return done
    }

    /// Skips `count` bytes forward.
    func skip(_ count: Int) throws(ImageIOError) {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { scratch.deallocate() }
        var left = count
        while left > 0 {
            let got = try read(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<min(left, scratch.count)]))
            if got == 0 { break }
            left -= got
        }
    }

    /// Checks that nothing follows what was read: no byte of data left, and for a gzip file a
    /// complete stream (its CRC-32 and length checked by zlib) with no bytes after it.
    func verifyToEnd() throws(ImageIOError) {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 1)
        defer { scratch.deallocate() }
        var extra = 0
        while true {
            let got = try read(into: scratch)
            if got == 0 { break }
            extra += got
        }
        if extra > 0 {
            throw ImageIOError(path: path, problem: .invalidHeader(
                reason: "the file holds \(extra) bytes after the voxel data the header describes"))
        }
    }

    /// After a gzip stream's end: the rest of the file must be empty (a second member or any
    /// trailing bytes mean the file is not what a NIfTI writer produced).
    private func checkNothingFollows() throws(ImageIOError) {
        var trailing = Int(stream.pointee.avail_in)
        var scratch = [UInt8](repeating: 0, count: 1 << 12)
        while true {
            let got = scratch.withUnsafeMutableBytes { fread($0.baseAddress!, 1, $0.count, file) }
            if got == 0 { break }
            trailing += got
        }
        if ferror(file) != 0 { throw readError() }
        if trailing > 0 {
            throw corrupt("\(trailing) bytes follow the end of the gzip stream")
        }
    }

    private func corrupt(_ reason: String) -> ImageIOError {
        ImageIOError(path: path, problem: .corruptCompression(reason: reason))
    }

    private func readError() -> ImageIOError {
        ImageIOError(path: path, problem: .unreadable(reason: String(cString: strerror(errno))))
    }

    /// Inflates the whole content of the gzip file at `path` at once (libdeflate) into `output`,
    /// whose size is what the checked header says the file holds (header, extensions and
    /// voxels). False unless the file is one complete member whose CRC-32 and length check,
    /// holding exactly that many bytes, with nothing after it: the streaming reader then reads
    /// it again and says what is wrong (libdeflate reports a cut stream as corrupt or too long,
    /// without the detail).
    static func inflateWhole(path: String, into output: UnsafeMutableRawBufferPointer) -> Bool {
        guard let compressed = try? Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped),
              let decompressor = libdeflate_alloc_decompressor() else { return false }
        defer { libdeflate_free_decompressor(decompressor) }
        var consumed = 0, produced = 0
        let result = compressed.withUnsafeBytes { input in
            libdeflate_gzip_decompress_ex(decompressor, input.baseAddress, input.count, output.baseAddress, output.count,
                                          &consumed, &produced)
        }
        return result == LIBDEFLATE_SUCCESS && consumed == compressed.count && produced == output.count
    }
}
