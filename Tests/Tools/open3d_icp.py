#!/usr/bin/env python3
"""Times Open3D's point-to-plane ICP on point clouds written by mam-bench.

    open3d_icp.py SOURCE.f64 TARGET.f64 INIT.json REPEATS

SOURCE/TARGET hold x, y, z triples as little-endian float64 (mm). INIT.json holds the 4 x 4
starting transform (row-major list of lists). Target normals are estimated by Open3D (hybrid
search, radius 2.5 mm, at most 30 neighbours), then point-to-plane ICP runs with a 5 mm
correspondence distance. Prints JSON: median seconds (normals + ICP) over REPEATS runs after
one warm-up, and the resulting 4 x 4 transform.
"""
import json
import sys
import time

import numpy as np
import open3d as o3d


def cloud(path):
    points = np.fromfile(path, dtype="<f8").reshape(-1, 3)
    c = o3d.geometry.PointCloud()
    c.points = o3d.utility.Vector3dVector(points)
    return c


source_path, target_path, init_path, repeats = sys.argv[1:5]
init = np.array(json.load(open(init_path)))


def run():
    source, target = cloud(source_path), cloud(target_path)
    start = time.perf_counter()
    target.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2.5, max_nn=30))
    result = o3d.pipelines.registration.registration_icp(
        source, target, 5.0, init, o3d.pipelines.registration.TransformationEstimationPointToPlane(),
        o3d.pipelines.registration.ICPConvergenceCriteria(max_iteration=80))
    return time.perf_counter() - start, result.transformation


run()
times, transform = [], None
for _ in range(int(repeats)):
    seconds, transform = run()
    times.append(seconds)
print(json.dumps({"seconds": sorted(times)[len(times) // 2], "transform": np.asarray(transform).tolist()}))
