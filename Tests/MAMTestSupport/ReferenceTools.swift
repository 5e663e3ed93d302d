public import Foundation

/// The project's root folder (this file is Tests/MAMTestSupport/ReferenceTools.swift).
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Independent readers used as references at test time: Python tools in the project's virtual
/// environment, which the README's test command (scripts/test) creates. A missing environment
/// fails the test that needs it, with the command that fixes it.
public enum ReferenceTools {
    public static var python: String? {
        if let fromEnvironment = ProcessInfo.processInfo.environment["MAMQ_PYTHON"] { return fromEnvironment }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `Tests/Tools/<script>` with the arguments and returns its standard output.
    public static func run(_ script: String, _ arguments: [String]) throws -> Data {
        guard let python else {
            throw Failure(description: "no Python environment for the cross-checks: run scripts/test "
                + "(or set MAMQ_PYTHON to a python with nibabel)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [packageRoot.appendingPathComponent("Tests/Tools/\(script)").path] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(script) \(arguments.joined(separator: " ")) failed: \(errorText)")
        }
        return data
    }

    /// nibabel's view of one file (see Tests/Tools/nibabel_view.py).
    public struct NibabelEntry: Decodable {
        public let path: String
        public let status: String
        public let reason: String?
        public let shape: [Int]?
        public let affine: [[Double]]?
        public let qform: [[Double]]?
        public let sform_code: Int?
        public let qform_code: Int?
        public let pixdim: [Double]?
        public let values: String?

        /// nibabel's scaled voxel values, x fastest.
        public func loadValues() throws -> [Double] { try ReferenceTools.loadFloat64(values!) }
    }

    /// A file of little-endian float64 values (what the Python helpers write).
    public static func loadFloat64(_ path: String) throws -> [Double] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return data.withUnsafeBytes { raw in
            (0..<data.count / 8).map {
                Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))
            }
        }
    }

    /// Runs nibabel_view.py in `mode`, its output (files and values) going into `folder`, which
    /// the caller removes when done with the entries.
    public static func nibabel(_ mode: String, _ arguments: [String] = [], in folder: TemporaryFolder) throws -> [NibabelEntry] {
        try JSONDecoder().decode([NibabelEntry].self, from: run("nibabel_view.py", [mode, folder.file("nibabel")] + arguments))
    }
}

/// A fresh temporary folder; the caller removes it with `remove()`.
public struct TemporaryFolder {
    public let path: String

    public init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mamq-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// A PNG's pixels as Pillow decodes them (Tests/Tools/png_pixels.py): an independent reader of
/// the pictures mam-quantify writes.
public struct DecodedPNG {
    public struct Plane: Decodable {
        public let firstPixelCentreMM: [Double]
        public let columnStepMM: [Double]
        public let rowStepMM: [Double]
    }

    public let width: Int
    public let height: Int
    /// Pillow's mode before conversion to RGB: "P" (palette) or "RGB" as mam-quantify writes them.
    public let mode: String
    /// The plane an embedded slice image shows (its data-plane attribute); nil for a file.
    public let plane: Plane?
    /// r, g, b per pixel, rows top to bottom.
    public let rgb: [UInt8]

    /// Decodes `source`: a PNG file, or `page.html#id` for an image embedded in a page.
    public init(_ source: String, in folder: TemporaryFolder) throws {
        struct Header: Decodable { let width: Int; let height: Int; let mode: String; let plane: Plane? }
        let raw = folder.file("pixels-\(UUID().uuidString).raw")
        let header = try JSONDecoder().decode(Header.self, from: ReferenceTools.run("png_pixels.py", [source, raw]))
        (width, height, mode, plane) = (header.width, header.height, header.mode, header.plane)
        rgb = [UInt8](try Data(contentsOf: URL(fileURLWithPath: raw)))
    }

    public func pixel(_ x: Int, _ y: Int) -> [UInt8] {
        let n = 3 * (x + width * y)
        return Array(rgb[n..<(n + 3)])
    }

    /// Where a world point (RAS, mm) lies on the image, in pixels (column, row), from the
    /// page's mapping: solves first + column * c + row * r = point in the least-squares sense.
    public func pixel(ofWorld p: SIMD3<Double>) -> (column: Double, row: Double)? {
        guard let plane else { return nil }
        let f = SIMD3(plane.firstPixelCentreMM[0], plane.firstPixelCentreMM[1], plane.firstPixelCentreMM[2])
        let c = SIMD3(plane.columnStepMM[0], plane.columnStepMM[1], plane.columnStepMM[2])
        let r = SIMD3(plane.rowStepMM[0], plane.rowStepMM[1], plane.rowStepMM[2])
        let d = p - f
        // The steps are perpendicular: project onto each.
        return (((d * c).sum()) / (c * c).sum(), ((d * r).sum()) / (r * r).sum())
    }
}
