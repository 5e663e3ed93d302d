public import Foundation
import MAMImageIO

/// The JSON report of one case (Docs/report.md; schema Docs/report.schema.json). Every key
/// is always present; a value that cannot be defined is null and the reason is given next to
/// it (`message`, `reason`). Units are part of the key names. No NaN or infinity anywhere.
/// Its types mirror the engine's results (SurfaceMarginStatistics, RegistrationQuality, ...)
/// on purpose: the report is a versioned format that must not change when a library type does.
public struct CaseReport: Codable, Sendable, Equatable {
    /// Changes when a key is added (minor) or changed or removed (major).
    public static let currentSchemaVersion = "1.4.0"

    public var schemaVersion: String
    public var tool: Tool
    public var caseId: String
    /// `done`, or `registration-rejected` (margins measured but flagged unreliable).
    public var status: Status
    public var marginsReliable: Bool
    public var analysisProtocol: ProtocolSummary
    public var inputs: [InputFile]
    public var registration: Registration
    public var ablationZone: AblationZone
    public var tumours: [Tumour]
    public var outputs: Outputs
    public var warnings: [String]
    /// Wall time per stage; with `run`, the only part that differs between runs on the same inputs.
    public var timingsSeconds: Timings
    /// When, how and where the report was made (the audit trail).
    public var run: Run

    enum CodingKeys: String, CodingKey {
        case schemaVersion, tool, caseId, status, marginsReliable, inputs, registration, ablationZone, tumours
        case outputs, warnings, timingsSeconds, run
        case analysisProtocol = "protocol"
    }

    public enum Status: String, Codable, Sendable {
        case done
        case registrationRejected = "registration-rejected"
    }

    public struct Tool: Codable, Sendable, Equatable {
        public var name: String
        public var version: String

        /// This build of mam-quantify.
        public static let current = Tool(name: "mam-quantify", version: toolVersion)
    }

    public struct ProtocolSummary: Codable, Sendable, Equatable {
        public var name: String
        public var version: String
        /// `built-in`, or the protocol file's path as given.
        public var source: String
        public var sha256: String
        public var targetMarginMM: Double
        public var categoryCutoffsMM: [Double]
        public var categories: [String]
    }

    public struct InputFile: Codable, Sendable, Equatable {
        /// pre, post, pre-liver, pre-tumour, post-liver, post-ablation-zone or transform.
        public var role: String
        /// As given on the command line (or in the manifest).
        public var path: String
        public var sha256: String
        public var sizeBytes: Int
        /// NIfTI-1 or NIfTI-2; null for a transform file.
        @Null public var format: String?
        @Null public var datatype: String?
        @Null public var geometry: Geometry?
    }

    public struct Geometry: Codable, Sendable, Equatable {
        public var sizeVoxels: [Int]
        public var spacingMM: [Double]
        /// Three letters: the world direction (RAS) each voxel axis mostly points to.
        public var orientation: String
        /// sform, qform or pixdim: which header field the world geometry came from.
        public var geometrySource: String
        /// Voxel index to world (RAS, mm), 4 x 4, rows.
        public var indexToWorldMM: [[Double]]
    }

    public struct Registration: Codable, Sendable, Equatable {
        /// rigid-icp, none (masks co-registered) or transform-file.
        public var method: RegistrationMethod
        /// Pre-ablation world (RAS, mm) to post-ablation world, 4 x 4, rows.
        public var preToPostMM: [[Double]]
        public var rotationDegrees: Double
        public var translationMM: [Double]
        /// The protocol's ICP settings; null when no ICP ran.
        @Null public var parameters: Parameters?
        /// Null when no ICP ran.
        @Null public var acceptance: Acceptance?
        /// Null when no ICP ran.
        @Null public var quality: Quality?
        /// Where each scan's field of view cut its liver (left out of the fit and the quality
        /// figures); null when no ICP ran.
        @Null public var fieldOfViewCuts: FieldOfViewCuts?
        /// accepted, rejected, or not-assessed (no ICP ran).
        public var verdict: String
        /// Why the verdict is rejected or not-assessed, one sentence each.
        public var reasons: [String]
    }

