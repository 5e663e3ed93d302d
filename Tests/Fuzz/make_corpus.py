"""Writes the seed corpus of the image readers' fuzz target (Tests/Fuzz/Corpus/nifti; the target
reads every input as a case's file is read, so the reader is picked by content): small valid
files of every kind the readers take (NIfTI-1 and NIfTI-2, both byte orders, plain and gzip,
sform / qform / pixdim geometry, integer and float datatypes, scaling; NRRD raw, gzip and ascii
with a Slicer segment; MetaImage raw and zlib; a binary and a fractional DICOM-SEG and an
RTSTRUCT, written by pydicom with the elements the readers use). The protocol target's seeds are
the built-in protocols (scripts/fuzz adds Protocols/ as a seed folder). Run with .venv's python
(pydicom)."""
import gzip
import io
import os
import struct
import zlib

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

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


def dicom(sop_class, fill):
    """A small Part 10 file: the SOP class, what `fill` adds, explicit VR little endian."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = sop_class, "1.2.3.4"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, "1.2.3.4"
    fill(ds)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def item(**elements):
    result = Dataset()
    for key, value in elements.items():
        setattr(result, key, value)
    return result


def segmentation(fractional):
    def fill(ds):
        ds.Modality, ds.Rows, ds.Columns, ds.NumberOfFrames = "SEG", 3, 4, 3
        ds.SegmentationType = "FRACTIONAL" if fractional else "BINARY"
        ds.BitsAllocated = 8 if fractional else 1
        if fractional:
            ds.MaximumFractionalValue = 255
        ds.SegmentSequence = [item(SegmentNumber=1, SegmentLabel="liver"), item(SegmentNumber=2, SegmentLabel="tumour")]
        ds.SharedFunctionalGroupsSequence = [item(
            PlaneOrientationSequence=[item(ImageOrientationPatient=[1, 0, 0, 0, 0.9950042, -0.0998334])],
            PixelMeasuresSequence=[item(PixelSpacing=[0.9, 0.8], SpacingBetweenSlices=2.5)])]
        ds.PerFrameFunctionalGroupsSequence = [item(
            PlanePositionSequence=[item(ImagePositionPatient=[10, -20 + 0.2495835 * z, 5 + 2.4875104 * z])],
            SegmentIdentificationSequence=[item(ReferencedSegmentNumber=s)]) for z, s in [(0, 1), (1, 1), (1, 2)]]
        values = labels(36)
        ds.PixelData = bytes(v * 127 for v in values) if fractional else \
            bytes(sum((values[8 * b + i] & 1) << i for i in range(8) if 8 * b + i < 36) for b in range(5)) + b"\0"
    return dicom("1.2.840.10008.5.1.4.1.1.66.4", fill)


def rtstruct(ds):
    ds.Modality = "RTSTRUCT"
    ds.StructureSetROISequence = [item(ROINumber=1, ROIName="liver"), item(ROINumber=2, ROIName="tumour")]
    ds.ROIContourSequence = [item(ReferencedROINumber=n, ContourSequence=[item(
        ContourGeometricType="CLOSED_PLANAR", ContourData=[0, 0, 5, 3 * n, 0, 5, 3 * n, 2 * n, 5, 0, 2 * n, 5])]) for n in (1, 2)]
    ds.ReferencedFrameOfReferenceSequence = [item(RTReferencedStudySequence=[item(
        RTReferencedSeriesSequence=[item(SeriesInstanceUID="1.2.3.5")])])]


seeds["dicom-seg-binary.dcm"] = segmentation(False)
seeds["dicom-seg-fractional.dcm"] = segmentation(True)
seeds["dicom-rtstruct.dcm"] = dicom("1.2.840.10008.5.1.4.1.1.481.3", rtstruct)
os.makedirs(HERE, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)
    if name.endswith(".nii"):
        with open(os.path.join(HERE, name + ".gz"), "wb") as f:
            f.write(gzip.compress(data, 6, mtime=0))
