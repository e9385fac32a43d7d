/* The few C library declarations pycryptodome's SHA-256 needs, for a freestanding wasm32 build. */
#include <stddef.h>
void *memcpy(void *destination, const void *source, size_t count);
void *memset(void *destination, int value, size_t count);
