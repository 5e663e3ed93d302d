"""Writes DICOM segmentations with independent tools and reports what reference readers make of
them (the DICOM-SEG and RTSTRUCT cross-checks), and damaged files for the bad-input tests.

    dicom_write.py OUT_FOLDER

For each grid (RAS-, LPS- and obliquely-oriented, 0.7 x 0.8 x 2.5 mm, and one whose stored z
axis runs against DICOM's slice order) a CT series is written by pydicom, and over it: a binary
DICOM-SEG by highdicom, a fractional one by highdicom (on the RAS grid also fractional
ones compressed by RLE and by JPEG-LS: highdicom compresses no binary SEG), one by dcmqi's itkimage2segimage, and an
RTSTRUCT by rt-utils. Structures: a liver ellipsoid with a tumour and an ablation zone drawn
over it (overlapping segments) and a ring (a structure with a hole).

Prints JSON {"files": [...], "bad": [...]}. Each file: path, writer, format, corners (the
reference grid's 8 corner voxel centres, RAS mm, x fastest; for a SEG, the CT slices its frames
span, by SimpleITK's DICOM series reader), cornerSlices (the slices of mam-quantify's grid that
those corners lie on), values (little-endian float64 label values on mam-quantify's grid, x
fastest: for a SEG the masks themselves, for an RTSTRUCT plastimatch's rasterisation with
--xor-contours), segments (name, labelValue), exact (voxels must match exactly). Each bad file:
path, problem (a fragment of the one-line error).
"""
import copy
import json
import os
import shutil
import sys

import numpy as np
import pydicom
import pydicom.encaps
from pydicom.uid import JPEGLSLossless, RLELossless

sys.path.insert(0, os.path.dirname(__file__))
import dicom_common as dc  # noqa: E402

out = sys.argv[1]
# Sizes as in a liver CT, scaled down: a 30 x 25 x 20 mm "liver", a tumour of 7 mm radius with
# an ablation zone of 10 mm radius, a ring of radii 3 and 6.5 mm (0.7 x 0.8 x 2.5 mm voxels).
shape = (96, 80, 20)
x, y, z = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
liver = ((x - 44) / 30) ** 2 + ((y - 40) / 28) ** 2 + ((z - 10) / 7) ** 2 <= 1
mm = lambda i, j, k: np.sqrt(((x - i) * 0.7) ** 2 + ((y - j) * 0.8) ** 2 + ((z - k) * 2.5) ** 2)  # noqa: E731
tumour = mm(50, 40, 10) <= 7
zone = mm(49, 39, 10) <= 10
radius = np.hypot((x - 14) * 0.7, (y - 68) * 0.8)
ring = (radius <= 6.5) & (radius >= 3) & (z >= 4) & (z <= 15)
MASKS = [liver, tumour, zone, ring]
NAMES = ["liver", "tumour", "ablation zone", "ring"]
spacing = np.array([0.7, 0.8, 2.5])


