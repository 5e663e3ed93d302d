"""Writes label volumes as NRRD, Slicer .seg.nrrd and MetaImage with independent tools (pynrrd,
SimpleITK, slicerio) and reports, for each file, what a reference reader makes of it.

    formats_write.py OUT_FOLDER

Prints JSON: a list of {path, writer, corners (the 8 corner voxels' centres in RAS mm, x fastest),
values (a file of little-endian float64 voxel values, x fastest), segments (name, labelValue) for
a segmentation}. Grids: RAS-, LPS- and obliquely-oriented, anisotropic; encodings raw, gzip,
ascii and zlib; attached and detached data; little- and big-endian.
"""
import itertools
import json
import os
import sys

import nrrd
import numpy as np
import SimpleITK as sitk
import slicerio

out = sys.argv[1]
rng = np.random.default_rng(2026)
shape = (7, 6, 5)  # x, y, z
labels = rng.integers(0, 4, size=shape).astype(np.uint8)
entries = []


def corners_from(direction_columns, origin):
    """RAS corners of the voxel centres from per-axis steps (mm, RAS) and the origin (RAS)."""
    result = []
    for k, j, i in itertools.product([0, shape[2] - 1], [0, shape[1] - 1], [0, shape[0] - 1]):
        p = np.asarray(origin) + i * direction_columns[0] + j * direction_columns[1] + k * direction_columns[2]
        result.append([float(v) for v in p])
    return result


def save_values(name, volume_xyz):
    path = os.path.join(out, name + ".values")
    np.asarray(volume_xyz, dtype="<f8").ravel(order="F").tofile(path)
    return path


def rotation(axis, degrees):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    a = np.radians(degrees)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * k @ k


spacing = np.array([0.7, 0.8, 2.5])
grids = {
    "ras": (np.eye(3), np.array([-10.5, 20.25, 33.0])),
    "lps": (np.diag([-1.0, -1.0, 1.0]), np.array([12.0, -7.5, -40.0])),
    "oblique": (rotation([1, 2, 3], 25), np.array([-120.5, 33.25, 71.0])),
}

# pynrrd: space directions and origin given in the file's space; the reference reads them back.
for grid, (direction, origin_ras) in grids.items():
    steps_ras = [direction[:, a] * spacing[a] for a in range(3)]
    for space, flip in [("right-anterior-superior", np.array([1, 1, 1])), ("left-posterior-superior", np.array([-1, -1, 1]))]:
        for encoding, detached, dtype, endian in [("raw", False, np.uint8, "little"), ("gzip", False, np.int16, "big"),
                                                   ("ascii", False, np.uint8, "little"), ("gzip", True, np.uint16, "little")]:
            name = f"pynrrd-{grid}-{space.split('-')[0]}-{encoding}{'-detached' if detached else ''}"
            path = os.path.join(out, name + (".nhdr" if detached else ".nrrd"))
            header = {"space": space, "space directions": np.array([s * flip for s in steps_ras]),
                      "space origin": origin_ras * flip, "encoding": encoding, "endian": endian,
                      "kinds": ["domain", "domain", "domain"]}
            nrrd.write(path, labels.astype(dtype), header, detached_header=detached, index_order="F")
            data, read = nrrd.read(path, index_order="F")
            read_flip = np.array([1, 1, 1]) if read["space"] == "right-anterior-superior" else np.array([-1, -1, 1])
            steps = [np.asarray(v, float) * read_flip for v in read["space directions"]]
            entries.append({"path": path, "writer": "pynrrd",
                            "corners": corners_from(steps, np.asarray(read["space origin"], float) * read_flip),
                            "values": save_values(name, data)})

