/* libjpeg-turbo 2.1.5's jversion.h as its CMake build writes it from jversion.h.in for
   JPEG_LIB_VERSION 62; the copyright lines (messages jerror.c can format) in short. */
#define JVERSION "6b  27-Mar-1998"
#define JCOPYRIGHT_SHORT "Copyright (C) 1991-2023 The libjpeg-turbo Project and many others"
#define JCOPYRIGHT JCOPYRIGHT_SHORT
