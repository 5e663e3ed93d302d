import Foundation
import MAMMargin
import MAMRegistration
import Yams

/// Why a protocol was refused: one line naming the file, the line, the key and the reason.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The protocol file, or `built-in protocol NAME`.
    public let source: String
    /// The line in the file, when known.
    public let line: Int?
    /// The key's path, e.g. `margin.target_mm`; nil for the file as a whole.
    public let key: String?
    public let reason: String

    public var description: String {
        let place = source + (line.map { ":\($0)" } ?? "")
        return key.map { "\(place): \($0): \(reason)" } ?? "\(place): \(reason)"
    }
}

extension AnalysisProtocol {
    /// Reads a protocol file (YAML; JSON is YAML too).
    public init(contentsOfFile path: String) throws(ProtocolError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ProtocolError(source: path, line: nil, key: nil,
                                reason: exists ? "cannot be read" : "no such protocol file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ProtocolError(source: path, line: nil, key: nil, reason: "not UTF-8 text")
        }
        try self.init(yaml: text, source: path)
    }

    /// Parses a protocol's text. `source` names it in errors and in reports.
    public init(yaml text: String, source: String) throws(ProtocolError) {
        let reader = ProtocolReader(source: source)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ProtocolError(source: source, line: nil, key: nil, reason: "the file is empty")
            }
            root = node
        } catch let error as ProtocolError {
            throw error
        } catch {
            throw ProtocolError(source: source, line: nil, key: nil, reason: "not valid YAML (\(Self.oneLine(error)))")
        }
        let top = try reader.mapping(root, "", keys: ["name", "version", "description", "labels", "tumours",
                                                       "margin", "registration", "outputs", "files"])
        name = try reader.string(top, "name")
        guard name.range(of: "^[A-Za-z0-9._-]+$", options: .regularExpression) != nil else {
            throw reader.error(top["name"]!.node, "name", "use letters, digits, '.', '_' or '-' only")
        }
        version = try reader.string(top, "version")
        description = try reader.string(top, "description")

        let labelSection = try reader.mapping(top, "labels", keys: ["pre", "post"])
        let pre = try reader.mapping(labelSection, "labels.pre", keys: ["liver", "tumour"])
        let post = try reader.mapping(labelSection, "labels.post", keys: ["liver", "ablation_zone"])
        let preLiver = try reader.labels(pre, "labels.pre.liver"), preTumour = try reader.labels(pre, "labels.pre.tumour")
        let postLiver = try reader.labels(post, "labels.post.liver"), zone = try reader.labels(post, "labels.post.ablation_zone")
        labels = Labels(preLiver: preLiver.values, preTumour: preTumour.values, postLiver: postLiver.values,
                        postAblationZone: zone.values)
        (labels.names.preLiver, labels.names.preTumour) = (preLiver.names, preTumour.names)
        (labels.names.postLiver, labels.names.postAblationZone) = (postLiver.names, zone.names)
        for (key, a, b) in [("labels.pre", labels.preLiver, labels.preTumour),
                            ("labels.post", labels.postLiver, labels.postAblationZone)]
        where !Set(a).isDisjoint(with: b) {
            throw ProtocolError(source: source, line: top["labels"]?.line, key: key,
                                reason: "a label value cannot be both liver and lesion")
        }
        tumours = try reader.choice(top, "tumours")

        let m = try reader.mapping(top, "margin", keys: ["target_mm", "category_cutoffs_mm", "shells_mm",
                                                          "capsule_exclusion_mm", "fill_ablation_holes",
                                                          "histogram_bin_mm"], optional: ["uncertainty", "min_component_ml"])
        margin = MarginSettings()
        margin.targetMarginMM = try reader.number(m, "margin.target_mm")
        margin.categoryCutoffsMM = try reader.numbers(m, "margin.category_cutoffs_mm")
        margin.shellWidthsMM = try reader.numbers(m, "margin.shells_mm")
        margin.capsuleExclusionMM = try reader.optionalNumber(m, "margin.capsule_exclusion_mm")
        margin.fillAblationHoles = try reader.bool(m, "margin.fill_ablation_holes")
        margin.histogramBinMM = try reader.number(m, "margin.histogram_bin_mm")
        if m["min_component_ml"] != nil {
            margin.minimumComponentML = try reader.number(m, "margin.min_component_ml")
        }
        estimatesUncertainty = m["uncertainty"] == nil ? true : try reader.bool(m, "margin.uncertainty")

        let r = try reader.mapping(top, "registration", keys: ["method", "surface_sampling_mm", "trim_fraction",
                                                                "max_iterations", "tolerance_mm",
                                                                "max_liver_volume_ratio", "inlier_distance_mm",
                                                                "border_exclusion_mm", "acceptance"],
                                   optional: ["local_refinement"])
        let method: RegistrationMethod = try reader.choice(r, "registration.method", among: [.rigidICP, .none])
        registers = method == .rigidICP
        registration = RegistrationSettings()
        let sampling = try reader.mapping(r, "registration.surface_sampling_mm", keys: ["pre", "post"])
        registration.sourceSpacingMM = try reader.number(sampling, "registration.surface_sampling_mm.pre")
        registration.targetSpacingMM = try reader.number(sampling, "registration.surface_sampling_mm.post")
        registration.trimFraction = try reader.number(r, "registration.trim_fraction")
        registration.maxIterations = try reader.integer(r, "registration.max_iterations")
        registration.toleranceMM = try reader.number(r, "registration.tolerance_mm")
        registration.maxVolumeRatio = try reader.number(r, "registration.max_liver_volume_ratio")
        registration.inlierDistanceMM = try reader.number(r, "registration.inlier_distance_mm")
        registration.borderExclusionMM = try reader.number(r, "registration.border_exclusion_mm")
        localRegistration = LocalRegistration()
        if r["local_refinement"] != nil {
            let l = try reader.mapping(r, "registration.local_refinement", keys: ["sigma_mm", "use_for_margins", "warning_mm"])
            if let sigma = try reader.optionalNumber(l, "registration.local_refinement.sigma_mm") {
                localRegistration!.settings.sigmaMM = sigma
                localRegistration!.useForMargins = try reader.bool(l, "registration.local_refinement.use_for_margins")
                localRegistration!.warningMM = try reader.number(l, "registration.local_refinement.warning_mm")
            } else {
                localRegistration = nil
            }
        }
        let a = try reader.mapping(r, "registration.acceptance", keys: ["min_liver_dice", "max_mean_surface_distance_mm",
                                                                       "max_surface_distance_95_mm", "min_inlier_fraction"])
        acceptance = RegistrationThresholds()
        acceptance.minLiverDice = try reader.number(a, "registration.acceptance.min_liver_dice")
        acceptance.maxMeanSurfaceDistanceMM = try reader.number(a, "registration.acceptance.max_mean_surface_distance_mm")
        acceptance.maxSurfaceDistance95MM = try reader.number(a, "registration.acceptance.max_surface_distance_95_mm")
        acceptance.minInlierFraction = try reader.number(a, "registration.acceptance.min_inlier_fraction")

        let o = try reader.mapping(top, "outputs", keys: ["margin_maps", "transform"],
                                   optional: ["qc_page", "qc_window_level_hu", "qc_window_width_hu"])
        marginMaps = try reader.choice(o, "outputs.margin_maps")
        writesTransform = try reader.bool(o, "outputs.transform")
        writesQCPage = o["qc_page"] == nil ? true : try reader.bool(o, "outputs.qc_page")
        qcWindowLevelHU = o["qc_window_level_hu"] == nil ? 60 : try reader.number(o, "outputs.qc_window_level_hu")
        qcWindowWidthHU = o["qc_window_width_hu"] == nil ? 200 : try reader.number(o, "outputs.qc_window_width_hu")

        let f = try reader.mapping(top, "files", keys: ["pre", "post", "pre_liver", "pre_tumour", "post_liver",
                                                         "post_ablation_zone"], optional: ["pre_image", "post_image"])
        files = FilePatterns(pre: try reader.string(f, "files.pre"), post: try reader.string(f, "files.post"),
                             preLiver: try reader.string(f, "files.pre_liver"),
                             preTumour: try reader.string(f, "files.pre_tumour"),
                             postLiver: try reader.string(f, "files.post_liver"),
                             postAblationZone: try reader.string(f, "files.post_ablation_zone"),
                             preImage: f["pre_image"] == nil ? "pre_ct.nii*" : try reader.string(f, "files.pre_image"),
                             postImage: f["post_image"] == nil ? "post_ct.nii*" : try reader.string(f, "files.post_image"))

        sha256 = FileDigest.sha256(Data(text.utf8))
        self.source = source
    }

    static func oneLine(_ error: any Error) -> String {
        String(describing: error).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
    }
}