# SimpleITK: NRRD and MetaImage (LPS worlds); the reference is SimpleITK reading the file back.
for grid, (direction, origin_ras) in grids.items():
    image = sitk.GetImageFromArray(np.transpose(labels.astype(np.int16), (2, 1, 0)))
    image.SetSpacing([float(s) for s in spacing])
    lps = np.diag([-1.0, -1.0, 1.0])
    image.SetDirection([float(v) for v in (lps @ direction).ravel()])
    image.SetOrigin([float(v) for v in lps @ origin_ras])
    for name, compress in [(f"sitk-{grid}.nrrd", True), (f"sitk-{grid}.mha", False), (f"sitk-{grid}-z.mha", True),
                           (f"sitk-{grid}.mhd", False), (f"sitk-{grid}-z.mhd", True)]:
        path = os.path.join(out, name)
        sitk.WriteImage(image, path, compress)
        back = sitk.ReadImage(path)
        corners = []
        for k, j, i in itertools.product([0, shape[2] - 1], [0, shape[1] - 1], [0, shape[0] - 1]):
            x, y, z = back.TransformIndexToPhysicalPoint((i, j, k))
            corners.append([-x, -y, z])
        values = np.transpose(sitk.GetArrayFromImage(back), (2, 1, 0))
        entries.append({"path": path, "writer": "SimpleITK", "corners": corners, "values": save_values(name, values)})

# slicerio: a Slicer segmentation with named segments (one layer).
segmentation = {
    "voxels": labels, "ijkToLPS": np.array([[-0.7, 0, 0, 12.0], [0, -0.8, 0, -7.5], [0, 0, 2.5, -40.0], [0, 0, 0, 1]]),
    "encoding": "gzip",
    "segments": [{"id": "Segment_1", "labelValue": 1, "layer": 0, "name": "liver", "color": [0.8, 0.3, 0.3]},
                 {"id": "Segment_2", "labelValue": 2, "layer": 0, "name": "Tumor", "color": [0.9, 0.9, 0.2]},
                 {"id": "Segment_3", "labelValue": 3, "layer": 0, "name": "ablation zone", "color": [0.2, 0.6, 0.9]}],
}
path = os.path.join(out, "slicerio.seg.nrrd")
slicerio.write_segmentation(path, segmentation)
read = slicerio.read_segmentation(path)
m = np.asarray(read["ijkToLPS"], float)
flip = np.array([-1, -1, 1])
steps = [m[:3, a] * flip for a in range(3)]
voxels = np.asarray(read["voxels"])
if voxels.ndim == 4:
    voxels = voxels[..., 0] if voxels.shape[-1] == 1 else voxels[0]
entries.append({"path": path, "writer": "slicerio", "corners": corners_from(steps, m[:3, 3] * flip),
                "values": save_values("slicerio", voxels),
                "segments": [{"name": s["name"], "labelValue": int(s["labelValue"])} for s in read["segments"]]})

# slicerio: overlapping segments on two layers (a tumour drawn over its liver). The reference
# label map follows Docs/inputs.md: segment k becomes label k + 1; where segments overlap, the
# one with fewer voxels keeps the voxel (ties: the earlier segment).
layers = np.zeros((2,) + shape, np.uint8)
layers[0][labels > 0] = 1            # "liver": every labelled voxel
layers[0][labels == 3] = 2           # "vessel" on the same layer
layers[1][labels == 2] = 1           # "Tumor", overlapping the liver
layered = {"voxels": layers, "ijkToLPS": segmentation["ijkToLPS"], "encoding": "gzip",
           "segments": [{"id": "Segment_1", "labelValue": 1, "layer": 0, "name": "liver", "color": [0.8, 0.3, 0.3]},
                        {"id": "Segment_2", "labelValue": 2, "layer": 0, "name": "vessel", "color": [0.3, 0.3, 0.8]},
                        {"id": "Segment_3", "labelValue": 1, "layer": 1, "name": "Tumor", "color": [0.9, 0.9, 0.2]}]}
path = os.path.join(out, "slicerio-layered.seg.nrrd")
slicerio.write_segmentation(path, layered)
read = slicerio.read_segmentation(path)
voxels = np.asarray(read["voxels"])  # layers first
masks = [voxels[s["layer"]] == s["labelValue"] for s in read["segments"]]
sizes = [int(m.sum()) for m in masks]
flat = np.zeros(shape, np.int64)
for k in sorted(range(len(masks)), key=lambda k: (-sizes[k], -k)):  # largest first, smaller ones overwrite
    flat[masks[k]] = k + 1
m = np.asarray(read["ijkToLPS"], float)
entries.append({"path": path, "writer": "slicerio (layered)", "corners": corners_from([m[:3, a] * flip for a in range(3)], m[:3, 3] * flip),
                "values": save_values("slicerio-layered", flat),
                "segments": [{"name": s["name"], "labelValue": k + 1} for k, s in enumerate(read["segments"])]})

print(json.dumps(entries))
