/* See string.h: allocation for the hash state, served from a fixed pool (coffer_sha256.c). */
#include <stddef.h>
void *calloc(size_t count, size_t size);
void free(void *pointer);
int posix_memalign(void **pointer, size_t alignment, size_t size);
