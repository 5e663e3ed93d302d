/// The protocols that come with mam-quantify, by name. Protocols/ in the repository holds the
/// same texts as files (`mam-quantify protocols --write Protocols` writes them; a test checks
/// they are identical), for researchers to read and copy.
extension AnalysisProtocol {
    /// The protocol used when none is named.
    public static let defaultName = "iamcomplete"

    /// Names and texts, in the order `mam-quantify protocols` lists them.
    public static let builtInTexts: [(name: String, text: String)] = [
        ("iamcomplete", iamcompleteText),
        ("prometheus", prometheusText),
    ]

    /// A built-in protocol by name, or nil.
    public static func builtIn(_ name: String) -> AnalysisProtocol? {
        guard let text = builtInTexts.first(where: { $0.name == name })?.text else { return nil }
        do {
            return try AnalysisProtocol(yaml: text, source: "built-in")
        } catch {
            preconditionFailure("the built-in protocol \(name) does not parse: \(error)")
        }
    }

    /// A protocol named on the command line: a built-in name, or a file path.
    public static func resolve(_ nameOrPath: String) throws(ProtocolError) -> AnalysisProtocol {
        if let builtIn = builtIn(nameOrPath) { return builtIn }
        let looksLikeFile = nameOrPath.contains("/") || nameOrPath.hasSuffix(".yaml") || nameOrPath.hasSuffix(".yml")
            || nameOrPath.hasSuffix(".json")
        guard looksLikeFile else {
            let names = builtInTexts.map(\.name).joined(separator: ", ")
            throw ProtocolError(source: nameOrPath, line: nil, key: nil,
                                reason: "no built-in protocol has this name (built in: \(names); or give a file path)")
        }
        return try AnalysisProtocol(contentsOfFile: nameOrPath)
    }

    static let iamcompleteText = """
        # mam-quantify analysis protocol: IAMCOMPLETE style (rigid liver registration, 5 mm target).
        # To adapt it: copy this file, edit it, and run mam-quantify with --protocol FILE.
        # Every key is required; unknown keys and bad values are refused with the line and the reason.
        # Lengths are in millimetres (keys ending in _mm). Docs/protocols.md explains each key.
        name: iamcomplete
        version: "3"
        description: Rigid liver registration (ICP); margin target 5 mm; categories < 0, 0 to < 5, >= 5 mm.

        labels:
          # Label values of the label maps. Tumour and ablation-zone voxels count as liver too.
          # Names select segments in files that name them (3D Slicer's .seg.nrrd, any case);
          # when none of a file's segments has one of them, the values apply.
          pre:
            liver: [1, "liver"]
            tumour: [2, "tumour", "tumor"]
          post:
            liver: [1, "liver"]
            ablation_zone: [2, "ablation zone", "ablation", "zone"]

        # How tumours are told apart: components (26-connected parts of the tumour labels)
        # or labels (one tumour per tumour label value).
        tumours: components

        margin:
          target_mm: 5                  # the margin the ablation should reach
          category_cutoffs_mm: [0, 5]   # categories: < 0, 0 to < 5, >= 5 mm
          shells_mm: [5, 10]            # peri-tumoural shells whose ablated fraction is reported
          capsule_exclusion_mm: null    # e.g. 2: also report margins without the surface within 2 mm of the capsule
          fill_ablation_holes: true     # gas or a closed needle track inside the zone counts as ablated
          histogram_bin_mm: 1
          min_component_ml: 0.02        # smaller parts of the zone and tumour components are specks: set aside with a warning
          uncertainty: true             # a 95% interval of each MAM and P(MAM >= target) (Docs/uncertainty.md)

        registration:
          method: rigid-icp             # rigid-icp, or none when the masks are co-registered already
          surface_sampling_mm:
            pre: 2.0                    # moving surface (pre-ablation liver)
            post: 1.25                  # fixed surface (post-ablation liver)
          trim_fraction: 0.7            # share of closest point pairs used per iteration
          max_iterations: 150
          tolerance_mm: 0.001           # stop when an iteration moves the surface less than this
          max_liver_volume_ratio: 2     # livers differing by more than this factor are not matched
          inlier_distance_mm: 3
          border_exclusion_mm: 5        # surface this close to where a scan's field of view cuts the liver is neither fitted nor measured
          local_refinement:             # a rigid fit of the liver surface near each tumour (Docs/registration.md)
            sigma_mm: 30                # width of the Gaussian weighting surface by its distance to the tumour; null: no local fit
            use_for_margins: true       # measure each tumour's margins with its local fit (false: the whole-liver fit)
            warning_mm: 1               # warn when the two fits place the tumour centre further apart than this
          acceptance:                   # the registration is rejected unless all four hold
            min_liver_dice: 0.85
            max_mean_surface_distance_mm: 2
            max_surface_distance_95_mm: 5
            min_inlier_fraction: 0.7

        outputs:
          margin_maps: tumour-region    # tumour-region, whole-grid or none
          transform: true               # pre_to_post.tfm (ITK transform file)
          qc_page: true                 # qc.html, the case's page for a visual check (Docs/qc.md)
          qc_window_level_hu: 60        # grey-level window of scans drawn under its outlines (a liver window)
          qc_window_width_hu: 200

        files:                          # a case's files in its folder (batch mode; * and ? match any text / character, | separates alternatives)
          pre: "pre.nii*|pre.nrrd|pre.seg.nrrd|pre.mha|pre.dcm"     # pre-ablation label map (liver and tumour) ...
          post: "post.nii*|post.nrrd|post.seg.nrrd|post.mha|post.dcm" # ... and post-ablation label map (liver and ablation zone)
          pre_liver: "pre_liver.nii*"   # or one mask per structure
          pre_tumour: "pre_tumour.nii*"
          post_liver: "post_liver.nii*"
          post_ablation_zone: "post_ablation_zone.nii*"
          pre_image: "pre_ct.nii*"      # optional scans drawn under the QC page's outlines
          post_image: "post_ct.nii*"

        """