    public struct FieldOfViewCuts: Codable, Sendable, Equatable {
        /// Cut sides of the bounding box in voxel-index axes, e.g. "+z" (the last slices).
        public var pre: [String]
        public var post: [String]
    }

    public struct Parameters: Codable, Sendable, Equatable {
        public var preSurfaceSamplingMM: Double
        public var postSurfaceSamplingMM: Double
        public var trimFraction: Double
        public var maxIterations: Int
        public var toleranceMM: Double
        public var maxLiverVolumeRatio: Double
        public var inlierDistanceMM: Double
        public var borderExclusionMM: Double
        /// The fit refined around each tumour; null when the protocol asks for none.
        @Null public var localRefinement: LocalRefinement?
    }

    public struct LocalRefinement: Codable, Sendable, Equatable {
        public var sigmaMM: Double
        public var useForMargins: Bool
        public var warningMM: Double
    }

    public struct Acceptance: Codable, Sendable, Equatable {
        public var minLiverDice: Double
        public var maxMeanSurfaceDistanceMM: Double
        public var maxSurfaceDistance95MM: Double
        public var minInlierFraction: Double
    }

    public struct Quality: Codable, Sendable, Equatable {
        public var liverDice: Double
        public var meanSurfaceDistanceMM: Double
        public var surfaceDistance95MM: Double
        public var inlierRMSMM: Double
        public var inlierFraction: Double
        public var iterations: Int
    }

    public struct AblationZone: Codable, Sendable, Equatable {
        public var volumeML: Double
        public var holesFilled: Bool
        /// The zone's extent along its principal axes (mm): the long axis, then the largest
        /// and the smallest diameter perpendicular to it; null when the zone is empty.
        @Null public var longAxisMM: Double?
        @Null public var shortAxisMM: Double?
        @Null public var thirdAxisMM: Double?
        /// Short axis / long axis (1 for a sphere), as device studies report it.
        @Null public var sphericityIndex: Double?
        /// The long axis' direction in post world coordinates (RAS, unit length).
        @Null public var longAxisDirection: [Double]?
    }

    public struct Tumour: Codable, Sendable, Equatable {
        /// 1, 2, ... (largest first for components; ascending label value for labels).
        public var number: Int
        /// The tumour's label value when the protocol separates tumours by label; else null.
        @Null public var label: Int?
        /// measured, no-ablation-zone or outside-post-field-of-view.
        public var outcome: String
        /// Why figures are null; null when everything was measured.
        @Null public var message: String?
        public var volumeML: Double
        public var centroidPreMM: [Double]
        public var centroidPostMM: [Double]
        @Null public var minimalMarginMM: Double?
        /// Post-ablation world position (RAS, mm) of the minimal margin.
        @Null public var minimalMarginLocationPostMM: [Double]?
        @Null public var category: Category?
        @Null public var meetsTargetMargin: Bool?
        @Null public var surface: Surface?
        /// Fraction of the surface within the capsule-exclusion distance of the liver capsule;
        /// null when the protocol excludes nothing or there is no liver mask.
        @Null public var capsuleExcludedSurfaceFraction: Double?
        @Null public var surfaceWithoutCapsule: Surface?
        @Null public var fractionInsideAblation: Double?
        @Null public var residualVolumeML: Double?
        public var shells: [Shell]
        /// Which transform measured this tumour, and how the local and whole-liver fits differ here.
        public var registrationAtTumour: TumourRegistration
        /// Null when there is no margin or the protocol asks for none.
        @Null public var uncertainty: Uncertainty?
    }

    public struct TumourRegistration: Codable, Sendable, Equatable {
        /// local (the fit refined around this tumour), global (the whole-liver fit), or given
        /// (no ICP ran: the transform file or the identity).
        public var transformUsed: String
        /// The local fit, 4 x 4, rows; null without one.
        @Null public var localPreToPostMM: [[Double]]?
        /// The MAM under each fit; null without a local fit or a margin.
        @Null public var globalMinimalMarginMM: Double?
        @Null public var localMinimalMarginMM: Double?
        /// How far apart the two fits place the tumour centre (mm).
        @Null public var localToGlobalDisplacementMM: Double?
    }

