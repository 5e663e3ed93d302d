public import MAMImaging

/// A phantom case with analytic answers: a pre-ablation label map (liver + tumours) and a
/// post-ablation one (liver + ablation zones), as a researcher's segmentations would be.
public struct SampleCase: Sendable {
    public var name: String
    public var summary: String
    public var preGeometry: ImageGeometry
    public var postGeometry: ImageGeometry
    public var liver: Shape
    public var tumours: [Shape]
    public var ablationZones: [Shape]
    /// Analytic minimal ablation margin of each tumour (mm), in the order of `tumours`.
    public var expectedMarginsMM: [Double]

    /// Label values of the default protocol.
    public static let liverLabel: UInt8 = 1
    public static let lesionLabel: UInt8 = 2

    public var preLabels: Volume<UInt8> {
        Phantom.labelMap(geometry: preGeometry, shapes: [(Self.liverLabel, liver)] + tumours.map { (Self.lesionLabel, $0) })
    }

    public var postLabels: Volume<UInt8> {
        Phantom.labelMap(geometry: postGeometry,
                         shapes: [(Self.liverLabel, liver)] + ablationZones.map { (Self.lesionLabel, $0) })
    }

    /// The bundled cases (SampleCases/ in the repository is made from these).
    public static let all: [SampleCase] = [sphere5mm]

    /// A 10 mm tumour centred in a 15 mm ablation zone: MAM = 15 - (0 + 10) = 5 mm.
    public static let sphere5mm: SampleCase = {
        let grid = ImageGeometry(size: GridSize(140, 120, 100), spacing: SIMD3(1, 1, 1), origin: SIMD3(-70, -60, -50))
        let centre = SIMD3<Double>(12, -8, 5)
        return SampleCase(
            name: "sphere-5mm",
            summary: "10 mm tumour centred in a 15 mm ablation zone, 1 mm grid: MAM 5 mm",
            preGeometry: grid, postGeometry: grid,
            liver: .ellipsoid(center: .zero, radii: SIMD3(65, 55, 45), axes: .identity),
            tumours: [.sphere(center: centre, radius: 10)],
            ablationZones: [.sphere(center: centre, radius: 15)],
            expectedMarginsMM: [5])
    }()
}
