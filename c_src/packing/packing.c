#include "packing.h"

void pk_fill_header(struct pk_header *h) {
  h->magic = 'H';
  h->length = 0x11223344;
  h->flags = -2;
  h->raw = 0xBEEF;
  h->kind = 'k';
  h->count = -7;
}

void pk_fill_four(struct pk_four *f) {
  f->tag = 'F';
  f->wide = -1234567890123LL;
  f->name = "four";
  f->weight = 2.5;
}

void pk_fill_attr(struct pk_attr *a) {
  a->c = 'A';
  a->inner.c = 'i';
  a->inner.i = 77;
  a->l = 1LL << 40;
  a->shorts[0] = 1;
  a->shorts[1] = -2;
  a->shorts[2] = 3;
}

void pk_fill_state(pk_state *s) {
  s->c = 'S';
  s->x = 99;
}

void pk_fill_digest(struct pk_digest *d) {
  for (unsigned i = 0; i < sizeof d->digest; i++)
    d->digest[i] = (unsigned char)(i * 3);
}

void pk_fill_word(struct pk_word *w) {
  w->word[0] = 'w';
}