    public struct Uncertainty: Codable, Sendable, Equatable {
        /// 95% interval of the MAM (2.5th and 97.5th percentiles of the draws), mm.
        public var minimalMarginInterval95MM: [Double]
        /// P(MAM >= the protocol's target) and P(MAM >= 0 mm).
        public var probabilityMeetsTarget: Double
        public var probabilityAtLeastZero: Double
        /// True when the interval holds a category cut-off: the category could be another.
        public var categoryUncertain: Bool
        /// RMS displacement (mm) of the tumour centre over the draws: the registration part.
        public var registrationSpreadMM: Double
        /// Standard deviation (mm) of the masks' boundary part.
        public var boundarySDMM: Double
        /// False when no ICP ran: the interval holds the boundary part and a floor only.
        public var includesRegistration: Bool
        /// Monte-Carlo draws behind the figures.
        public var draws: Int
    }

    public struct Category: Codable, Sendable, Equatable {
        /// 1-based, as in the category map.
        public var index: Int
        public var name: String
    }

    public struct Surface: Codable, Sendable, Equatable {
        public var minimumMM: Double
        public var p5MM: Double
        public var p25MM: Double
        public var p50MM: Double
        public var p75MM: Double
        public var p95MM: Double
        public var maximumMM: Double
        public var areaMM2: Double
        public var fractionBelowZero: Double
        public var fractionBelowTarget: Double
        public var fractionAtOrAboveTarget: Double
        public var histogram: [HistogramBin]
    }

    public struct HistogramBin: Codable, Sendable, Equatable {
        public var lowerMM: Double
        public var upperMM: Double
        public var areaFraction: Double
    }

    public struct Shell: Codable, Sendable, Equatable {
        public var widthMM: Double
        public var volumeML: Double
        /// Null when the shell holds no voxel (no liver around the tumour).
        @Null public var fractionAblated: Double?
    }

    public struct Outputs: Codable, Sendable, Equatable {
        /// File names in the output folder; null when the protocol writes no such file.
        public var report: String
        @Null public var marginMap: String?
        @Null public var marginMask: String?
        @Null public var categoryMap: String?
        /// The category map's names and colours: a 3D Slicer colour table, an ITK-SNAP label file.
        @Null public var categoryColoursSlicer: String?
        @Null public var categoryLabelsITKSNAP: String?
        @Null public var transform: String?
        /// The page for a visual check (Docs/qc.md) and, per tumour in order, its minimal-margin
        /// axial slice as a PNG (the cohort page's thumbnails); null and empty without a page.
        @Null public var qcPage: String?
        public var qcThumbnails: [String]
    }

    /// The audit trail: differs between runs on the same inputs, like the timings.
    public struct Run: Codable, Sendable, Equatable {
        /// When the analysis ended: ISO 8601, UTC, to the second.
        public var madeUTC: String
        /// The program and its arguments, as typed.
        public var commandLine: [String]
        /// The machine's host name.
        public var host: String

        /// This process, now.
        public static func now() -> Run {
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime]
            format.timeZone = TimeZone(identifier: "UTC")
            return Run(madeUTC: format.string(from: Date()), commandLine: CommandLine.arguments,
                       host: ProcessInfo.processInfo.hostName)
        }
    }

    public struct Timings: Codable, Sendable, Equatable {
        public var readSeconds: Double
        public var registrationSeconds: Double
        /// Local fits around the tumours (and the alternatives the uncertainty varies over).
        public var localRefinementSeconds: Double
        public var marginSeconds: Double
        public var uncertaintySeconds: Double
        public var mapsSeconds: Double
        public var totalSeconds: Double
    }
}

/// An optional value written as JSON null when absent (Foundation leaves the key out).
@propertyWrapper
public struct Null<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension CaseReport {
    /// The report as written to disk: keys sorted, two-space indentation, a final newline.
    public func jsonData() throws -> Data {
        try JSONOutput.document(self)
    }
}
