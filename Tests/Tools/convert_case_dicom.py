"""Converts a case's NIfTI label maps (read by nibabel) to DICOM: for each FILE a CT series
(pydicom) on its grid, and over that series a DICOM-SEG by highdicom, one by dcmqi and an
RTSTRUCT by rt-utils. The liver segment holds the lesion's voxels too (overlapping segments, as
segmentation tools draw them); other labels are segments of their own.

    convert_case_dicom.py OUT_FOLDER FILE.nii.gz... [--names 1=liver,2=Tumor]

Writes OUT_FOLDER/NAME_ct/ (the series), NAME.seg.dcm (highdicom), NAME.dcmqi.dcm and
NAME.rtstruct.dcm (NAME: the file's name without .nii.gz).
"""
import os
import sys

import nibabel as nib
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import dicom_common as dc  # noqa: E402

args = sys.argv[1:]
names = {}
if "--names" in args:
    at = args.index("--names")
    names = {int(k): v for k, v in (item.split("=") for item in args[at + 1].split(","))}
    args = args[:at] + args[at + 2:]
out, files = args[0], args[1:]

for path in files:
    image = nib.load(path)
    data = np.asarray(image.dataobj).astype(np.uint8)
    name = os.path.basename(path).split(".nii")[0]
    data, affine = dc.reading_grid(data, image.affine)
    labels = sorted(int(v) for v in np.unique(data) if v != 0)
    masks = [data > 0 if v == 1 else data == v for v in labels]
    segment_names = [names.get(v, f"label {v}") for v in labels]
    ct_folder = os.path.join(out, name + "_ct")
    datasets, _ = dc.write_ct_series(ct_folder, data, affine, hu={0: -100, 1: 60, 2: 100, 3: 30})
    dc.seg_highdicom(os.path.join(out, name + ".seg.dcm"), datasets, masks, segment_names)
    work = os.path.join(out, name + "_dcmqi")
    os.makedirs(work, exist_ok=True)
    dc.seg_dcmqi(os.path.join(out, name + ".dcmqi.dcm"), ct_folder, masks, segment_names, affine, work)
    dc.rtstruct_rtutils(os.path.join(out, name + ".rtstruct.dcm"), ct_folder, masks, segment_names)
