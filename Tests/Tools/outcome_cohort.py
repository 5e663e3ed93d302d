"""A simulated trial for `mam-quantify outcomes`: case results (report.json files cloned from a
real report, each tumour given a simulated MAM and the figures that go with it), a follow-up
table where local tumour progression (LTP) depends on the MAM by a known hazard ratio, and the
reference figures of the analysis from lifelines, statsmodels, scipy and scikit-learn.

    outcome_cohort.py TEMPLATE_REPORT OUT SCENARIO [--tumours N] [--seed S]

SCENARIO: normal (N tumours in N/2 patients, hazard ratio 0.75 per mm, death competing, a
covariate `age`, two follow-up rows matching no tumour, one duplicated row), ties (times rounded
to whole months), no-events, all-events, one-patient (every tumour in one patient), empty-category
(no tumour below 0 mm), rossi (lifelines' Rossi recidivism data adapted to the table: 432
"tumours" in patients of three, time = week, LTP = arrest, the MAM = 6 - prio / 2 mm, age as
covariate), by-label (normal, the follow-up naming tumours by label value). Writes OUT/results/CASE/report.json and OUT/follow_up.csv; prints JSON with
the reference figures (the bootstrap by the documented SplitMix64 scheme, 1000 resamples, seed
2026).
"""
import copy
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd

warnings.simplefilter("ignore")
template_path, out, scenario = sys.argv[1:4]
args = sys.argv[4:]
# by-label: the normal trial with each tumour given label value 10 + its number, and the
# follow-up naming tumours by label.
by_label = scenario == "by-label"
scenario = "normal" if by_label else scenario
n_tumours = int(args[args.index("--tumours") + 1]) if "--tumours" in args else 300
seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 7
template = json.load(open(template_path))
rng = np.random.default_rng(seed)
HORIZON = 24.0

cutoffs = template["protocol"]["categoryCutoffsMM"]
names = template["protocol"]["categories"]


def category(mam):
    index = sum(mam >= c for c in cutoffs)
    return {"index": index + 1, "name": names[index]}


if scenario == "rossi":
    from lifelines.datasets import load_rossi
    rossi = load_rossi()
    n_tumours = len(rossi)
# Tumours: MAM ~ N(3, 3) mm (N(6, 1) for empty-category: none below 0 mm); the other figures
# follow the MAM with noise, as they do in real cohorts.
patients = 1 if scenario == "one-patient" else (n_tumours + 2) // 3 if scenario == "rossi" else max(1, n_tumours // 2)
tumours = []
for n in range(n_tumours):
    patient = 0 if patients == 1 else n // 3 if scenario == "rossi" else (n * 7919) % patients
    mam = rng.normal(6, 1) if scenario == "empty-category" else 6 - rossi.prio[n] / 2 if scenario == "rossi" else rng.normal(3, 3)
    mam = round(float(mam), 3)
    below = round(float(np.clip(0.3 - 0.08 * mam + rng.normal(0, 0.05), 0, 1)), 4)
    shell = round(float(np.clip(0.6 + 0.07 * mam + rng.normal(0, 0.08), 0, 1)), 4)
    residual = round(float(max(0.0, 0.8 - 0.2 * mam + rng.normal(0, 0.3))), 3)
    tumours.append({"patient": patient, "mam": mam, "below": below, "shell": shell, "residual": residual})

# Results: one case per patient and group of at most three tumours.
cases = {}
for t in tumours:
    key = t["patient"]
    bucket = cases.setdefault(key, [[]])
    if len(bucket[-1]) == 3:
        bucket.append([])
    bucket[-1].append(t)
results = os.path.join(out, "results")
for patient, groups in sorted(cases.items()):
    for g, group in enumerate(groups):
        case_id = f"p{patient:04d}-{g}"
        report = copy.deepcopy(template)
        report["caseId"] = case_id
        base = template["tumours"][0]
        report["tumours"] = []
        for number, t in enumerate(group, start=1):
            entry = copy.deepcopy(base)
            entry["number"] = number
            entry["label"] = 10 + number if by_label else None
            entry["minimalMarginMM"] = t["mam"]
            entry["category"] = category(t["mam"])
            entry["surface"]["fractionBelowZero"] = t["below"]
            entry["shells"][0]["fractionAblated"] = t["shell"]
            entry["residualVolumeML"] = t["residual"]
            report["tumours"].append(entry)
            t["case"], t["number"] = case_id, number
        os.makedirs(os.path.join(results, case_id), exist_ok=True)
        json.dump(report, open(os.path.join(results, case_id, "report.json"), "w"))

