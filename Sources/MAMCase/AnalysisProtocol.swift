public import MAMMargin
public import MAMRegistration

/// An analysis protocol: label conventions, margin thresholds and categories, registration
/// settings and acceptance, and which outputs to write. Read from YAML (see Protocols/ and
/// Docs/protocols.md); every key is required and unknown keys are rejected, so a protocol file
/// is a complete record of how a case was analysed.
public struct AnalysisProtocol: Sendable, Equatable {
    /// How the tumours of a pre-ablation mask are told apart.
    public enum TumourSeparation: String, Sendable, CaseIterable {
        /// 26-connected components of the tumour labels (voxels sharing a face, edge or corner).
        case components
        /// One tumour per tumour label value.
        case labels
    }

    /// Where margin maps are written.
    public enum MarginMapExtent: String, Sendable, CaseIterable {
        /// A sub-grid of the post grid around the tumours (same spacing and orientation).
        case tumourRegion = "tumour-region"
        /// The whole post grid.
        case wholeGrid = "whole-grid"
        /// No margin maps.
        case none
    }

    /// Label values in the label maps. Tumour and ablation-zone voxels count as liver too.
    public struct Labels: Sendable, Equatable {
        public var preLiver: [Int]
        public var preTumour: [Int]
        public var postLiver: [Int]
        public var postAblationZone: [Int]
        /// Segment names that select each structure in files that name their segments (3D
        /// Slicer's .seg.nrrd), matched without regard to case; empty: label values only.
        public var names = Names()

        public struct Names: Sendable, Equatable {
            public var preLiver: [String] = []
            public var preTumour: [String] = []
            public var postLiver: [String] = []
            public var postAblationZone: [String] = []

            public init() {}
        }

        public init(preLiver: [Int], preTumour: [Int], postLiver: [Int], postAblationZone: [Int]) {
            self.preLiver = preLiver
            self.preTumour = preTumour
            self.postLiver = postLiver
            self.postAblationZone = postAblationZone
        }

        /// The label values that select a structure in an image: those of the image's segments
        /// whose names the protocol lists for it, when any does; else the protocol's values.
        static func resolve(_ values: [Int], names: [String], segments: [(name: String, labelValue: Int)]) -> [Int] {
            let wanted = Set(names.map { $0.lowercased() })
            let named = segments.filter { wanted.contains($0.name.lowercased()) }.map(\.labelValue)
            return named.isEmpty ? values : Array(Set(named)).sorted()
        }

        /// The labels with each structure's values resolved against the segments of the pre and
        /// post files (`resolve`).
        func resolved(pre: [(name: String, labelValue: Int)], post: [(name: String, labelValue: Int)]) -> Labels {
            var labels = self
            labels.preLiver = Self.resolve(preLiver, names: names.preLiver, segments: pre)
            labels.preTumour = Self.resolve(preTumour, names: names.preTumour, segments: pre)
            labels.postLiver = Self.resolve(postLiver, names: names.postLiver, segments: post)
            labels.postAblationZone = Self.resolve(postAblationZone, names: names.postAblationZone, segments: post)
            return labels
        }
    }

    /// How the whole-liver fit is refined around each tumour (Docs/registration.md).
    public struct LocalRegistration: Sendable, Equatable {
        public var settings = LocalRefinementSettings()
        /// Measure each tumour's margins with its local fit (else with the whole-liver fit).
        public var useForMargins = true
        /// Warn when the local and whole-liver fits place the tumour centre further apart.
        public var warningMM = 1.0

        public init() {}
    }

    /// File-name patterns of a case's files in its folder (batch mode), shell style (`*`, `?`).
    public struct FilePatterns: Sendable, Equatable {
        public var pre: String
        public var post: String
        public var preLiver: String
        public var preTumour: String
        public var postLiver: String
        public var postAblationZone: String
        /// Scans to draw under the QC page's outlines, when a case folder has them.
        public var preImage: String
        public var postImage: String
    }

    public var name: String
    public var version: String
    public var description: String
    public var labels: Labels
    public var tumours: TumourSeparation
    /// Target margin, shells, capsule exclusion, hole filling, histogram bins, category cut-offs.
    public var margin: MarginSettings
    /// False when the protocol's masks are co-registered already (`method: none`).
    public var registers: Bool
    public var registration: RegistrationSettings
    /// The fit refined around each tumour; nil for none (`local_refinement.sigma_mm: null`).
    public var localRegistration: LocalRegistration?
    public var acceptance: RegistrationThresholds
    /// A 95% interval and threshold probabilities for each MAM (`margin.uncertainty`).
    public var estimatesUncertainty: Bool
    public var marginMaps: MarginMapExtent
    public var writesTransform: Bool
    /// The visual check, qc.html (`outputs.qc_page`, true when absent).
    public var writesQCPage: Bool
    /// The grey-level window of scans drawn under the QC page's outlines (`outputs.qc_window_level_hu`,
    /// `outputs.qc_window_width_hu`; a liver window, 60 and 200 HU, when absent).
    public var qcWindowLevelHU: Double
    public var qcWindowWidthHU: Double
    public var files: FilePatterns

    /// SHA-256 of the protocol's text (the file's bytes).
    public var sha256: String
    /// Where the protocol came from: `built-in` or the file path given.
    public var source: String

    /// The names of the margin categories, e.g. `< 0 mm`, `0 to < 5 mm`, `>= 5 mm`.
    public var categoryNames: [String] {
        let cuts = margin.categoryCutoffsMM.map { formatMM($0) }
        guard let first = cuts.first, let last = cuts.last else { return ["any margin"] }
        var names = ["< \(first) mm"]
        for (a, b) in zip(cuts, cuts.dropFirst()) { names.append("\(a) to < \(b) mm") }
        names.append(">= \(last) mm")
        return names
    }
}

/// A number of millimetres as a protocol author wrote it: 5, 2.5, -1.
func formatMM(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(value)
}

/// How a case's pre-to-post transform was obtained: what a protocol asks for (`rigid-icp` or
/// `none`), or a transform file given with the case.
public enum RegistrationMethod: String, Sendable, Codable, CaseIterable {
    /// Rigid ICP of the pre liver onto the post liver.
    case rigidICP = "rigid-icp"
    /// None: the masks are taken as co-registered.
    case none
    /// Read from an ITK .tfm file.
    case transformFile = "transform-file"
}
