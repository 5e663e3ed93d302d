/* Debian installs znzlib.h under /usr/include/nifti/ while nifti2_io.h includes
   it as <znzlib.h>. This forwarding header lives on the wrapper's include path. */
#include <nifti/znzlib.h>
