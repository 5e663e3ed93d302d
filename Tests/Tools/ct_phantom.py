"""A CT-like scan from a label map, for pictures of the QC page with scans underneath:
0 -> -100 HU (fat), 1 -> 100 HU (enhanced liver), 2 -> 30 HU (tumour or ablation zone), with
Gaussian noise of 12 HU (seeded).

    ct_phantom.py LABELS.nii.gz OUT.nii.gz
"""
import sys

import nibabel as nib
import numpy as np

labels_path, out = sys.argv[1:3]
image = nib.load(labels_path)
labels = np.asarray(image.dataobj)
hu = np.select([labels == 1, labels == 2], [100, 30], -100).astype(np.float64)
hu += np.random.default_rng(2026).normal(0, 12, hu.shape)
nib.save(nib.Nifti1Image(np.round(hu).astype(np.int16), image.affine), out)
