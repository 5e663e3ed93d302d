public import MAMCore

/// A phantom case with analytic answers: a pre-ablation label map (liver + tumours) and a
/// post-ablation one (liver + ablation zones), as a researcher's segmentations would be.
/// Every shape is given in pre-ablation world coordinates; the post-ablation scan sees the
/// same anatomy moved by `motion`, a rigid transform, which leaves every margin unchanged.
public struct SampleCase: Sendable {
    public var name: String
    public var summary: String
    public var preGeometry: ImageGeometry
    public var postGeometry: ImageGeometry
    /// The liver as a union of shapes.
    public var liver: [Shape]
    public var tumours: [Shape]
    public var ablationZones: [Shape]
    /// Pre-ablation world to post-ablation world (the patient moved between the scans).
    public var motion: Affine3D = .identity
    /// Analytic minimal ablation margin of each tumour (mm), largest tumour first (the order
    /// of mam-quantify's report).
    public var expectedMarginsMM: [Double]

    /// Label values of the default protocol.
    public static let liverLabel: UInt8 = 1
    public static let lesionLabel: UInt8 = 2

    public var preLabels: Volume<UInt8> {
        Phantom.labelMap(geometry: preGeometry, shapes: liver.map { (Self.liverLabel, $0) } + tumours.map { (Self.lesionLabel, $0) })
    }

    public var postLabels: Volume<UInt8> {
        Phantom.labelMap(geometry: postGeometry, shapes: (liver.map { (Self.liverLabel, $0) }
                             + ablationZones.map { (Self.lesionLabel, $0) }).map { ($0.0, $0.1.moved(by: motion)) })
    }

    /// The bundled cases (SampleCases/ in the repository is made from these). Each case below
    /// is written out whole, alike in shape on purpose: one case's definition in one place.
    public static let all: [SampleCase] = [sphere5mm, negativeMargin, twoTumours, obliqueAnisotropic]

    static let grid1mm = ImageGeometry(size: GridSize(140, 120, 100), spacing: SIMD3(1, 1, 1), origin: SIMD3(-70, -60, -50))
    static let ellipsoidLiver: [Shape] = [.ellipsoid(center: .zero, radii: SIMD3(65, 55, 45), axes: .identity)]

    /// A tumour of 20 mm diameter centred in an ablation zone of 30 mm (radii 10 and 15 mm):
    /// MAM = 15 - (0 + 10) = 5 mm. Summaries give diameters, as clinicians read sizes.
    public static let sphere5mm: SampleCase = {
        let centre = SIMD3<Double>(12, -8, 5)
        return SampleCase(
            name: "sphere-5mm",
            summary: "tumour of 20 mm diameter centred in an ablation zone of 30 mm, 1 mm grid: MAM 5 mm",
            preGeometry: grid1mm, postGeometry: grid1mm, liver: ellipsoidLiver,
            tumours: [.sphere(center: centre, radius: 10)],
            ablationZones: [.sphere(center: centre, radius: 15)],
            expectedMarginsMM: [5])
    }()

    /// A tumour of 20 mm diameter in a zone of 24 mm shifted 4 mm: MAM = 12 - (4 + 10) = -2 mm.
    public static let negativeMargin: SampleCase = {
        let centre = SIMD3<Double>(12, -8, 5)
        return SampleCase(
            name: "negative-margin",
            summary: "tumour of 20 mm diameter, ablation zone of 24 mm 4 mm off centre, 1 mm grid: MAM -2 mm (the tumour sticks out)",
            preGeometry: grid1mm, postGeometry: grid1mm, liver: ellipsoidLiver,
            tumours: [.sphere(center: centre, radius: 10)],
            ablationZones: [.sphere(center: centre + SIMD3(4, 0, 0), radius: 12)],
            expectedMarginsMM: [-2])
    }()

