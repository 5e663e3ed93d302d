"""Converts a case's NIfTI label maps (read by nibabel) to the other formats mam-quantify reads,
each written by an independent tool: NRRD by pynrrd (gzip), MetaImage by SimpleITK (.mha,
zlib-compressed), and 3D Slicer segmentations by slicerio (.seg.nrrd, segments named by the
labels in LABEL=NAME arguments).

    convert_case.py OUT_FOLDER FILE.nii.gz... [--names 1=liver,2=Tumor] [--relabel 1=7,2=3] [--layered]

Writes OUT_FOLDER/NAME.nrrd, NAME.mha and NAME.seg.nrrd for each FILE (NAME its name without
.nii.gz). --relabel changes the label values of the segmentation only (its segments keep the
names of the original values), so that only a reader that selects segments by name finds the
structures. --layered writes the segmentation as Slicer does overlapping segments: the liver
(label 1 with the lesion's voxels) on layer 0 and the lesion (label 2) on layer 1, both with
label value 1.
"""
import os
import sys

import nibabel as nib
import nrrd
import numpy as np
import SimpleITK as sitk
import slicerio

args = sys.argv[1:]


def mapping(flag):
    global args
    if flag not in args:
        return {}
    at = args.index(flag)
    result = {int(k): v for k, v in (item.split("=") for item in args[at + 1].split(","))}
    args = args[:at] + args[at + 2:]
    return result


layered = "--layered" in args
if layered:
    args.remove("--layered")
names = mapping("--names")
relabel = {k: int(v) for k, v in mapping("--relabel").items()}
out, files = args[0], args[1:]
LPS = np.diag([-1.0, -1.0, 1.0])

for path in files:
    image = nib.load(path)
    data = np.asarray(image.dataobj).astype(np.uint8)
    affine = image.affine
    steps_lps = LPS @ affine[:3, :3]
    origin_lps = LPS @ affine[:3, 3]
    name = os.path.basename(path).split(".nii")[0]

    nrrd.write(os.path.join(out, name + ".nrrd"), data,
               {"space": "left-posterior-superior", "space directions": steps_lps.T, "space origin": origin_lps,
                "encoding": "gzip", "kinds": ["domain"] * 3}, index_order="F")

    sitk_image = sitk.GetImageFromArray(np.transpose(data, (2, 1, 0)))
    spacing = np.linalg.norm(steps_lps, axis=0)
    sitk_image.SetSpacing([float(s) for s in spacing])
    sitk_image.SetDirection([float(v) for v in (steps_lps / spacing).ravel()])
    sitk_image.SetOrigin([float(v) for v in origin_lps])
    sitk.WriteImage(sitk_image, os.path.join(out, name + ".mha"), True)

    ijk_to_lps = np.eye(4)
    ijk_to_lps[:3, :3] = steps_lps
    ijk_to_lps[:3, 3] = origin_lps
    present = sorted(int(v) for v in np.unique(data) if v != 0)
    relabelled = data.copy()
    for old, new in relabel.items():
        relabelled[data == old] = new
    segments = [{"id": f"Segment_{v}", "labelValue": relabel.get(v, v), "layer": 0, "name": names.get(v, f"label {v}"),
                 "color": [0.5, 0.5, 0.5]} for v in present]
    if layered:
        relabelled = np.stack([(data > 0).astype(np.uint8), (data == 2).astype(np.uint8)])
        segments = [{"id": f"Segment_{v}", "labelValue": 1, "layer": v - 1, "name": names.get(v, f"label {v}"),
                     "color": [0.5, 0.5, 0.5]} for v in (1, 2)]
    slicerio.write_segmentation(os.path.join(out, name + ".seg.nrrd"),
                                {"voxels": relabelled, "ijkToLPS": ijk_to_lps, "encoding": "gzip", "segments": segments})
