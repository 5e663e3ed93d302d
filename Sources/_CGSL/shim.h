/* _CGSL: the C side of mam-quantify's GSL use. No Swift API is promised here;
   MAMNumerics (minimisers, distribution quantiles, linear solves) is its only client.

   Swift 6 rejects GSL's global algorithm-type variables as not concurrency-safe,
   so they are exposed through static inline accessors. */
#ifndef MAMQ_CGSL_SHIM_H
#define MAMQ_CGSL_SHIM_H

#include <gsl/gsl_errno.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_linalg.h>

static inline const gsl_multimin_fdfminimizer_type *mamq_gsl_vector_bfgs2(void) {
  return gsl_multimin_fdfminimizer_vector_bfgs2;
}

#endif
