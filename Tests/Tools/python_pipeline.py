#!/usr/bin/env python3
"""The minimal ablation margin of one case the way a competent Python pipeline computes it: the
reference `mam-bench case` times mam-quantify against (issue 20), in the same run.

    python_pipeline.py PRE POST OUT.json

PRE and POST are label maps (1 liver, 2 tumour / ablation zone). Steps, with the libraries a
careful researcher would pick:
  1. nibabel reads both files; numpy makes the four masks.
  2. Each liver's boundary voxels (scipy.ndimage erosion, on the liver's bounding box) in
     world coordinates, thinned by Open3D's voxel down-sampling (2.0 mm pre, 1.25 mm post, as
     mam-quantify's protocol).
  3. Open3D: normals (radius 2.5 mm, at most 30 neighbours), then point-to-plane ICP from the
     centroids' offset, at 10 mm and then 3 mm correspondence distances.
  4. The ablation zone's signed distance (mm, positive inside) on its box grown by 20 voxels:
     scipy.ndimage.distance_transform_edt inside and outside, with the voxel spacing.
  5. The tumour's boundary voxels, moved by the transform into the post grid, the distance
     interpolated there (scipy.ndimage.map_coordinates, trilinear); the MAM is the smallest.
Writes {"mam_mm", "pre_to_post"} to OUT.json. Its MAM is within about a voxel of
mam-quantify's (boundary voxel centres, not a sub-voxel surface).
"""
import json
import sys

import nibabel as nib
import numpy as np
import open3d as o3d
from scipy import ndimage


def world(indices, affine):
    return indices @ affine[:3, :3].T + affine[:3, 3]


def boundary(mask):
    """Voxel indices of the mask's boundary (erosion on the mask's bounding box only)."""
    box = ndimage.find_objects(mask.astype(np.uint8))[0]
    crop = np.pad(mask[box], 1)
    inner = np.argwhere(crop & ~ndimage.binary_erosion(crop))
    return (inner - 1 + [s.start for s in box]).astype(np.float64)


def liver_cloud(mask, affine, spacing_mm):
    cloud = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(world(boundary(mask), affine)))
    cloud = cloud.voxel_down_sample(spacing_mm)
    cloud.estimate_normals(o3d.geometry.KDTreeSearchParamHybrid(radius=2.5, max_nn=30))
    return cloud


def main(pre_path, post_path, out_path):
    pre_image, post_image = nib.load(pre_path), nib.load(post_path)
    pre, post = np.asanyarray(pre_image.dataobj), np.asanyarray(post_image.dataobj)
    pre_affine, post_affine = pre_image.affine, post_image.affine
    pre_liver, tumour = pre > 0, pre == 2
    post_liver, zone = post > 0, post == 2

    source = liver_cloud(pre_liver, pre_affine, 2.0)
    target = liver_cloud(post_liver, post_affine, 1.25)
    transform = np.eye(4)
    transform[:3, 3] = target.get_center() - source.get_center()
    estimation = o3d.pipelines.registration.TransformationEstimationPointToPlane()
    for distance in (10.0, 3.0):
        transform = o3d.pipelines.registration.registration_icp(
            source, target, distance, transform, estimation,
            o3d.pipelines.registration.ICPConvergenceCriteria(max_iteration=80)).transformation

    # The zone's signed distance on its box grown by 20 voxels.
    spacing = np.sqrt((post_affine[:3, :3] ** 2).sum(axis=0))
    found = np.argwhere(zone)
    lower = np.maximum(found.min(axis=0) - 20, 0)
    upper = np.minimum(found.max(axis=0) + 21, zone.shape)
    crop = zone[lower[0]:upper[0], lower[1]:upper[1], lower[2]:upper[2]]
    signed = (ndimage.distance_transform_edt(crop, sampling=spacing)
              - ndimage.distance_transform_edt(~crop, sampling=spacing))

    # The tumour's boundary voxels in the post grid's crop.
    points = world(boundary(tumour), pre_affine)
    moved = points @ transform[:3, :3].T + transform[:3, 3]
    indices = (moved - post_affine[:3, 3]) @ np.linalg.inv(post_affine[:3, :3]).T - lower
    margins = ndimage.map_coordinates(signed, indices.T, order=1, mode="nearest")
    with open(out_path, "w") as out:
        json.dump({"mam_mm": float(margins.min()), "pre_to_post": transform.tolist()}, out)


if __name__ == "__main__":
    main(*sys.argv[1:4])
