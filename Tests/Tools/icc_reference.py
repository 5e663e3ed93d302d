"""ICC(2,1) and ICC(3,1) with confidence intervals, coded from Shrout and Fleiss (1979) and
McGraw and Wong (1996) with scipy's F quantiles: an independent implementation for the tests.

Usage: icc_reference.py RATINGS.json   (a list of rows: targets x raters)
Prints JSON: icc21, icc21_lower, icc21_upper, icc31, icc31_lower, icc31_upper.
"""
import json
import sys

import numpy as np
from scipy import stats

with open(sys.argv[1]) as f:
    x = np.array(json.load(f), dtype=float)
n, k = x.shape
grand = x.mean()
ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
q = 0.975

icc3 = (msr - mse) / (msr + (k - 1) * mse)
f0 = msr / mse
fl = f0 / stats.f.ppf(q, n - 1, (n - 1) * (k - 1))
fu = f0 * stats.f.ppf(q, (n - 1) * (k - 1), n - 1)

icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
fj = msc / mse
vn = (k - 1) * (n - 1) * (k * icc2 * fj + n * (1 + (k - 1) * icc2) - k * icc2) ** 2
vd = (n - 1) * k ** 2 * icc2 ** 2 * fj ** 2 + (n * (1 + (k - 1) * icc2) - k * icc2) ** 2
v = vn / vd
f_star = stats.f.ppf(q, n - 1, v)
f_star2 = stats.f.ppf(q, v, n - 1)
lower2 = n * (msr - f_star * mse) / (f_star * (k * msc + (k * n - k - n) * mse) + n * msr)
upper2 = n * (f_star2 * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_star2 * msr)
print(json.dumps({"icc21": icc2, "icc21_lower": lower2, "icc21_upper": upper2,
                  "icc31": icc3, "icc31_lower": (fl - 1) / (fl + k - 1), "icc31_upper": (fu - 1) / (fu + k - 1)}))
