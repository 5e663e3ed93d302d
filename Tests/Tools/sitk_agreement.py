"""Segmentation agreement of two masks by SimpleITK, as the test suite's reference.

Usage: sitk_agreement.py A.nii.gz B.nii.gz TOLERANCE_MM
Prints JSON: dice and jaccard (LabelOverlapMeasuresImageFilter), hausdorff (HausdorffDistance-
ImageFilter, between the voxel sets), and from the surfaces (voxels of a mask minus its binary
erosion by a face-connected cross, distances from Maurer distance maps of the other surface):
hausdorff95 (the larger of the two directions' 95th percentiles, numpy's linear interpolation),
assd, surface_dice at the tolerance.
"""
import json
import sys

import numpy as np
import SimpleITK as sitk


def main():
    path_a, path_b, tolerance = sys.argv[1], sys.argv[2], float(sys.argv[3])
    a = sitk.ReadImage(path_a, sitk.sitkUInt8)
    b = sitk.ReadImage(path_b, sitk.sitkUInt8)
    overlap = sitk.LabelOverlapMeasuresImageFilter()
    overlap.Execute(a, b)
    hausdorff = sitk.HausdorffDistanceImageFilter()
    hausdorff.Execute(a, b)

    def surface(image):
        eroded = sitk.BinaryErode(image, [1, 1, 1], sitk.sitkCross, 0, 1)
        return sitk.And(image, sitk.Not(eroded) & 1)

    def distances(from_image, to_image):
        to_surface = sitk.SignedMaurerDistanceMap(surface(to_image), insideIsPositive=False,
                                                  squaredDistance=False, useImageSpacing=True)
        values = np.abs(sitk.GetArrayFromImage(to_surface))
        return values[sitk.GetArrayFromImage(surface(from_image)) > 0]

    ab, ba = distances(a, b), distances(b, a)
    print(json.dumps({
        "dice": overlap.GetDiceCoefficient(),
        "jaccard": overlap.GetJaccardCoefficient(),
        "hausdorff": hausdorff.GetHausdorffDistance(),
        "hausdorff95": float(max(np.percentile(ab, 95), np.percentile(ba, 95))),
        "assd": float((ab.sum() + ba.sum()) / (len(ab) + len(ba))),
        "surface_dice": float(((ab <= tolerance).sum() + (ba <= tolerance).sum()) / (len(ab) + len(ba))),
    }))


if __name__ == "__main__":
    main()
