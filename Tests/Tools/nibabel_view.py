#!/usr/bin/env python3
"""nibabel's view of NIfTI files, for mam-quantify's cross-check tests.

    nibabel_view.py testdata OUT_DIR   every .nii/.nii.gz in nibabel/tests/data
    nibabel_view.py describe OUT_DIR FILE...
    nibabel_view.py make OUT_DIR       files written by nibabel covering datatypes,
                                       scaling, qform-only, pixdim-only, NIfTI-2, big-endian

Prints one JSON list on stdout. For each file nibabel loads as one 3-D volume (a 4-D file
with one volume counts): status "volume", shape, affine (nibabel's), sform/qform codes, pixdim,
the scaling nibabel applies (dataobj.slope/inter), and the path of a file holding the scaled voxel values
(get_fdata) as little-endian float64 with x fastest. Otherwise status "refused" or
"multivolume" with a reason.
"""
import glob
import json
import os
import sys
import warnings

import numpy as np
import nibabel as nib

warnings.simplefilter("ignore")


def describe(path, out_dir):
    entry = {"path": path}
    try:
        img = nib.load(path)
    except Exception as e:  # nibabel refuses the file
        entry.update(status="refused", reason=f"{type(e).__name__}: {e}")
        return entry
    if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
        entry.update(status="refused", reason=f"loaded as {type(img).__name__}")
        return entry
    shape = tuple(img.shape) + (1,) * (3 - len(img.shape))
    volumes = int(np.prod(shape[3:])) if len(shape) > 3 else 1
    if volumes != 1:
        entry.update(status="multivolume", reason=f"shape {shape}")
        return entry
    hdr = img.header
    data = img.get_fdata(dtype=np.float64).reshape(shape[:3], order="F")
    dump = os.path.join(out_dir, os.path.basename(path) + ".f64")
    data.ravel(order="F").astype("<f8").tofile(dump)
    entry.update(
        status="volume",
        shape=[int(s) for s in shape[:3]],
        affine=img.affine.tolist(),
        qform=hdr.get_qform().tolist(),
        sform_code=int(hdr["sform_code"]),
        qform_code=int(hdr["qform_code"]),
        pixdim=[float(v) for v in hdr["pixdim"][1:4]],
        scl_slope=none_if_nan(getattr(img.dataobj, "slope", np.nan)),
        scl_inter=none_if_nan(getattr(img.dataobj, "inter", np.nan)),
        values=dump,
    )
    return entry


def none_if_nan(v):
    v = float(v)
    return None if not np.isfinite(v) else v


def rotation(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    t = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(t) * k + (1 - np.cos(t)) * k @ k


def oblique_affine(spacing, origin):
    a = np.eye(4)
    a[:3, :3] = rotation([1, 2, 3], 25) @ np.diag(spacing)
    a[:3, 3] = origin
    return a


def patch(path, offset, value, dtype):
    """Overwrites one little-endian NIfTI-1 header field of an uncompressed file (nibabel
    recomputes scaling and codes on save, so some cases are made by patching afterwards)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(np.array([value], dtype=dtype).tobytes())


SCL_SLOPE, SCL_INTER, QFORM_CODE, SFORM_CODE = 112, 116, 252, 254


def make(out_dir):
    rng = np.random.default_rng(20261122)
    shape = (5, 6, 7)
    made = []

    def save(img, name):
        path = os.path.join(out_dir, name)
        img.to_filename(path)
        made.append(path)
        return path

    ranges = {
        "uint8": (0, 255), "int8": (-128, 127), "int16": (-32768, 32767), "uint16": (0, 65535),
        "int32": (-2**31, 2**31 - 1), "uint32": (0, 2**32 - 1),
        "int64": (-2**53, 2**53), "uint64": (0, 2**53),
    }
    affine = oblique_affine([0.7, 0.8, 2.5], [-120.5, 33.25, 71.0])
    for i, (dtype, (lo, hi)) in enumerate(ranges.items()):
        data = rng.integers(lo, hi, size=shape, endpoint=True, dtype=np.int64).astype(dtype)
        img = nib.Nifti1Image(data, affine, dtype=dtype)
        img.header.set_slope_inter(1, 0)
        save(img, f"dtype-{dtype}" + (".nii.gz" if i % 2 else ".nii"))
    for dtype in ("float32", "float64"):
        data = rng.normal(0, 1000, size=shape).astype(dtype)
        save(nib.Nifti1Image(data, affine), f"dtype-{dtype}.nii.gz")

    # Scaling: int16 with slope 0.5, intercept -3.
    data = rng.integers(-1000, 1000, size=shape, dtype=np.int16)
    path = save(nib.Nifti1Image(data, affine), "scaled-int16.nii")
    patch(path, SCL_SLOPE, 0.5, "<f4")
    patch(path, SCL_INTER, -3.0, "<f4")
    # A slope of 0 means no scaling (intercept ignored): patched into the written header.
    data = rng.integers(0, 3, size=shape, dtype=np.uint8)
    path = save(nib.Nifti1Image(data, affine), "slope-zero.nii")
    patch(path, SCL_SLOPE, 0.0, "<f4")
    patch(path, SCL_INTER, 7.0, "<f4")

    # qform only (sform_code 0).
    img = nib.Nifti1Image(rng.integers(0, 3, size=shape, dtype=np.uint8), None)
    img.set_qform(oblique_affine([1.5, 1.5, 3.0], [10, -20, 30]), code=1)
    img.set_sform(None, code=0)
    save(img, "qform-only.nii.gz")
    # qform with qfac -1 (left-handed grid).
    flipped = np.diag([0.9, 0.9, -2.0, 1.0])
    flipped[:3, 3] = [5, 6, 7]
    img = nib.Nifti1Image(rng.integers(0, 3, size=shape, dtype=np.uint8), None)
    img.set_qform(flipped, code=2)
    img.set_sform(None, code=0)
    save(img, "qform-qfac-negative.nii")
    # Neither: pixdim only.
    img = nib.Nifti1Image(rng.integers(0, 3, size=shape, dtype=np.uint8), np.diag([0.7, 0.7, 2.5, 1]))
    path = save(img, "pixdim-only.nii")
    patch(path, QFORM_CODE, 0, "<i2")
    patch(path, SFORM_CODE, 0, "<i2")

    # NIfTI-2, big-endian NIfTI-1, a 4-D file holding one volume.
    save(nib.Nifti2Image(rng.integers(-5, 5, size=shape, dtype=np.int16), affine), "nifti2-int16.nii.gz")
    hdr = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(rng.normal(size=shape).astype(np.float32), affine, hdr)
    save(img, "big-endian-float32.nii")
    save(nib.Nifti1Image(rng.integers(0, 3, size=shape + (1,), dtype=np.uint8), affine), "one-volume-4d.nii.gz")
    return made


def main():
    mode, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    if mode == "testdata":
        data_dir = os.path.join(os.path.dirname(nib.__file__), "tests", "data")
        files = sorted(glob.glob(os.path.join(data_dir, "*.nii")) + glob.glob(os.path.join(data_dir, "*.nii.gz")))
    elif mode == "describe":
        files = sys.argv[3:]
    elif mode == "make":
        files = make(out_dir)
    else:
        sys.exit(f"unknown mode {mode}")
    json.dump([describe(f, out_dir) for f in files], sys.stdout)


if __name__ == "__main__":
    main()