# Follow-up: LTP hazard 0.02/month x 0.75^MAM, death 0.008/month, censoring over 6-60 months.
for t in tumours:
    ltp = rng.exponential(1 / (0.02 * 0.75 ** t["mam"]))
    death = rng.exponential(1 / 0.008)
    censor = rng.uniform(6, 60)
    if scenario == "no-events":
        ltp = death = np.inf
    if scenario == "all-events":
        death, censor = np.inf, np.inf
    time = min(ltp, death, censor)
    t["time"] = round(time, 4) if scenario != "ties" else float(max(1, round(time)))
    t["ltp"] = int(time == ltp)
    t["competing"] = int(time == death and not t["ltp"])
    t["age"] = int(rng.integers(40, 86))
for n, t in enumerate(tumours if scenario == "rossi" else []):
    t["time"], t["ltp"], t["competing"], t["age"] = float(rossi.week[n]), int(rossi.arrest[n]), 0, int(rossi.age[n])
with open(os.path.join(out, "follow_up.csv"), "w") as f:
    f.write(f"patient_id,case_id,{'label' if by_label else 'tumour'},time_months,ltp,competing,age\n")
    shift = 10 if by_label else 0
    for t in tumours:
        f.write(f"P{t['patient']},{t['case']},{t['number'] + shift},{t['time']},{t['ltp']},{t['competing']},{t['age']}\n")
    if scenario == "normal":
        f.write("P9999,p9999-0,1,12,0,0,50\n")  # no such case
        f.write(f"P{tumours[0]['patient']},{tumours[0]['case']},{9 + shift},12,0,0,50\n")  # no such tumour
        dup = tumours[1]
        f.write(f"P{dup['patient']},{dup['case']},{dup['number'] + shift},5,1,0,50\n")  # a second row for one tumour
if scenario == "normal":
    tumours = [t for t in tumours if t is not tumours[1]]  # the duplicated tumour is left out

# References.
from lifelines import AalenJohansenFitter, CoxPHFitter, KaplanMeierFitter  # noqa: E402
from lifelines.statistics import multivariate_logrank_test, proportional_hazard_test  # noqa: E402
from lifelines.utils import concordance_index  # noqa: E402
from scipy.stats import binomtest  # noqa: E402
from sklearn.metrics import roc_auc_score, roc_curve  # noqa: E402
from statsmodels.discrete.discrete_model import Logit  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from bootstrap_reference import auc_interval  # noqa: E402

# In the results' order (case id, tumour number), as mam-quantify joins them: with tied times,
# lifelines' score residuals (the cluster-robust errors) and the ranks of its proportional-hazards
# test depend on the order of the tied rows.
df = pd.DataFrame(tumours).sort_values(["case", "number"], kind="stable").reset_index(drop=True)
df["cluster"] = [f"P{p}" for p in df.patient]  # patient ids as text: the bootstrap draws patients in their text order
df["category"] = [category(m)["name"] for m in df.mam]
reference = {"tumours": len(df), "patients": int(df.patient.nunique()), "ltp": int(df.ltp.sum()), "rates": [], "figures": {}}
for name in names + ["all"]:
    sub = df if name == "all" else df[df.category == name]
    k, n = int(sub.ltp.sum()), len(sub)
    entry = {"group": name, "tumours": n, "ltp": k}
    if n:
        lo, hi = proportion_confint(k, n, alpha=0.05, method="beta")
        entry.update(rate=k / n, lower95=float(lo), upper95=float(hi))
    reference["rates"].append(entry)
