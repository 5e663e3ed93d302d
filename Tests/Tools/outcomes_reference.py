"""Reference figures for the outcome statistics, from established implementations: lifelines
(Kaplan-Meier with its log-log Greenwood interval, the log-rank test, Aalen-Johansen, Cox
regression with cluster-robust errors, the proportional-hazards test, the concordance index),
statsmodels (logistic regression, Clopper-Pearson), scipy (the exact binomial test) and
scikit-learn (ROC area, Youden's cut-off).

    outcomes_reference.py OUT.json

Data sets: lifelines' Rossi recidivism data (432 subjects, weekly times with many ties; clusters
of three consecutive subjects stand in for patients), and a simulated cohort of 600 tumours in
300 patients whose hazard of local progression falls by a known factor per mm of margin
(hazard ratio 0.75 per mm), with death as a competing event. Writes JSON: each data set's
columns and every reference figure.
"""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter
from lifelines.datasets import load_rossi
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test
from lifelines.utils import concordance_index
from scipy.stats import binomtest
from sklearn.metrics import roc_auc_score, roc_curve
from statsmodels.discrete.discrete_model import Logit
from statsmodels.stats.proportion import proportion_confint

sys.path.insert(0, os.path.dirname(__file__))
from bootstrap_reference import auc_interval  # noqa: E402

warnings.simplefilter("ignore")
out = {}


def km_reference(t, e):
    km = KaplanMeierFitter().fit(t, e)
    ci = km.confidence_interval_survival_function_
    return {"times": [float(v) for v in km.survival_function_.index], "survival": [float(v) for v in km.survival_function_.iloc[:, 0]],
            "lower": [float(v) for v in ci.iloc[:, 0]], "upper": [float(v) for v in ci.iloc[:, 1]]}


def cox_reference(df, covariates, cluster=None):
    # lifelines' default precision (1e-7 on the step) can stop ~5e-6 short of the maximum on the
    # simulated data (statsmodels' PHReg agrees with the converged value): converge fully.
    cph = CoxPHFitter()
    cph.fit(df[["time", "event"] + covariates + ([cluster] if cluster else [])], "time", "event", cluster_col=cluster,
            fit_options={"precision": 1e-12})
    s = cph.summary.loc[covariates]
    ph = proportional_hazard_test(cph, df[["time", "event"] + covariates + ([cluster] if cluster else [])], time_transform="rank")
    ph_summary = ph.summary.loc[covariates]  # lifelines sorts the test's rows by name
    return {"covariates": covariates, "robust": cluster is not None,
            "beta": [float(v) for v in s["coef"]], "se": [float(v) for v in s["se(coef)"]],
            "lower": [float(v) for v in s["coef lower 95%"]], "upper": [float(v) for v in s["coef upper 95%"]],
            "p": [float(v) for v in s["p"]], "logLikelihood": float(cph.log_likelihood_),
            "phStatistic": [float(v) for v in ph_summary["test_statistic"]], "phP": [float(v) for v in ph_summary["p"]]}


def classification_reference(scores, outcomes, clusters):
    fpr, tpr, thresholds = roc_curve(outcomes, scores)
    j = tpr - fpr
    best = int(np.flatnonzero(j == j.max())[0])  # the highest threshold among the best
    return {"auc": float(roc_auc_score(outcomes, scores)), "youdenThreshold": float(thresholds[best]),
            "youdenTPR": float(tpr[best]), "youdenFPR": float(fpr[best]),
            "bootstrap": auc_interval(scores, outcomes, clusters, 200, 2026)}


def logit_reference(y, X):
    model = Logit(np.asarray(y, float), np.column_stack([np.ones(len(y)), X])).fit(disp=0, method="newton", tol=1e-12, maxiter=100)
    ci = model.conf_int()
    return {"beta": [float(v) for v in model.params], "se": [float(v) for v in model.bse], "lower": [float(v) for v in ci[:, 0]],
            "upper": [float(v) for v in ci[:, 1]], "p": [float(v) for v in model.pvalues], "logLikelihood": float(model.llf)}


