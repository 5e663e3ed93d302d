import Foundation
public import MAMCore

/// ITK transform files (`.tfm`, "Insight Transform File V1.0"), as 3D Slicer and SimpleITK read
/// and write them.
///
/// ITK stores the transform a resampler needs: from the *fixed* image's physical space to the
/// *moving* image's, in LPS coordinates. To overlay the pre-ablation scan (moving) on the
/// post-ablation scan (fixed), that is the inverse of our pre-to-post transform, with x and y
/// negated (RAS to LPS): `F * inverse(preToPost) * F`, F = diag(-1, -1, 1). Written as an
/// `AffineTransform_double_3_3` with centre 0: `Parameters` are the 3 x 3 matrix row by row,
/// then the translation.
public enum ITKTransformFile {
    public struct FormatError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): not a readable ITK transform file (\(reason))" }
    }

    static let flip = Matrix3.diagonal(SIMD3(-1, -1, 1))

    /// The file's text for a pre-to-post transform (RAS, mm).
    public static func text(preToPost: Affine3D) -> String {
        let resampling = preToPost.inverse
        let m = flip * resampling.linear * flip
        let t = flip * resampling.translation
        let rows = m.rows
        let values = [rows.0.x, rows.0.y, rows.0.z, rows.1.x, rows.1.y, rows.1.z, rows.2.x, rows.2.y, rows.2.z, t.x, t.y, t.z]
        return """
            #Insight Transform File V1.0
            #Transform 0
            Transform: AffineTransform_double_3_3
            Parameters: \(values.map { String(format: "%.17g", $0) }.joined(separator: " "))
            FixedParameters: 0 0 0

            """
    }

    /// Writes the file atomically.
    public static func write(preToPost: Affine3D, to path: String) throws(ImageIOError) {
        try AtomicFile.write(Data(text(preToPost: preToPost).utf8), to: path)
    }

    /// Reads an affine (or rigid / Euler) transform written by ITK, SimpleITK or 3D Slicer and
    /// returns it as a pre-to-post transform (RAS, mm): the inverse of the file's.
    /// Scale factors (lengths of the matrix's columns) accepted in a transform file.
    public static let plausibleScale: ClosedRange<Double> = 0.1...10

    public static func read(_ path: String) throws -> Affine3D {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FormatError(path: path, reason: "cannot read the file")
        }
        func numbers(_ key: String) -> [Double]? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return nil }
            return line.dropFirst(key.count + 1).split(separator: " ").compactMap { Double($0) }
        }
        guard text.hasPrefix("#Insight Transform File"),
              let kind = text.split(separator: "\n").first(where: { $0.hasPrefix("Transform:") }) else {
            throw FormatError(path: path, reason: "no Insight Transform File header")
        }
        guard kind.contains("AffineTransform_double_3_3") || kind.contains("MatrixOffsetTransformBase_double_3_3") else {
            throw FormatError(path: path, reason: "only 3-D affine transforms are supported, found '\(kind)'")
        }
        guard let p = numbers("Parameters"), p.count == 12, p.allSatisfy(\.isFinite) else {
            throw FormatError(path: path, reason: "expected 12 parameters")
        }
        let centre = numbers("FixedParameters").flatMap { $0.count == 3 ? SIMD3($0[0], $0[1], $0[2]) : nil } ?? .zero
        let m = Matrix3(rows: SIMD3(p[0], p[1], p[2]), SIMD3(p[3], p[4], p[5]), SIMD3(p[6], p[7], p[8]))
        // ITK: T(x) = M (x - c) + c + t.
        let lps = Affine3D(linear: m, translation: SIMD3(p[9], p[10], p[11]) + centre - m * centre)
        let ras = Affine3D(linear: flip * lps.linear * flip, translation: flip * lps.translation)
        guard centre.x.isFinite, centre.y.isFinite, centre.z.isFinite, ImageGeometry.isUsable(ras) else {
            throw FormatError(path: path, reason: "the matrix is singular or not finite")
        }
        // Two scans of one patient: scale factors near 1 (a rigid transform has 1), a shift well
        // inside the scanner's world (the bounds images have too, Docs/limits.md).
        let columns = [ras.linear.columns.0, ras.linear.columns.1, ras.linear.columns.2].map { length($0) }
        guard columns.allSatisfy({ Self.plausibleScale.contains($0) }) else {
            throw FormatError(path: path, reason: String(format: "a scale factor of %g is outside %g to %g", columns.first { !Self.plausibleScale.contains($0) }!,
                                                         Self.plausibleScale.lowerBound, Self.plausibleScale.upperBound))
        }
        let shift = max(abs(ras.translation.x), abs(ras.translation.y), abs(ras.translation.z))
        guard shift <= ImageGeometry.maxCoordinateMM else {
            throw FormatError(path: path, reason: String(format: "a shift of %g mm is beyond %g mm", shift, ImageGeometry.maxCoordinateMM))
        }
        return ras.inverse
    }
}