target = template["protocol"]["targetMarginMM"]
qual = df[df.mam >= target]
reference["hypothesisP"] = float(binomtest(int(qual.ltp.sum()), len(qual), 0.1, alternative="less").pvalue) if len(qual) else None
reference["km"] = {}
for name in names:
    sub = df[df.category == name]
    if len(sub):
        km = KaplanMeierFitter().fit(sub.time, sub.ltp)
        ci = km.confidence_interval_survival_function_
        reference["km"][name] = {"times": km.survival_function_.index.tolist(), "survival": km.survival_function_.iloc[:, 0].tolist(),
                                 "lower": ci.iloc[:, 0].tolist(), "upper": ci.iloc[:, 1].tolist()}
groups = df[df.category.isin([n for n in names if (df.category == n).any()])]
reference["logrank"] = float(multivariate_logrank_test(groups.time, groups.category, groups.ltp).test_statistic) \
    if groups.category.nunique() >= 2 and groups.ltp.any() else None
if df.competing.any() or df.ltp.any():
    causes = np.where(df.ltp == 1, 1, np.where(df.competing == 1, 2, 0))
    if scenario in ("normal", "empty-category") and df.ltp.any():
        aj = AalenJohansenFitter(calculate_variance=True).fit(df.time, causes, event_of_interest=1)
        reference["aj"] = {"times": aj.cumulative_density_.index.tolist(), "incidence": aj.cumulative_density_.iloc[:, 0].tolist()}


horizon = df[(df.ltp == 1) | (df.time >= HORIZON)]
horizon_outcome = ((horizon.ltp == 1) & (horizon.time <= HORIZON)).astype(int).values
for key, column, better in [("mam", "mam", True), ("surface_below_0mm", "below", False), ("first_shell_ablated", "shell", True),
                            ("residual_volume", "residual", False)]:
    fig = {}
    if df.ltp.any() and df[column].std() > 0:
        columns = ["time", "ltp", column] + (["cluster"] if df.patient.nunique() > 1 else [])
        cph = CoxPHFitter().fit(df[columns], "time", "ltp", cluster_col="cluster" if df.patient.nunique() > 1 else None,
                                fit_options={"precision": 1e-12})
        s = cph.summary.loc[column]
        ph = proportional_hazard_test(cph, df[columns], time_transform="rank").summary.loc[column]
        fig["cox"] = {"hr": float(s["exp(coef)"]), "lower": float(s["exp(coef) lower 95%"]), "upper": float(s["exp(coef) upper 95%"]),
                      "p": float(s["p"]), "phP": float(ph["p"])}
        fig["concordance"] = float(concordance_index(df.time, df[column] if better else -df[column], df.ltp))
    if 0 < horizon_outcome.sum() < len(horizon_outcome) and horizon[column].std() > 0:  # a constant figure: none
        model = Logit(horizon_outcome.astype(float), np.column_stack([np.ones(len(horizon)), horizon[column].values])).fit(
            disp=0, method="newton", tol=1e-12, maxiter=100)
        ci = model.conf_int()
        fig["logistic"] = {"or": float(np.exp(model.params[1])), "lower": float(np.exp(ci[1, 0])), "upper": float(np.exp(ci[1, 1])),
                           "p": float(model.pvalues[1])}
        risk = -horizon[column].values if better else horizon[column].values
        fpr, tpr, thresholds = roc_curve(horizon_outcome, risk)
        j = tpr - fpr
        best = int(np.flatnonzero(j == j.max())[0])
        fig["roc"] = {"auc": float(roc_auc_score(horizon_outcome, risk)), "cutoff": float(-thresholds[best] if better else thresholds[best]),
                      "bootstrap": auc_interval(risk.tolist(), horizon_outcome.tolist(), horizon.cluster.tolist(), 1000, 2026)}
    reference["figures"][key] = fig
if scenario == "normal":
    adjusted = CoxPHFitter().fit(df[["time", "ltp", "mam", "age", "cluster"]], "time", "ltp", cluster_col="cluster",
                                 fit_options={"precision": 1e-12}).summary.loc[["mam", "age"]]
    reference["adjusted"] = {"hr": adjusted["exp(coef)"].tolist(), "lower": adjusted["exp(coef) lower 95%"].tolist(),
                             "upper": adjusted["exp(coef) upper 95%"].tolist()}
json.dump(reference, sys.stdout)
