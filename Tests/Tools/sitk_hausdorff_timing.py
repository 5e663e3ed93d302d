"""Times SimpleITK's HausdorffDistanceImageFilter on two masks (reading excluded).

Usage: sitk_hausdorff_timing.py A.nii.gz B.nii.gz REPEATS
Prints the median time in seconds and the distance in mm.
"""
import statistics
import sys
import time

import SimpleITK as sitk

a = sitk.ReadImage(sys.argv[1], sitk.sitkUInt8)
b = sitk.ReadImage(sys.argv[2], sitk.sitkUInt8)
times = []
for _ in range(int(sys.argv[3])):
    f = sitk.HausdorffDistanceImageFilter()
    start = time.perf_counter()
    f.Execute(a, b)
    times.append(time.perf_counter() - start)
print(statistics.median(times), f.GetHausdorffDistance())
