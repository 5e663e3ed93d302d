/* _COpenSSL: the C side of mam-quantify's SHA-256 digests (libcrypto's EVP interface).
   No Swift API is promised here; MAMPipeline's FileDigest is the only client. */
#ifndef MAMQ_COPENSSL_SHIM_H
#define MAMQ_COPENSSL_SHIM_H

#include <openssl/evp.h>

#endif
