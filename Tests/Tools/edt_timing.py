#!/usr/bin/env python3
"""Times the Python package edt (unsigned anisotropic EDT) on a raw mask, for mam-bench.

    edt_timing.py MASK.u8 NX NY NZ SX SY SZ REPEATS

MASK.u8 holds NX*NY*NZ bytes (0/1), x fastest. Prints the median time in seconds of
edt.edt(mask, anisotropy=(SX, SY, SZ), parallel=1) over REPEATS runs (after one warm-up).
"""
import sys
import time

import edt
import numpy as np

path, nx, ny, nz, sx, sy, sz, repeats = sys.argv[1:9]
mask = np.fromfile(path, dtype=np.uint8).reshape((int(nx), int(ny), int(nz)), order="F")
anisotropy = (float(sx), float(sy), float(sz))
edt.edt(mask, anisotropy=anisotropy, parallel=1)
times = []
for _ in range(int(repeats)):
    start = time.perf_counter()
    edt.edt(mask, anisotropy=anisotropy, parallel=1)
    times.append(time.perf_counter() - start)
print(f"{sorted(times)[len(times) // 2]:.6f}")