def rotation(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    a = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


grids = {
    "ras": np.eye(3),
    "lps": np.diag([-1.0, -1.0, 1.0]),
    "oblique": rotation([1, 2, 3], 25),
    "reversed": np.diag([-1.0, 1.0, 1.0]),  # LAS: the z axis runs against row x column
}
origins = {"ras": [-10.5, 20.25, 33.0], "lps": [12.0, -7.5, -40.0], "oblique": [-120.5, 33.25, 71.0], "reversed": [5.0, -3.0, 12.5]}
files, bad = [], []


def values_file(name, volume_xyz):
    path = os.path.join(out, name + ".values")
    np.asarray(volume_xyz, dtype="<f8").ravel(order="F").tofile(path)
    return path


def entry(path, writer, fmt, corners, slices, values, exact):
    files.append({"path": path, "writer": writer, "format": fmt, "corners": corners, "cornerSlices": slices,
                  "values": values, "segments": [{"name": n, "labelValue": v + 1} for v, n in enumerate(NAMES)], "exact": exact})


for grid, direction in grids.items():
    affine = np.eye(4)
    affine[:3, :3] = direction * spacing
    affine[:3, 3] = origins[grid]
    masks = [dc.reading_grid(m, affine)[0] for m in MASKS]
    _, reading_affine = dc.reading_grid(MASKS[0], affine)
    folder = os.path.join(out, grid)
    ct_folder = os.path.join(folder, "ct")
    datasets, _ = dc.write_ct_series(ct_folder, masks[0].astype(np.uint8), reading_affine)
    ct = dc.ct_reference_grid(ct_folder)
    labels = dc.smallest_wins(masks)

    # A SEG's grid: the slices its frames span, and one empty slice either side.
    occupied = np.nonzero(np.any(np.stack(masks), axis=(0, 1, 2)))[0]
    first, last = int(occupied[0]), int(occupied[-1])
    padded = np.zeros(labels.shape[:2] + (last - first + 3,), np.uint8)
    padded[:, :, 1:-1] = labels[:, :, first:last + 1]
    seg_values = values_file(f"{grid}-seg", padded)
    seg_corners = dc.ras_corners(ct, first, last)
    seg_slices = [1, last - first + 1]

    path = os.path.join(folder, "highdicom.dcm")
    dc.seg_highdicom(path, datasets, masks, NAMES)
    entry(path, "highdicom", "DICOM-SEG", seg_corners, seg_slices, seg_values, True)
    path = os.path.join(folder, "highdicom-fractional.dcm")
    dc.seg_highdicom(path, datasets, masks, NAMES, fractional=True)
    entry(path, "highdicom (fractional)", "DICOM-SEG", seg_corners, seg_slices, seg_values, True)
    if grid == "ras":  # compressed pixel data, decoded by DCMTK's RLE and JPEG-LS codecs
        path = os.path.join(folder, "highdicom-rle.dcm")
        dc.seg_highdicom(path, datasets, masks, NAMES, fractional=True, transfer_syntax=RLELossless)
        entry(path, "highdicom (fractional, RLE)", "DICOM-SEG", seg_corners, seg_slices, seg_values, True)
        path = os.path.join(folder, "highdicom-jpegls.dcm")
        dc.seg_highdicom(path, datasets, masks, NAMES, fractional=True, transfer_syntax=JPEGLSLossless)
        entry(path, "highdicom (fractional, JPEG-LS)", "DICOM-SEG", seg_corners, seg_slices, seg_values, True)
    path = os.path.join(folder, "dcmqi.dcm")
    work = os.path.join(folder, "dcmqi-work")
    os.makedirs(work, exist_ok=True)
    dc.seg_dcmqi(path, ct_folder, masks, NAMES, reading_affine, work)
    entry(path, "dcmqi", "DICOM-SEG", seg_corners, seg_slices, seg_values, True)

    path = os.path.join(folder, "rtstruct.dcm")
    dc.rtstruct_rtutils(path, ct_folder, masks, NAMES)
    reference = dc.plastimatch_masks(path, ct_folder, os.path.join(folder, "plastimatch-work"))
    rt_labels = dc.smallest_wins([reference[n][0] for n in NAMES])
    entry(path, "rt-utils / plastimatch", "RTSTRUCT", dc.ras_corners(ct, 0, shape[2] - 1), [0, shape[2] - 1],
          values_file(f"{grid}-rtstruct", rt_labels), False)

# Damaged files, from the RAS grid's.
base = os.path.join(out, "ras")
seg = pydicom.dcmread(os.path.join(base, "highdicom.dcm"))


def damaged(name, problem, change):
    ds = copy.deepcopy(seg)
    change(ds)
    path = os.path.join(out, name)
    ds.save_as(path)
    bad.append({"path": path, "problem": problem})


raw = open(os.path.join(base, "highdicom.dcm"), "rb").read()
for cut in (len(raw) // 2, len(raw) - 100):
    path = os.path.join(out, f"truncated-{cut}.dcm")
    open(path, "wb").write(raw[:cut])
    bad.append({"path": path, "problem": "not a readable DICOM file"})
damaged("no-orientation.dcm", "no image orientation",
        lambda ds: ds.SharedFunctionalGroupsSequence[0].__delattr__("PlaneOrientationSequence"))
damaged("no-positions.dcm", "has no position",
        lambda ds: [f.__delattr__("PlanePositionSequence") for f in ds.PerFrameFunctionalGroupsSequence])
damaged("wrong-size.dcm", "voxel data truncated", lambda ds: setattr(ds, "Rows", ds.Rows * 2))
damaged("unknown-segment.dcm", "names no segment",
        lambda ds: setattr(ds.PerFrameFunctionalGroupsSequence[0].SegmentIdentificationSequence[0], "ReferencedSegmentNumber", 9))
damaged("irregular.dcm", "not regularly spaced",
        lambda ds: ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].__setattr__(
            "ImagePositionPatient", [v + (0.9 if n == 2 else 0) for n, v in enumerate(
                ds.PerFrameFunctionalGroupsSequence[1].PlanePositionSequence[0].ImagePositionPatient)]))
damaged("no-segmentation-type.dcm", "SegmentationType", lambda ds: ds.__delattr__("SegmentationType"))


def unknown_syntax(ds):
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.91"  # JPEG 2000, which DCMTK cannot decode
    ds.PixelData = pydicom.encaps.encapsulate([b"\xff\x4f\xff\x51" + bytes(60)] * ds.NumberOfFrames)
    ds["PixelData"].VR = "OB"


damaged("jpeg2000.dcm", "cannot be decoded", unknown_syntax)
lonely = os.path.join(out, "lonely")
os.makedirs(lonely, exist_ok=True)
shutil.copy(os.path.join(base, "rtstruct.dcm"), lonely)
bad.append({"path": os.path.join(lonely, "rtstruct.dcm"), "problem": "is not in"})
bad.append({"path": os.path.join(base, "ct", "ct_0000.dcm"), "problem": "not a segmentation"})
rs = pydicom.dcmread(os.path.join(base, "rtstruct.dcm"))
contour = rs.ROIContourSequence[0].ContourSequence[3]
contour.ContourData = [v + (1.0 if n % 3 == 2 else 0) for n, v in enumerate(contour.ContourData)]
path = os.path.join(base, "off-slice.dcm")
rs.save_as(path)
bad.append({"path": path, "problem": "does not lie on a slice"})
contour.ContourData = [1e300 if n == 0 else v for n, v in enumerate(contour.ContourData)]
path = os.path.join(base, "far-contour.dcm")
rs.save_as(path)
bad.append({"path": path, "problem": "more than 1 km from the origin"})

json.dump({"files": files, "bad": bad}, sys.stdout)
