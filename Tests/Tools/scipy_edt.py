#!/usr/bin/env python3
"""scipy's Euclidean distance transform of a NIfTI mask, for mam-quantify's cross-check tests.

    scipy_edt.py MASK.nii OUT.f64

Writes edt(mask) - edt(~mask) with sampling = the voxel spacing (nibabel's zooms): the
signed distance, positive inside, as little-endian float64 with x fastest.
"""
import sys

import nibabel as nib
import numpy as np
from scipy.ndimage import distance_transform_edt

img = nib.load(sys.argv[1])
mask = np.asanyarray(img.dataobj) > 0
zooms = img.header.get_zooms()[:3]
signed = distance_transform_edt(mask, sampling=zooms) - distance_transform_edt(~mask, sampling=zooms)
signed.ravel(order="F").astype("<f8").tofile(sys.argv[2])
