"""The patient bootstrap of a ROC area exactly as mam-quantify draws it (Docs/outcomes.md), for
the cross-checks: SplitMix64 from the seed; each resample draws as many patients as there are,
patient floor(u n) with u = (next >> 11) 2^-53 from the patients in sorted order; resamples
without both outcomes skipped; scikit-learn's AUC; numpy's default percentiles."""
import numpy as np
from sklearn.metrics import roc_auc_score

MASK = (1 << 64) - 1


def auc_interval(scores, outcomes, clusters, resamples, seed):
    """The 2.5th and 97.5th percentiles of the resampled areas (None with fewer than two)."""
    state = seed
    ids = sorted(set(clusters))
    members = {c: [i for i, k in enumerate(clusters) if k == c] for c in ids}
    areas = []
    for _ in range(resamples):
        rows = []
        for _ in range(len(ids)):
            state = (state + 0x9E3779B97F4A7C15) & MASK
            z = state
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
            z = z ^ (z >> 31)
            rows += members[ids[int(((z >> 11) * 2.0 ** -53) * len(ids))]]
        o = np.asarray(outcomes)[rows]
        if o.min() != o.max():
            areas.append(roc_auc_score(o, np.asarray(scores)[rows]))
    return [float(np.percentile(areas, 2.5)), float(np.percentile(areas, 97.5))] if len(areas) >= 2 else None