/// The range of every number a protocol holds. The bounds are wide for science and narrow
/// enough that no protocol can make a case use unbounded memory or time (a histogram bin or a
/// surface sampling of 1e-9 mm asked for petabytes; 1e8 iterations at a tolerance of 1e-300
/// never ended). Docs/limits.md lists them.
public enum ProtocolLimits {
    public static let ranges: [String: ClosedRange<Double>] = [
        "margin.target_mm": 0...50,
        "margin.category_cutoffs_mm": -50...50,
        "margin.shells_mm": 0.1...50,
        "margin.capsule_exclusion_mm": 0.1...50,
        "margin.histogram_bin_mm": 0.05...10,
        "margin.min_component_ml": 0...10,
        "registration.surface_sampling_mm.pre": 0.25...20,
        "registration.surface_sampling_mm.post": 0.25...20,
        "registration.trim_fraction": 0.1...1,
        "registration.max_iterations": 1...1000,
        "registration.tolerance_mm": 1e-6...10,
        "registration.max_liver_volume_ratio": 1...100,
        "registration.inlier_distance_mm": 0.1...100,
        "registration.border_exclusion_mm": 0...50,
        "registration.local_refinement.sigma_mm": 5...500,
        "registration.local_refinement.warning_mm": 0...50,
        "registration.acceptance.min_liver_dice": 0...1,
        "registration.acceptance.max_mean_surface_distance_mm": 0...100,
        "registration.acceptance.max_surface_distance_95_mm": 0...100,
        "registration.acceptance.min_inlier_fraction": 0...1,
        "outputs.qc_window_level_hu": -2000...5000,
        "outputs.qc_window_width_hu": 1...10000,
    ]
    /// Longest list of cut-offs, shells or label values.
    public static let maxListLength = 16
    /// Largest label value (2^31 - 1, the largest an int32 label map holds).
    public static let maxLabel = Int(Int32.max)
}

