/* _CPNG: libpng (Debian's libpng-dev), through its simplified write API, which reports errors
   in a message instead of the longjmp of the classic API (which Swift cannot take part in).
   MAMQC (RGBImage.pngData) is its only client; no Swift API is promised here. */
#ifndef MAMQ_CPNG_SHIM_H
#define MAMQ_CPNG_SHIM_H

#include <png.h>
#include <string.h>

/* Encodes an 8-bit image as PNG into `memory`: RGB rows (3 bytes per pixel, no padding) when
   `colormap` is NULL, else one index per pixel into `colormap` (`entries` RGB triples, at most
   256). With `memory` NULL, `*size` receives the bytes needed; else `*size` holds the buffer's
   size on entry and the bytes written on return. Returns 1 on success, 0 with libpng's message
   copied into `message` (64 bytes) on failure. */
static inline int mamq_png_write(png_uint_32 width, png_uint_32 height, const void *pixels,
                                 const void *colormap, png_uint_32 entries,
                                 void *memory, png_alloc_size_t *size, char *message) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = width;
    image.height = height;
    image.format = colormap ? PNG_FORMAT_RGB_COLORMAP : PNG_FORMAT_RGB;
    image.colormap_entries = colormap ? entries : 0;
    int ok = png_image_write_to_memory(&image, memory, size, 0, pixels, 0, colormap);
    if (!ok) memcpy(message, image.message, sizeof image.message);
    png_image_free(&image);
    return ok;
}

#endif
