#!/usr/bin/env python3
"""Resamples a mask with SimpleITK through an ITK transform file, for mam-quantify's tests.

    sitk_resample.py MOVING.nii.gz REFERENCE.nii.gz TRANSFORM.tfm

Resamples MOVING onto REFERENCE's grid with linear interpolation (SimpleITK's resampler, which
maps reference points through the transform into the moving image) and prints the intensity
centroid of the result in RAS world coordinates (mm) as JSON.
"""
import json
import sys

import numpy as np
import SimpleITK as sitk

moving = sitk.Cast(sitk.ReadImage(sys.argv[1]), sitk.sitkFloat64)
reference = sitk.ReadImage(sys.argv[2])
transform = sitk.ReadTransform(sys.argv[3])
resampled = sitk.Resample(moving, reference, transform, sitk.sitkLinear, 0.0, sitk.sitkFloat64)
values = sitk.GetArrayFromImage(resampled)  # z, y, x
total = values.sum()
k, j, i = np.nonzero(values)
weights = values[k, j, i]
centroid = np.zeros(3)
for a, b, c, w in zip(i, j, k, weights):
    centroid += w * np.array(resampled.TransformIndexToPhysicalPoint((int(a), int(b), int(c))))
centroid /= total
# SimpleITK's physical space is LPS: negate x and y for RAS.
print(json.dumps({"centroidRAS": [-centroid[0], -centroid[1], centroid[2]], "total": float(total)}))
