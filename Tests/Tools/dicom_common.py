"""Writes DICOM test data with independent tools, for the DICOM-SEG and RTSTRUCT cross-checks:
a CT series for a label volume's grid (pydicom), segmentations of it by highdicom and by dcmqi's
itkimage2segimage, an RTSTRUCT by rt-utils, and plastimatch's rasterisation of an RTSTRUCT as the
reference mask. Volumes are numpy arrays indexed [x, y, z] (x fastest on disk), placed by a 4x4
RAS affine as nibabel gives it; DICOM's patient space is LPS.
"""
import contextlib
import glob
import json
import os
import subprocess
import sys

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

LPS = np.diag([-1.0, -1.0, 1.0])
TISSUE = hd.sr.CodedConcept("85756007", "SCT", "Tissue")
BIN = os.path.dirname(sys.executable)


def flipped(affine_ras):
    """True when the grid's z axis runs against the row x column direction, the order in which
    DICOM readers stack slices."""
    lps = LPS @ affine_ras[:3, :3]
    return np.dot(np.cross(lps[:, 0], lps[:, 1]), lps[:, 2]) < 0


def write_ct_series(folder, volume_xyz, affine_ras, study_uid=None, hu=None):
    """One CT slice per z index of `volume_xyz` (HU from `hu`, a label -> HU mapping, else
    label * 50), in `folder`, for a grid in reading order (`reading_grid`); returns the
    datasets and the series UID."""
    assert not flipped(affine_ras), "write_ct_series wants a grid in reading order"
    os.makedirs(folder, exist_ok=True)
    study_uid = study_uid or generate_uid()
    series_uid, frame_uid = generate_uid(), generate_uid()
    lps = LPS @ affine_ras[:3, :3]
    origin = LPS @ affine_ras[:3, 3]
    spacing = np.linalg.norm(lps, axis=0)
    row_dir, col_dir = lps[:, 0] / spacing[0], lps[:, 1] / spacing[1]
    nx, ny, nz = volume_xyz.shape
    datasets = []
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.PatientName, ds.PatientID, ds.PatientSex, ds.PatientBirthDate = "Phantom^Liver", "MAMQ-TEST", "O", "19700101"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study_uid, series_uid, frame_uid
        ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20260101", "120000", "1", "1"
        ds.ReferringPhysicianName, ds.Manufacturer, ds.SeriesNumber, ds.InstanceNumber = "", "mam-quantify tests", 1, k + 1
        ds.PositionReferenceIndicator = ""
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.ImageOrientationPatient = [float(v) for v in np.concatenate([row_dir, col_dir])]
        ds.ImagePositionPatient = [float(v) for v in origin + k * lps[:, 2]]
        ds.PixelSpacing = [float(spacing[1]), float(spacing[0])]
        ds.SliceThickness = float(spacing[2])
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = 0, 1
        plane = volume_xyz[:, :, k].T  # rows are y, columns x
        values = np.vectorize(lambda v: (hu or {}).get(int(v), int(v) * 50))(plane) if plane.size else plane
        ds.PixelData = values.astype("<i2").tobytes()
        ds.save_as(os.path.join(folder, f"ct_{k:04d}.dcm"), enforce_file_format=True)
        datasets.append(ds)
    return datasets, series_uid


def reading_grid(volume_xyz, affine_ras):
    """The volume and RAS affine as a DICOM reader rebuilds them: slices ascending along the
    row x column direction."""
    if not flipped(affine_ras):
        return volume_xyz, affine_ras
    nz = volume_xyz.shape[2]
    reversed_affine = affine_ras.copy()
    reversed_affine[:3, 3] = affine_ras[:3, 3] + (nz - 1) * affine_ras[:3, 2]
    reversed_affine[:3, 2] = -affine_ras[:3, 2]
    return volume_xyz[:, :, ::-1], reversed_affine


def smallest_wins(masks):
    """A label map from overlapping masks (a list in segment order, labels 1...): a voxel takes
    the segment with the fewest voxels among those covering it (ties: the lower number)."""
    sizes = [int(m.sum()) for m in masks]
    labels = np.zeros(masks[0].shape, np.uint8)
    for n in sorted(range(len(masks)), key=lambda n: (-sizes[n], -n)):
        labels[masks[n]] = n + 1
    return labels


def seg_highdicom(path, ct_datasets, masks_xyz, names, fractional=False, transfer_syntax=ExplicitVRLittleEndian):
    """A DICOM-SEG by highdicom over the CT datasets (a grid in reading order); frames without
    any segment are omitted (highdicom's default)."""
    frames = np.stack([m.transpose(2, 1, 0) for m in masks_xyz], axis=-1)  # (z, rows, columns, segments)
    descriptions = [hd.seg.SegmentDescription(
        segment_number=n + 1, segment_label=name, segmented_property_category=TISSUE, segmented_property_type=TISSUE,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL) for n, name in enumerate(names)]
    seg = hd.seg.Segmentation(
        source_images=ct_datasets, pixel_array=frames.astype(np.float32) if fractional else frames.astype(bool),
        segmentation_type=hd.seg.SegmentationTypeValues.FRACTIONAL if fractional else hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=hd.UID(), series_number=300, sop_instance_uid=hd.UID(),
        instance_number=1, manufacturer="mam-quantify tests", manufacturer_model_name="highdicom", software_versions="0.28",
        device_serial_number="1", max_fractional_value=255 if fractional else None, transfer_syntax_uid=transfer_syntax)
    seg.save_as(path)


