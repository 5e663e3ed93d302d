import Foundation
import MAMSurface
import MAMCore
import MAMImageIO
import MAMTestSupport
import Testing

@Suite("Exact Euclidean distance transform")
struct DistanceTransformTests {
    /// Brute force: for each voxel, the smallest distance (mm) to a voxel centre with `target`.
    static func bruteForce(_ mask: Mask, target: Bool) -> [Double] {
        let s = mask.size
        let w = mask.geometry.spacing
        var targets: [(Double, Double, Double)] = []
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x where mask[i, j, k] == target {
            targets.append((Double(i) * w.x, Double(j) * w.y, Double(k) * w.z))
        } } }
        var out: [Double] = []
        for k in 0..<s.z { for j in 0..<s.y { for i in 0..<s.x {
            let (x, y, z) = (Double(i) * w.x, Double(j) * w.y, Double(k) * w.z)
            var best = Double.infinity
            for t in targets {
                let (dx, dy, dz) = (t.0 - x, t.1 - y, t.2 - z)
                best = min(best, dx * dx + dy * dy + dz * dz)
            }
            out.append(best.squareRoot())
        } } }
        return out
    }

    static func randomMask(_ size: GridSize, spacing: SIMD3<Double>, density: Double, seed: UInt64) -> Mask {
        var g = SeededGenerator(seed: seed)
        let geometry = ImageGeometry(size: size, spacing: spacing, origin: SIMD3(3, -4, 5))
        return Mask(geometry: geometry, voxels: (0..<size.count).map { _ in Double.random(in: 0..<1, using: &g) < density })
    }

    static let randomCases: [(GridSize, SIMD3<Double>, Double)] = [
        (GridSize(9, 7, 5), SIMD3(0.7, 0.7, 2.5), 0.1),
        (GridSize(13, 11, 9), SIMD3(1, 2, 3), 0.02),
        (GridSize(20, 3, 17), SIMD3(0.5, 1.3, 0.9), 0.3),
        (GridSize(1, 40, 1), SIMD3(1, 1, 1), 0.05),
        (GridSize(31, 1, 1), SIMD3(2.5, 1, 1), 0.1),
        (GridSize(12, 12, 12), SIMD3(0.8, 0.8, 0.8), 0.005),
    ]

    @Test("matches brute force on random anisotropic masks", arguments: 0..<randomCases.count)
    func bruteForceAgreement(index: Int) {
        let (size, spacing, density) = Self.randomCases[index]
        for seed in UInt64(1)...4 {
            let mask = Self.randomMask(size, spacing: spacing, density: density, seed: seed + UInt64(index) * 10)
            let expectedTo = Self.bruteForce(mask, target: true)
            let expectedFrom = Self.bruteForce(mask, target: false)
            let distance = DistanceTransform.distance(to: mask)
            let signed = DistanceTransform.signedDistance(mask)
            // Exact up to float32 storage: 2^-23 relative, plus float rounding of the sums.
            for i in 0..<size.count {
                let d = Double(distance.millimetres[i])
                #expect(d == expectedTo[i] || abs(d - expectedTo[i]) <= 1e-6 * expectedTo[i], "voxel \(i): \(d) vs \(expectedTo[i])")
                let expectedSigned = mask.voxels[i] ? expectedFrom[i] : -expectedTo[i]
                let s = Double(signed.insidePositiveMM[i])
                #expect(s == expectedSigned || abs(s - expectedSigned) <= 1e-6 * abs(expectedSigned))
                #expect(signed.isInside(i) == mask.voxels[i])
            }
        }
    }

    @Test("empty and full masks give infinities, never NaN")
    func emptyAndFull() {
        let geometry = ImageGeometry(size: GridSize(4, 5, 6), spacing: SIMD3(1, 1, 2))
        let empty = Mask(geometry: geometry, repeating: false)
        #expect(DistanceTransform.distance(to: empty).millimetres.allSatisfy { $0 == .infinity })
        #expect(DistanceTransform.signedDistance(empty).insidePositiveMM.allSatisfy { $0 == -.infinity })
        let full = Mask(geometry: geometry, repeating: true)
        #expect(DistanceTransform.distance(to: full).millimetres.allSatisfy { $0 == 0 })
        #expect(DistanceTransform.signedDistance(full).insidePositiveMM.allSatisfy { $0 == .infinity })
    }

    @Test("a region of interest gives the same distances as the whole grid where they are shorter than its margin")
    func regionOfInterest() {
        let geometry = ImageGeometry(size: GridSize(120, 100, 40), spacing: SIMD3(0.7, 0.7, 2.5), origin: SIMD3(-40, -30, -50))
        var mask = Mask(geometry: geometry, repeating: false)
        for k in 0..<40 { for j in 0..<100 { for i in 0..<120 {
            let p = geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
            mask[i, j, k] = length(p - SIMD3(5, 3, -2)) < 12
        } } }
        // 15 voxels of margin: at least 10.5 mm in x and y, 37.5 mm in z.
        let box = mask.boundingBox.expanded(by: SIMD3(15, 15, 15), within: geometry.size)
        let crop = mask.cropped(to: box)
        let whole = DistanceTransform.signedDistance(mask)
        let part = DistanceTransform.signedDistance(crop)
        #expect(crop.size.count < geometry.size.count / 3)
        var compared = 0
        for k in 0..<crop.size.z { for j in 0..<crop.size.y { for i in 0..<crop.size.x {
            let full = whole.insidePositiveMM[geometry.size.linearIndex(i + box.lower.x, j + box.lower.y, k + box.lower.z)]
            guard abs(full) <= 10.5 else { continue }
            #expect(part.insidePositiveMM[crop.size.linearIndex(i, j, k)] == full)
            compared += 1
        } } }
        #expect(compared > 10_000)
        // The sub-grid keeps world positions.
        #expect(length(crop.geometry.world(atIndex: .zero)
                       - geometry.world(atIndex: SIMD3(Double(box.lower.x), Double(box.lower.y), Double(box.lower.z)))) < 1e-12)
    }

    @Test("agrees with scipy's distance_transform_edt(sampling=...) on a large anisotropic mask")
    func scipyCrossCheck() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        // Two overlapping ellipsoids and a hole, on 160 x 140 x 60 voxels of 0.7 x 0.8 x 2.5 mm.
        let geometry = ImageGeometry(size: GridSize(160, 140, 60), spacing: SIMD3(0.7, 0.8, 2.5))
        var mask = Mask(geometry: geometry, repeating: false)
        for k in 0..<60 { for j in 0..<140 { for i in 0..<160 {
            let p = geometry.world(atIndex: SIMD3(Double(i), Double(j), Double(k)))
            let a = (p - SIMD3(50, 50, 70)) / SIMD3(35, 30, 50)
            let b = (p - SIMD3(80, 70, 90)) / SIMD3(20, 25, 40)
            let hole = length(p - SIMD3(55, 50, 70)) < 8
            mask[i, j, k] = (dot(a, a) < 1 || dot(b, b) < 1) && !hole
        } } }
        let path = folder.file("mask.nii")
        try NIfTIWriter.write(mask, to: path)
        _ = try ReferenceTools.run("scipy_edt.py", [path, folder.file("scipy.f64")])
        let reference = try ReferenceTools.loadFloat64(folder.file("scipy.f64"))
        let ours = DistanceTransform.signedDistance(mask).insidePositiveMM
        try #require(reference.count == ours.count)
        // scipy computes in float64, we store float32: distances up to ~150 mm differ by at most
        // 150 * 2^-24 = 9e-6 mm.
        let worst = zip(ours, reference).map { abs(Double($0) - $1) }.max()!
        #expect(worst < 2e-5, "largest difference to scipy: \(worst) mm")
    }
}
