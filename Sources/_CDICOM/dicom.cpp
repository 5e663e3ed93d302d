// The thin wrapper declared in include/_CDICOM.h, over DCMTK 3.6 (Debian's libdcmtk-dev).
#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/oflog/oflog.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "_CDICOM.h"

struct mamq_dicom {
    DcmFileFormat format;
};

namespace {

// Logger off and decoders registered, once per process.
void setUp() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        DcmRLEDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs();
    });
}

void writeError(char *error, size_t size, const char *text) {
    if (error == nullptr || size == 0) return;
    std::strncpy(error, text, size - 1);
    error[size - 1] = '\0';
}

DcmItem *asItem(const mamq_dicom_item *item) {
    return reinterpret_cast<DcmItem *>(const_cast<mamq_dicom_item *>(item));
}

}  // namespace

extern "C" mamq_dicom *mamq_dicom_load(const char *path, int header_only, char *error, size_t error_size) {
    setUp();
    auto *file = new mamq_dicom();
    const Uint32 maxRead = header_only ? 4096 : DCM_MaxReadLength;
    OFCondition status = file->format.loadFile(path, EXS_Unknown, EGL_noChange, maxRead, ERM_autoDetect);
    if (status.bad()) {
        writeError(error, error_size, status.text());
        delete file;
        return nullptr;
    }
    return file;
}

extern "C" void mamq_dicom_free(mamq_dicom *file) { delete file; }

extern "C" const mamq_dicom_item *mamq_dicom_dataset(const mamq_dicom *file) {
    return reinterpret_cast<const mamq_dicom_item *>(const_cast<DcmFileFormat &>(file->format).getDataset());
}

extern "C" char *mamq_dicom_string(const mamq_dicom_item *item, uint16_t group, uint16_t element) {
    DcmElement *found = nullptr;
    if (asItem(item)->findAndGetElement(DcmTagKey(group, element), found, OFFalse).bad() || found == nullptr) return nullptr;
    if (found->ident() == EVR_SQ || found->getLength() == 0) return nullptr;
    // Text VRs: the stored value as is (values separated by '\\'); getOFStringArray would
    // rescan the value once per value (quadratic in a contour's points). Binary VRs: as text.
    OFString value;
    char *text = nullptr;
    Uint32 length = 0;
    if (found->isaString() && found->getString(text, length).good()) {
        value = text == nullptr ? OFString() : OFString(text, length);
    } else if (found->getOFStringArray(value).bad()) {
        return nullptr;
    }
    char *copy = static_cast<char *>(std::malloc(value.length() + 1));
    if (copy == nullptr) return nullptr;
    std::memcpy(copy, value.c_str(), value.length() + 1);
    return copy;
}

extern "C" long mamq_dicom_item_count(const mamq_dicom_item *item, uint16_t group, uint16_t element) {
    DcmSequenceOfItems *sequence = nullptr;
    if (asItem(item)->findAndGetSequence(DcmTagKey(group, element), sequence, OFFalse).bad() || sequence == nullptr) return 0;
    return static_cast<long>(sequence->card());
}

extern "C" const mamq_dicom_item *mamq_dicom_item_at(const mamq_dicom_item *item, uint16_t group, uint16_t element, long index) {
    if (index < 0) return nullptr;
    DcmItem *found = nullptr;
    if (asItem(item)->findAndGetSequenceItem(DcmTagKey(group, element), found, static_cast<signed long>(index)).bad()) return nullptr;
    return reinterpret_cast<const mamq_dicom_item *>(found);
}

extern "C" int mamq_dicom_pixels(mamq_dicom *file, const uint8_t **bytes, size_t *count, char *error, size_t error_size) {
    DcmDataset *dataset = file->format.getDataset();
    OFCondition status = dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (status.bad() || !dataset->canWriteXfer(EXS_LittleEndianExplicit)) {
        OFString text = OFString("its transfer syntax, ") + DcmXfer(dataset->getOriginalXfer()).getXferName()
            + ", cannot be decoded here (DCMTK: " + status.text() + ")";
        writeError(error, error_size, text.c_str());
        return -1;
    }
    DcmElement *pixels = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr) {
        writeError(error, error_size, "no pixel data");
        return -1;
    }
    Uint8 *data = nullptr;
    status = pixels->getUint8Array(data);
    if (status.bad() || data == nullptr) {
        Uint16 *words = nullptr;
        status = pixels->getUint16Array(words);
        data = reinterpret_cast<Uint8 *>(words);
    }
    if (status.bad() || data == nullptr) {
        writeError(error, error_size, status.bad() ? status.text() : "no pixel data");
        return -1;
    }
    *bytes = data;
    *count = pixels->getLength();
    return 0;
}
