/* _CNIfTI has no C code of its own: this file exists so that SwiftPM builds the target whose
   include/ folder puts the forwarding znzlib.h on the include path. */
