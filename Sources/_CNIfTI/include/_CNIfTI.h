/* _CNIfTI: the C side of mam-quantify's NIfTI access. No Swift API is promised
   here; MAMImaging is the only client. */
#ifndef MAMQ_CNIFTI_SHIM_H
#define MAMQ_CNIFTI_SHIM_H

#include <nifti/nifti2_io.h>
#include <zlib.h>

#endif
