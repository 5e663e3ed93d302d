"""Writes the seed corpus of the image readers' fuzz target (Tests/Fuzz/Corpus/nifti; the target
reads every input as a case's file is read, so the reader is picked by content): small valid
files of every kind the readers take (NIfTI-1 and NIfTI-2, both byte orders, plain and gzip,
sform / qform / pixdim geometry, integer and float datatypes, scaling; NRRD raw, gzip and ascii
with a Slicer segment; MetaImage raw and zlib). The protocol target's seeds are the built-in
protocols (scripts/fuzz adds Protocols/ as a seed folder)."""
import gzip
import os
import struct
import zlib

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Corpus", "nifti")


def nifti1(shape, code, fmt, values, endian="<", form="sform", slope=0.0, inter=0.0):
    h = bytearray(348)
    struct.pack_into(endian + "i", h, 0, 348)
    dims = [len(shape)] + list(shape) + [1] * (7 - len(shape))
    struct.pack_into(endian + "8h", h, 40, *dims)
    bitpix = struct.calcsize(fmt) * 8
    struct.pack_into(endian + "hh", h, 70, code, bitpix)
    struct.pack_into(endian + "8f", h, 76, -1.0 if form == "qform" else 1.0, 0.8, 0.9, 2.5, 1, 1, 1, 1)
    struct.pack_into(endian + "f", h, 108, 352.0)
    struct.pack_into(endian + "ff", h, 112, slope, inter)
    h[123] = 10  # xyzt_units: mm, s
    if form == "sform":
        struct.pack_into(endian + "hh", h, 252, 0, 1)
        struct.pack_into(endian + "12f", h, 280, 0.8, 0.1, 0, -10, 0, 0.9, 0, 20, 0.05, 0, 2.5, -30)
    elif form == "qform":
        struct.pack_into(endian + "hh", h, 252, 1, 0)
        struct.pack_into(endian + "6f", h, 256, 0.1, 0.2, 0.3, 5, -5, 15)
    h[344:348] = b"n+1\0"
    data = struct.pack(endian + fmt * len(values), *values)
    return bytes(h) + b"\0\0\0\0" + data


def nifti2(shape, code, fmt, values):
    h = bytearray(540)
    struct.pack_into("<i", h, 0, 540)
    h[4:12] = b"n+2\0\r\n\x1a\n"
    struct.pack_into("<hh", h, 12, code, struct.calcsize(fmt) * 8)
    struct.pack_into("<8q", h, 16, len(shape), *shape, *([1] * (7 - len(shape))))
    struct.pack_into("<8d", h, 104, 1, 1.0, 1.5, 2.0, 1, 1, 1, 1)
    struct.pack_into("<q", h, 168, 544)
    struct.pack_into("<ii", h, 344, 0, 1)
    struct.pack_into("<12d", h, 400, -1, 0, 0, 10, 0, -1.5, 0, 20, 0, 0, 2, -5)
    return bytes(h) + b"\0\0\0\0" + struct.pack("<" + fmt * len(values), *values)


def labels(n):
    return [(i * 7) % 3 for i in range(n)]


seeds = {
    "n1-uint8-sform.nii": nifti1((4, 3, 2), 2, "B", labels(24)),
    "n1-int16-qform-big-endian.nii": nifti1((3, 3, 3), 4, "h", labels(27), endian=">", form="qform"),
    "n1-float32-pixdim-scaled.nii": nifti1((2, 3, 4), 16, "f", labels(24), form="pixdim", slope=2, inter=1),
    "n1-uint16-4d.nii": nifti1((2, 2, 2, 2), 512, "H", labels(16)),
    "n1-int32-2d.nii": nifti1((5, 4), 8, "i", labels(20)),
    "n2-uint8-sform.nii": nifti2((4, 3, 2), 2, "B", labels(24)),
    "n2-float64.nii": nifti2((2, 2, 3), 64, "d", labels(12)),
}


def nrrd(encoding, values, extra=""):
    header = ("NRRD0004\ntype: uint8\ndimension: 3\nsizes: 4 3 2\nspace: left-posterior-superior\n"
              "space directions: (0.8,0,0) (0,0.9,0.1) (0,0,2.5)\nspace origin: (10,-20,5)\n"
              f"encoding: {encoding}\n{extra}\n")
    data = bytes(values)
    if encoding == "gzip":
        data = gzip.compress(data, 6, mtime=0)
    elif encoding == "ascii":
        data = " ".join(str(v) for v in values).encode()
    return header.encode() + data


def mha(compressed, values):
    data = zlib.compress(bytes(values)) if compressed else bytes(values)
    header = ("ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
              f"CompressedData = {compressed}\nTransformMatrix = 0 1 0 -1 0 0 0 0 1\nOffset = 1 2 3\n"
              "ElementSpacing = 0.5 0.7 2\nDimSize = 4 3 2\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n")
    return header.encode() + data


seeds["nrrd-raw.nrrd"] = nrrd("raw", labels(24))
seeds["nrrd-gzip-segments.seg.nrrd"] = nrrd("gzip", labels(24), "Segment0_Name:=liver\nSegment0_LabelValue:=1\n")
seeds["nrrd-ascii.nrrd"] = nrrd("ascii", labels(24))
seeds["metaimage-raw.mha"] = mha(False, labels(24))
seeds["metaimage-zlib.mha"] = mha(True, labels(24))
os.makedirs(HERE, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    if name.endswith(".nii"):
        with open(os.path.join(HERE, name + ".gz"), "wb") as f:
            f.write(gzip.compress(data, 6, mtime=0))
