#ifndef TREE_SCALE_H
#define TREE_SCALE_H
#define TREE_SCALE 3
#endif