def seg_dcmqi(path, ct_folder, masks_xyz, names, affine_ras, work):
    """A DICOM-SEG by dcmqi's itkimage2segimage: one NRRD per segment (overlaps allowed)."""
    import nrrd
    lps = LPS @ affine_ras[:3, :3]
    inputs, attributes = [], []
    for n, (mask, name) in enumerate(zip(masks_xyz, names)):
        file = os.path.join(work, f"segment{n}.nrrd")
        nrrd.write(file, mask.astype(np.uint8), {"space": "left-posterior-superior", "space directions": lps.T,
                                                 "space origin": LPS @ affine_ras[:3, 3], "kinds": ["domain"] * 3},
                   index_order="F")
        inputs.append(file)
        code = {"CodeValue": "85756007", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Tissue"}
        attributes.append([{"labelID": 1, "SegmentLabel": name, "SegmentDescription": name, "SegmentAlgorithmType": "MANUAL",
                            "SegmentedPropertyCategoryCodeSequence": code, "SegmentedPropertyTypeCodeSequence": code}])
    metadata = {"ContentCreatorName": "Tests^MAMQ", "ClinicalTrialSeriesID": "1", "ClinicalTrialTimePointID": "1",
                "SeriesDescription": "Segmentation", "SeriesNumber": "300", "InstanceNumber": "1",
                "BodyPartExamined": "LIVER", "segmentAttributes": attributes, "ContentLabel": "SEGMENTATION",
                "ContentDescription": "test", "ClinicalTrialCoordinatingCenterName": "test"}
    meta_path = os.path.join(work, "seg.json")
    with open(meta_path, "w") as f:
        json.dump(metadata, f)
    subprocess.run([os.path.join(BIN, "itkimage2segimage"), "--inputImageList", ",".join(inputs), "--inputDICOMDirectory",
                    ct_folder, "--outputDICOM", path, "--inputMetadata", meta_path, "--skip"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rtstruct_rtutils(path, ct_folder, masks_xyz, names):
    """An RTSTRUCT by rt-utils: contours traced by OpenCV around each mask, slice by slice (holes
    as inner contours)."""
    from rt_utils import RTStructBuilder
    rtstruct = RTStructBuilder.create_new(dicom_series_path=ct_folder)
    # rt-utils stacks slices along the row x column direction too: a grid in reading order.
    for mask, name in zip(masks_xyz, names):
        rtstruct.add_roi(mask=mask.transpose(1, 0, 2).astype(bool), name=name)  # rows (y), columns (x), slices
    with contextlib.redirect_stdout(sys.stderr):  # rt-utils prints "Writing file to ..."
        rtstruct.save(path)


def plastimatch_masks(rtstruct, ct_folder, work):
    """plastimatch's rasterisation of each structure onto the CT grid, contours combined by the
    even-odd rule (--xor-contours; by default plastimatch unites them, filling holes): {name: mask as read by
    SimpleITK, indexed [x, y, z] in the reading order}."""
    import SimpleITK as sitk
    out = os.path.join(work, "plastimatch")
    subprocess.run(["plastimatch", "convert", "--input", rtstruct, "--referenced-ct", ct_folder,
                    "--output-prefix", out, "--prefix-format", "nrrd", "--xor-contours"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    masks = {}
    for file in sorted(glob.glob(os.path.join(out, "*.nrrd"))):
        image = sitk.ReadImage(file)
        masks[os.path.basename(file)[:-5]] = (np.transpose(sitk.GetArrayFromImage(image), (2, 1, 0)) > 0, image)
    return masks


def ct_reference_grid(ct_folder):
    """The CT series' grid as SimpleITK's DICOM series reader builds it: (origin, direction
    3x3 with columns as axes, spacing), LPS."""
    import SimpleITK as sitk
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(ct_folder))
    image = reader.Execute()
    return image


def ras_corners(image, k_first, k_last):
    """RAS corners (x fastest, then y, then z) of a SimpleITK image's voxel centres, its slices
    limited to k_first...k_last (may lie outside the image)."""
    nx, ny, _ = image.GetSize()
    direction = np.reshape(image.GetDirection(), (3, 3)) * np.asarray(image.GetSpacing())
    origin = np.asarray(image.GetOrigin())
    corners = []
    for k in (k_first, k_last):
        for j in (0, ny - 1):
            for i in (0, nx - 1):
                p = origin + direction @ np.array([i, j, k], float)
                corners.append([float(v) for v in LPS @ p])
    return corners
