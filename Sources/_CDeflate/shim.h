/* _CDeflate: libdeflate (Debian's libdeflate-dev), which inflates a whole gzip member at once,
   about three times as fast as zlib's streaming inflate, and checks its CRC-32 and length.
   MAMImageIO (GzipFile) is its only client; no Swift API is promised here. */
#ifndef MAMQ_CDEFLATE_SHIM_H
#define MAMQ_CDEFLATE_SHIM_H

#include <libdeflate.h>

#endif