# Rossi: time = week, event = arrest; clusters of three.
rossi = load_rossi()
rossi = rossi.rename(columns={"week": "time", "arrest": "event"})
rossi["cluster"] = np.arange(len(rossi)) // 3
groups = [rossi[rossi.fin == g] for g in (0, 1)]
out["rossi"] = {
    "time": rossi.time.astype(float).tolist(), "event": rossi.event.astype(int).tolist(), "cluster": rossi.cluster.tolist(),
    "fin": rossi.fin.astype(float).tolist(), "age": rossi.age.astype(float).tolist(), "prio": rossi.prio.astype(float).tolist(),
    "km": [km_reference(g.time, g.event) for g in groups],
    "logrank": float(multivariate_logrank_test(rossi.time, rossi.fin, rossi.event).test_statistic),
    "logrank3": float(multivariate_logrank_test(rossi.time, np.minimum(rossi.prio, 2), rossi.event).test_statistic),
    "coxSingle": cox_reference(rossi, ["prio"], "cluster"),
    "coxMulti": cox_reference(rossi, ["fin", "age", "prio"], "cluster"),
    "coxModel": cox_reference(rossi, ["fin", "age", "prio"]),
    "concordance": float(concordance_index(rossi.time, -rossi.prio, rossi.event)),
    "logit": logit_reference(rossi.event, rossi[["fin", "age", "prio"]].values),
    "classification": classification_reference(rossi.prio.tolist(), rossi.event.tolist(), rossi.cluster.tolist()),
}

# Simulated: 300 patients, 1-3 tumours each; MAM ~ N(4, 3) mm; LTP hazard 0.02/month x 0.75^MAM;
# death hazard 0.01/month; follow-up censored uniformly over 6-60 months. Continuous times: no ties.
rng = np.random.default_rng(2026)
rows = []
for patient in range(300):
    for _ in range(rng.integers(1, 4)):
        mam = rng.normal(4, 3)
        ltp = rng.exponential(1 / (0.02 * 0.75 ** mam))
        death = rng.exponential(1 / 0.01)
        censor = rng.uniform(6, 60)
        t = min(ltp, death, censor)
        cause = 1 if t == ltp else (2 if t == death else 0)
        rows.append((patient, mam, t, cause))
sim = pd.DataFrame(rows, columns=["cluster", "mam", "time", "cause"])
sim["event"] = (sim.cause == 1).astype(int)
aj = AalenJohansenFitter(calculate_variance=True).fit(sim.time, sim.cause, event_of_interest=1)
aj_ci = aj.confidence_interval_
horizon = sim[(sim.time >= 24) | (sim.event == 1)]
out["simulated"] = {
    "time": sim.time.tolist(), "cause": sim.cause.tolist(), "cluster": sim.cluster.tolist(), "mam": sim.mam.tolist(),
    "trueLogHazardRatio": float(np.log(0.75)),
    "cox": cox_reference(sim, ["mam"], "cluster"),
    "aj": {"times": [float(v) for v in aj.cumulative_density_.index], "incidence": [float(v) for v in aj.cumulative_density_.iloc[:, 0]],
           # No interval where F = 0 (NaN in lifelines): null.
           "lower": [None if np.isnan(v) else float(v) for v in aj_ci.min(axis=1, skipna=False)],
           "upper": [None if np.isnan(v) else float(v) for v in aj_ci.max(axis=1, skipna=False)]},
    "km": [km_reference(sim.time[sim.mam >= 2], sim.event[sim.mam >= 2]), km_reference(sim.time[sim.mam < 2], sim.event[sim.mam < 2])],
    "concordance": float(concordance_index(sim.time, sim.mam, sim.event)),
    # LTP by 24 months among tumours followed that long or progressing before.
    "horizonIndex": horizon.index.tolist(),
    "logit": logit_reference(horizon.event, horizon[["mam"]].values),
    "classification": classification_reference((-horizon.mam).tolist(), horizon.event.tolist(), horizon.cluster.tolist()),
}

# Exact binomial: LTP in k of n tumours with MAM >= 2 mm, against 10%.
out["binomial"] = []
for k, n in [(0, 40), (2, 40), (4, 40), (9, 60), (40, 40), (1, 1)]:
    lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
    out["binomial"].append({"k": k, "n": n, "lower": float(lo), "upper": float(hi),
                            "pLess": float(binomtest(k, n, 0.1, alternative="less").pvalue)})

json.dump(out, open(sys.argv[1], "w"))
