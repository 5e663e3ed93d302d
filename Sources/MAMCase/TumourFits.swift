import MAMCore
import MAMMargin
import MAMRegistration

/// The transforms a case's tumours are measured with: the whole-liver fit refined around each
/// tumour (when the protocol asks for it and ICP ran), which one each tumour's margins use,
/// and the alternatives its uncertainty varies over (Docs/uncertainty.md).
struct TumourFits {
    /// The whole-liver fit, or the given transform when no ICP ran.
    let global: Affine3D
    /// One local fit per tumour; empty without.
    let local: [LocalEnsemble]
    let useLocal: Bool
    let centroids: [SIMD3<Double>]
    /// Whether ICP ran.
    let registered: Bool
    /// Per tumour, the transform its margins use.
    let used: [Affine3D]

    init(registration: RegistrationResult?, local settings: AnalysisProtocol.LocalRegistration?, given: Affine3D,
         centroids: [SIMD3<Double>]) {
        global = registration?.preToPost ?? given
        registered = registration != nil
        self.centroids = centroids
        if let registration, let settings {
            // One tumour per core (each fit's seed is its tumour's: the same fits on any number of cores).
            local = concurrentMap(Array(centroids.enumerated())) { n, c in
                registration.surfaces.localEnsemble(registration.preToPost, around: c, settings: settings.settings,
                                                    seed: UInt64(n + 1))
            }
            useLocal = settings.useForMargins
        } else {
            local = []
            useLocal = false
        }
        used = local.isEmpty ? centroids.map { [global] _ in global } : local.map { [global, useLocal] in useLocal ? $0.fit.preToPost : global }
    }


    /// Per tumour, the fit not used (for the report's comparison); only with local fits.
    var other: [Affine3D] { local.map { useLocal ? global : $0.fit.preToPost } }

    /// How far apart the local and whole-liver fits place tumour `n`'s centre (mm).
    func displacement(tumour n: Int) -> Double? {
        local.isEmpty ? nil : length(local[n].fit.preToPost.apply(centroids[n]) - global.apply(centroids[n]))
    }

    /// Tumour `n`'s MAM uncertainty: over its local ensemble (and the fit's covariance when the
    /// local fit is used); without local fits, the boundary part and the floor only.
    func uncertainty(_ prepared: PreparedCase, tumour n: Int) -> MarginUncertainty? {
        var settings = UncertaintySettings()
        settings.seed = UInt64(n + 1)
        guard !local.isEmpty else {
            return prepared.uncertainty(tumour: n, preToPost: global, alternatives: [], settings: settings)
        }
        let e = local[n]
        let alternatives = useLocal ? e.alternatives : [e.fit.preToPost] + e.alternatives.dropFirst()
        return prepared.uncertainty(tumour: n, preToPost: used[n], alternatives: alternatives,
                                    fitCovarianceColumns: useLocal ? e.fit.covarianceColumns : [], settings: settings)
    }
}

/// What the report says about one tumour's registration and uncertainty.
struct TumourFindings {
    let transformUsed: String
    let localPreToPost: Affine3D?
    let globalMAM: Double?
    let localMAM: Double?
    let displacementMM: Double?
    let uncertainty: MarginUncertainty?
    let includesRegistration: Bool

    init(fits: TumourFits, tumour n: Int, usedMAM: Double?, otherMAM: Double?, uncertainty: MarginUncertainty?) {
        self.uncertainty = uncertainty
        includesRegistration = !fits.local.isEmpty
        displacementMM = fits.displacement(tumour: n)
        guard !fits.local.isEmpty else {
            transformUsed = fits.registered ? "global" : "given"
            localPreToPost = nil
            (globalMAM, localMAM) = (nil, nil)
            return
        }
        transformUsed = fits.useLocal ? "local" : "global"
        localPreToPost = fits.local[n].fit.preToPost
        (globalMAM, localMAM) = fits.useLocal ? (otherMAM, usedMAM) : (usedMAM, otherMAM)
    }
}