/// Reads typed values out of YAML nodes, each error naming the file, line and key.
struct ProtocolReader {
    let source: String

    /// A mapping's values by key, with their lines.
    typealias Entries = [String: (node: Node, line: Int?)]

    func error(_ node: Node?, _ key: String, _ reason: String) -> ProtocolError {
        ProtocolError(source: source, line: node?.mark?.line, key: key.isEmpty ? nil : key, reason: reason)
    }

    /// The mapping at `key` of `parent` (or the root when `parent` is nil), checked to hold
    /// exactly `keys`.
    func mapping(_ parent: Entries, _ key: String, keys: [String], optional: [String] = []) throws(ProtocolError) -> Entries {
        try mapping(try value(parent, key), key, keys: keys, optional: optional)
    }

    /// `keys` must all be present; `optional` ones may be (keys added after protocols were
    /// first written, whose absence means their documented default).
    func mapping(_ node: Node, _ key: String, keys: [String], optional: [String] = []) throws(ProtocolError) -> Entries {
        guard let mapping = node.mapping else { throw error(node, key, "expected a mapping of keys to values") }
        var entries: Entries = [:]
        for (k, v) in mapping {
            guard let name = k.string, k.scalar != nil else { throw error(k, key, "keys must be plain words") }
            let path = key.isEmpty ? name : key + "." + name
            guard keys.contains(name) || optional.contains(name) else {
                throw error(k, path, "unknown key (known here: \((keys + optional).joined(separator: ", ")))")
            }
            entries[name] = (v, k.mark?.line)
        }
        if let missing = keys.first(where: { entries[$0] == nil }) {
            throw error(node, key.isEmpty ? missing : key + "." + missing, "missing key")
        }
        return entries
    }

    private func value(_ parent: Entries, _ key: String) throws(ProtocolError) -> Node {
        let name = String(key.split(separator: ".").last ?? "")
        guard let entry = parent[name] else { throw error(nil, key, "missing key") }
        return entry.node
    }

    private func scalar(_ node: Node, _ key: String, _ expected: String) throws(ProtocolError) -> Node.Scalar {
        guard let scalar = node.scalar else { throw error(node, key, "expected \(expected)") }
        return scalar
    }

    func string(_ parent: Entries, _ key: String) throws(ProtocolError) -> String {
        let node = try value(parent, key)
        let s = try scalar(node, key, "text")
        guard node.tag != Tag(.null), !s.string.isEmpty else { throw error(node, key, "expected text, got nothing") }
        return s.string
    }

    func bool(_ parent: Entries, _ key: String) throws(ProtocolError) -> Bool {
        let node = try value(parent, key)
        guard let b = node.bool, node.tag == Tag(.bool) else {
            throw error(node, key, "expected true or false, got \(describe(node))")
        }
        return b
    }

    func number(_ node: Node, _ key: String) throws(ProtocolError) -> Double {
        guard node.tag == Tag(.int) || node.tag == Tag(.float), let x = node.float, x.isFinite else {
            throw error(node, key, "expected a number, got \(describe(node))")
        }
        return x
    }

