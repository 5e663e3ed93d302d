// A small C interface to DCMTK's dcmdata: load a DICOM file, read element values as text and
// walk sequences, take the (decompressed) pixel data. The meaning of a segmentation (frames,
// segments, contours) is read in Swift (MAMImageIO/DICOM*.swift); DCMTK does the parsing,
// transfer syntaxes and decompression. Nothing here prints: DCMTK's logger is switched off.
#ifndef MAMQ_CDICOM_H
#define MAMQ_CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A loaded DICOM file (DCMTK's DcmFileFormat).
typedef struct mamq_dicom mamq_dicom;
/// A data set or sequence item inside a loaded file; valid while the file is.
typedef struct mamq_dicom_item mamq_dicom_item;

/// Loads `path` (Part 10 file, or a bare data set). With `header_only`, values longer than
/// 4 KiB (pixel data, long contour lists) are left in the file unread. NULL on failure, with
/// DCMTK's reason written to `error` (at most `error_size` bytes, NUL-terminated).
mamq_dicom *mamq_dicom_load(const char *path, int header_only, char *error, size_t error_size);
void mamq_dicom_free(mamq_dicom *file);

/// The file's main data set.
const mamq_dicom_item *mamq_dicom_dataset(const mamq_dicom *file);

/// The value of element (group, element) of `item` as text, all its values joined by '\\'
/// (numbers of binary VRs written out as text), in a buffer the caller frees with free().
/// NULL when the element is absent or has no value.
char *mamq_dicom_string(const mamq_dicom_item *item, uint16_t group, uint16_t element);

/// The number of items of sequence (group, element) in `item`; 0 when absent or not a sequence.
long mamq_dicom_item_count(const mamq_dicom_item *item, uint16_t group, uint16_t element);
/// Item `index` of that sequence, or NULL.
const mamq_dicom_item *mamq_dicom_item_at(const mamq_dicom_item *item, uint16_t group, uint16_t element, long index);

/// The pixel data of the main data set, decompressed if the transfer syntax was compressed,
/// as little-endian bytes. 0 on success; else -1 with the reason in `error`.
int mamq_dicom_pixels(mamq_dicom *file, const uint8_t **bytes, size_t *count, char *error, size_t error_size);

#ifdef __cplusplus
}
#endif

#endif
