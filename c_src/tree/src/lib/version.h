#ifndef TREE_VERSION_H
#define TREE_VERSION_H
#include "common/scale.h" /* by tree path: src/ is an include directory */
#define TREE_VERSION (100 + TREE_SCALE)
#endif