    /// Two tumours with their own zones: 14 - (0 + 8) = 6 mm and 9 - (1 + 6) = 2 mm.
    public static let twoTumours: SampleCase = {
        let a = SIMD3<Double>(-20, 10, 0), b = SIMD3<Double>(25, -15, 10)
        return SampleCase(
            name: "two-tumours",
            summary: "tumours of 16 mm and 12 mm diameter, zones of 28 mm (centred) and 18 mm (1 mm off), 1 mm grid: MAM 6 and 2 mm",
            preGeometry: grid1mm, postGeometry: grid1mm, liver: ellipsoidLiver,
            tumours: [.sphere(center: a, radius: 8), .sphere(center: b, radius: 6)],
            ablationZones: [.sphere(center: a, radius: 14), .sphere(center: b + SIMD3(1, 0, 0), radius: 9)],
            expectedMarginsMM: [6, 2])
    }()

    /// Oblique grids with thick slices that differ between the scans, and a patient who moved
    /// (8 degrees, 16 mm): a tumour of 18 mm diameter in a zone of 26 mm 1 mm off centre,
    /// MAM = 13 - (1 + 9) = 3 mm.
    /// The liver has two bulges so that it has no rotational symmetry for registration to confuse.
    public static let obliqueAnisotropic: SampleCase = {
        let centre = SIMD3<Double>(15, -5, 4)
        let motion = Affine3D(linear: Matrix3.rotation(axis: SIMD3(0.3, 1, 0.2), degrees: 8), translation: SIMD3(12, -9, 6))
        return SampleCase(
            name: "oblique-anisotropic",
            summary: "oblique grids (0.8 x 0.8 x 2.5 mm before, 0.75 x 0.75 x 2 mm after), patient moved 8 degrees and 16 mm; "
                + "tumour of 18 mm diameter in a zone of 26 mm 1 mm off centre: MAM 3 mm",
            preGeometry: .centred(on: .zero, size: GridSize(190, 155, 40), spacing: SIMD3(0.8, 0.8, 2.5),
                                  direction: Matrix3.rotation(axis: SIMD3(0, 0.3, 1), degrees: 10)),
            postGeometry: .centred(on: motion.apply(.zero), size: GridSize(205, 165, 52), spacing: SIMD3(0.75, 0.75, 2),
                                   direction: Matrix3.rotation(axis: SIMD3(1, 0.2, 0.5), degrees: -12)),
            liver: [.ellipsoid(center: .zero, radii: SIMD3(60, 45, 35), axes: .identity),
                    .sphere(center: SIMD3(40, 30, 10), radius: 18), .sphere(center: SIMD3(-35, -25, -18), radius: 12)],
            tumours: [.sphere(center: centre, radius: 9)],
            ablationZones: [.sphere(center: centre + SIMD3(0, 1, 0), radius: 13)],
            motion: motion,
            expectedMarginsMM: [3])
    }()
}

extension ImageGeometry {
    /// A grid of `size` voxels of `spacing` whose axes are the columns of `direction` (a
    /// rotation) and whose centre lies at `centre` (world, mm).
    public static func centred(on centre: SIMD3<Double>, size: GridSize, spacing: SIMD3<Double>, direction: Matrix3) -> ImageGeometry {
        let linear = Matrix3(columns: direction[0] * spacing.x, direction[1] * spacing.y, direction[2] * spacing.z)
        let half = SIMD3(Double(size.x - 1), Double(size.y - 1), Double(size.z - 1)) / 2
        return ImageGeometry(size: size, indexToWorld: Affine3D(linear: linear, translation: centre - linear * half))
    }
}

extension Shape {
    /// The shape moved by a rigid transform.
    public func moved(by motion: Affine3D) -> Shape {
        switch self {
        case .sphere(let c, let r): return .sphere(center: motion.apply(c), radius: r)
        case .ellipsoid(let c, let radii, let axes): return .ellipsoid(center: motion.apply(c), radii: radii, axes: motion.linear * axes)
        }
    }
}