    /// The number at `key`, within its range in `ProtocolLimits`.
    func number(_ parent: Entries, _ key: String) throws(ProtocolError) -> Double {
        let node = try value(parent, key)
        return try bounded(try number(node, key), node, key)
    }

    private func bounded(_ x: Double, _ node: Node, _ key: String) throws(ProtocolError) -> Double {
        guard let range = ProtocolLimits.ranges[key] else { preconditionFailure("no range for \(key)") }
        guard range.contains(x) else {
            throw error(node, key, "must be from \(formatMM(range.lowerBound)) to \(formatMM(range.upperBound)), got \(formatMM(x))")
        }
        return x
    }

    /// null, or a number within its range.
    func optionalNumber(_ parent: Entries, _ key: String) throws(ProtocolError) -> Double? {
        let node = try value(parent, key)
        if node.tag == Tag(.null) { return nil }
        return try number(parent, key)
    }

    func integer(_ parent: Entries, _ key: String) throws(ProtocolError) -> Int {
        let node = try value(parent, key)
        guard node.tag == Tag(.int), let i = node.int else { throw error(node, key, "expected a whole number, got \(describe(node))") }
        _ = try bounded(Double(i), node, key)
        return i
    }

    /// A list of at most `ProtocolLimits.maxListLength` numbers, each within the key's range,
    /// in ascending order without repeats.
    func numbers(_ parent: Entries, _ key: String) throws(ProtocolError) -> [Double] {
        let node = try value(parent, key)
        guard let items = node.sequence else { throw error(node, key, "expected a list of numbers, e.g. [0, 5]") }
        guard items.count <= ProtocolLimits.maxListLength else {
            throw error(node, key, "at most \(ProtocolLimits.maxListLength) values, got \(items.count)")
        }
        var result: [Double] = []
        for item in items { result.append(try bounded(try number(item, key), item, key)) }
        if zip(result, result.dropFirst()).contains(where: { $0 >= $1 }) {
            throw error(node, key, "the values must be in ascending order without repeats")
        }
        return result
    }

    /// A non-empty list of label values (whole numbers, 1 or more) and segment names (strings,
    /// for files that name their segments), or a single value; at least one value.
    func labels(_ parent: Entries, _ key: String) throws(ProtocolError) -> (values: [Int], names: [String]) {
        let node = try value(parent, key)
        let items = node.sequence.map(Array.init) ?? [node]
        guard !items.isEmpty else { throw error(node, key, "expected at least one label value") }
        guard items.count <= ProtocolLimits.maxListLength else {
            throw error(node, key, "at most \(ProtocolLimits.maxListLength) label values, got \(items.count)")
        }
        var result: [Int] = []
        var names: [String] = []
        for item in items {
            if item.tag == Tag(.str), let name = item.string {
                guard !name.isEmpty, name.count <= 200 else { throw error(item, key, "a segment name is 1 to 200 characters") }
                names.append(name)
                continue
            }
            guard item.tag == Tag(.int), let label = item.int else {
                throw error(item, key, "expected a label value (a whole number) or a segment name (a quoted string), got \(describe(item))")
            }
            guard label >= 1 else { throw error(item, key, "label values start at 1 (0 is background), got \(label)") }
            guard label <= ProtocolLimits.maxLabel else {
                throw error(item, key, "label values are at most \(ProtocolLimits.maxLabel), got \(label)")
            }
            result.append(label)
        }
        guard !result.isEmpty else { throw error(node, key, "expected at least one label value (segment names are tried first, values are the fallback)") }
        guard Set(result).count == result.count else { throw error(node, key, "a label value is listed twice") }
        return (result, names)
    }

    func choice<T: RawRepresentable & CaseIterable & Equatable>(_ parent: Entries, _ key: String) throws(ProtocolError) -> T
    where T.RawValue == String {
        try choice(parent, key, among: Array(T.allCases))
    }

    /// One of `allowed`, by its raw value.
    func choice<T: RawRepresentable & Equatable>(_ parent: Entries, _ key: String, among allowed: [T]) throws(ProtocolError) -> T
    where T.RawValue == String {
        let node = try value(parent, key)
        let options = allowed.map(\.rawValue)
        guard let s = node.scalar?.string, let value = T(rawValue: s), allowed.contains(value) else {
            throw error(node, key, "expected one of \(options.joined(separator: ", ")), got \(describe(node))")
        }
        return value
    }

    private func describe(_ node: Node) -> String {
        if let s = node.scalar?.string { return s.isEmpty ? "nothing" : "'\(s)'" }
        return node.mapping != nil ? "a mapping" : "a list"
    }
}
