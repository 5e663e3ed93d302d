public import Foundation
internal import _CPNG

/// An 8-bit colour.
public struct RGB: Sendable, Hashable {
    public var r: UInt8, g: UInt8, b: UInt8

    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        (self.r, self.g, self.b) = (r, g, b)
    }

    /// `#rrggbb`, for pages and plots that show the same colour.
    public var hex: String { "#" + [r, g, b].map { String(format: "%02x", $0) }.joined() }
}

/// An 8-bit RGB raster, rows top to bottom, pixels left to right.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `3 * width * height` bytes: r, g, b of each pixel in turn.
    public private(set) var bytes: [UInt8]

    public init(width: Int, height: Int, fill: RGB) {
        precondition(width > 0 && height > 0, "RGBImage: \(width) x \(height)")
        self.width = width
        self.height = height
        bytes = [UInt8](repeating: 0, count: 3 * width * height)
        for n in 0..<(width * height) {
            (bytes[3 * n], bytes[3 * n + 1], bytes[3 * n + 2]) = (fill.r, fill.g, fill.b)
        }
    }

    public func contains(_ x: Int, _ y: Int) -> Bool { x >= 0 && y >= 0 && x < width && y < height }

    /// The pixel at column `x`, row `y`; writes outside the image are ignored.
    public subscript(x: Int, y: Int) -> RGB {
        get {
            let n = 3 * (x + width * y)
            return RGB(bytes[n], bytes[n + 1], bytes[n + 2])
        }
        set {
            guard contains(x, y) else { return }
            let n = 3 * (x + width * y)
            (bytes[n], bytes[n + 1], bytes[n + 2]) = (newValue.r, newValue.g, newValue.b)
        }
    }

    /// The image as a PNG file's bytes (libpng, default compression): a palette image when it
    /// has at most 256 colours (the pictures have a handful), else 8-bit RGB.
    public func pngData() throws(QCError) -> Data {
        var message = [CChar](repeating: 0, count: 64)
        let (w, h) = (UInt32(width), UInt32(height))
        let write: (UnsafeMutableRawPointer?, inout Int) -> Int32
        if let (indices, colormap) = palette() {
            write = { out, size in
                indices.withUnsafeBytes { i in
                    colormap.withUnsafeBytes { c in
                        mamq_png_write(w, h, i.baseAddress, c.baseAddress, UInt32(colormap.count / 3), out, &size, &message)
                    }
                }
            }
        } else {
            write = { out, size in bytes.withUnsafeBytes { rgb in mamq_png_write(w, h, rgb.baseAddress, nil, 0, out, &size, &message) } }
        }
        // Once for the size, once to write.
        var size = 0
        guard write(nil, &size) == 1 else { throw failure(message) }
        var data = Data(count: size)
        let written = data.withUnsafeMutableBytes { out in write(out.baseAddress, &size) }
        guard written == 1 else { throw failure(message) }
        return data.prefix(size)
    }

    private func failure(_ message: [CChar]) -> QCError {
        .png(String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// One index per pixel and the colours (r, g, b each), in order of first appearance; nil
    /// beyond 256 colours.
    func palette() -> (indices: [UInt8], colormap: [UInt8])? {
        var index: [RGB: UInt8] = [:]
        var colormap: [UInt8] = []
        var indices = [UInt8](repeating: 0, count: width * height)
        var last: (RGB, UInt8)?
        for n in 0..<(width * height) {
            let c = RGB(bytes[3 * n], bytes[3 * n + 1], bytes[3 * n + 2])
            if let (colour, i) = last, colour == c {
                indices[n] = i
                continue
            }
            if let i = index[c] {
                indices[n] = i
                last = (c, i)
                continue
            }
            guard index.count < 256 else { return nil }
            let i = UInt8(index.count)
            index[c] = i
            colormap += [c.r, c.g, c.b]
            indices[n] = i
            last = (c, i)
        }
        return (indices, colormap)
    }
}

/// Why a picture or a page could not be made.
public enum QCError: Error, Equatable, CustomStringConvertible {
    case png(String)
    /// A scan to draw under the outlines cannot be used: one line naming the file.
    case scan(String)

    public var description: String {
        switch self {
        case .png(let message): "PNG encoding failed (libpng: \(message))"
        case .scan(let message): message
        }
    }
}