    // Repeats much of the iamcomplete text on purpose: each protocol is a complete file for
    // users to copy and edit.
    static let prometheusText = """
        # mam-quantify analysis protocol: PROMETHEUS style (rigid liver registration, 2 mm target,
        # the trial's hypothesis: local recurrence below 10% when the MAM is at least 2 mm).
        # To adapt it: copy this file, edit it, and run mam-quantify with --protocol FILE.
        # Every key is required; unknown keys and bad values are refused with the line and the reason.
        # Lengths are in millimetres (keys ending in _mm). Docs/protocols.md explains each key.
        name: prometheus
        version: "3"
        description: Rigid liver registration (ICP); margin target 2 mm; categories < 0, 0 to < 2, 2 to < 5, >= 5 mm.

        labels:
          # Label values of the label maps. Tumour and ablation-zone voxels count as liver too.
          # Names select segments in files that name them (3D Slicer's .seg.nrrd, any case);
          # when none of a file's segments has one of them, the values apply.
          pre:
            liver: [1, "liver"]
            tumour: [2, "tumour", "tumor"]
          post:
            liver: [1, "liver"]
            ablation_zone: [2, "ablation zone", "ablation", "zone"]

        # How tumours are told apart: components (26-connected parts of the tumour labels)
        # or labels (one tumour per tumour label value).
        tumours: components

        margin:
          target_mm: 2                  # the margin the ablation should reach
          category_cutoffs_mm: [0, 2, 5]  # categories: < 0, 0 to < 2, 2 to < 5, >= 5 mm
          shells_mm: [2, 5, 10]         # peri-tumoural shells whose ablated fraction is reported
          capsule_exclusion_mm: null    # e.g. 2: also report margins without the surface within 2 mm of the capsule
          fill_ablation_holes: true     # gas or a closed needle track inside the zone counts as ablated
          histogram_bin_mm: 1
          min_component_ml: 0.02        # smaller parts of the zone and tumour components are specks: set aside with a warning
          uncertainty: true             # a 95% interval of each MAM and P(MAM >= target) (Docs/uncertainty.md)

        registration:
          method: rigid-icp             # rigid-icp, or none when the masks are co-registered already
          surface_sampling_mm:
            pre: 2.0                    # moving surface (pre-ablation liver)
            post: 1.25                  # fixed surface (post-ablation liver)
          trim_fraction: 0.7            # share of closest point pairs used per iteration
          max_iterations: 150
          tolerance_mm: 0.001           # stop when an iteration moves the surface less than this
          max_liver_volume_ratio: 2     # livers differing by more than this factor are not matched
          inlier_distance_mm: 3
          border_exclusion_mm: 5        # surface this close to where a scan's field of view cuts the liver is neither fitted nor measured
          local_refinement:             # a rigid fit of the liver surface near each tumour (Docs/registration.md)
            sigma_mm: 30                # width of the Gaussian weighting surface by its distance to the tumour; null: no local fit
            use_for_margins: true       # measure each tumour's margins with its local fit (false: the whole-liver fit)
            warning_mm: 1               # warn when the two fits place the tumour centre further apart than this
          acceptance:                   # the registration is rejected unless all four hold
            min_liver_dice: 0.85
            max_mean_surface_distance_mm: 2
            max_surface_distance_95_mm: 5
            min_inlier_fraction: 0.7

        outputs:
          margin_maps: tumour-region    # tumour-region, whole-grid or none
          transform: true               # pre_to_post.tfm (ITK transform file)
          qc_page: true                 # qc.html, the case's page for a visual check (Docs/qc.md)
          qc_window_level_hu: 60        # grey-level window of scans drawn under its outlines (a liver window)
          qc_window_width_hu: 200

        files:                          # a case's files in its folder (batch mode; * and ? match any text / character, | separates alternatives)
          pre: "pre.nii*|pre.nrrd|pre.seg.nrrd|pre.mha|pre.dcm"     # pre-ablation label map (liver and tumour) ...
          post: "post.nii*|post.nrrd|post.seg.nrrd|post.mha|post.dcm" # ... and post-ablation label map (liver and ablation zone)
          pre_liver: "pre_liver.nii*"   # or one mask per structure
          pre_tumour: "pre_tumour.nii*"
          post_liver: "post_liver.nii*"
          post_ablation_zone: "post_ablation_zone.nii*"
          pre_image: "pre_ct.nii*"      # optional scans drawn under the QC page's outlines
          post_image: "post_ct.nii*"

        """
}
