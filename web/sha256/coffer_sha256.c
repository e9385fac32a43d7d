/*
 * The browser module's streaming SHA-256: pycryptodome's public-domain SHA-256 (SHA256.c and
 * hash_SHA2_template.c, fetched and checked by scripts/build-web-module) compiled to wasm32, behind
 * five exports that js/sha256.js calls. This file holds no hashing of its own: only the C library
 * functions that code needs and a fixed input buffer the page copies each piece into.
 */
#include <stddef.h>
#include <stdint.h>

typedef struct hash_state hash_state;
int SHA256_init(hash_state **state);
int SHA256_update(hash_state *state, const uint8_t *bytes, size_t count);
int SHA256_digest(const hash_state *state, uint8_t *digest, size_t size);
int SHA256_destroy(hash_state *state);

void *memcpy(void *destination, const void *source, size_t count) { return __builtin_memcpy(destination, source, count); }
void *memset(void *destination, int value, size_t count) { return __builtin_memset(destination, value, count); }

/* One hash runs at a time per instance; a pool of two states is enough and never grows. */
enum { STATE_BYTES = 256, STATES = 2 };
static _Alignas(16) unsigned char pool[STATES][STATE_BYTES];
static int taken[STATES];

void *calloc(size_t count, size_t size) {
    if (size != 0 && count > STATE_BYTES / size) return NULL;
    for (int i = 0; i < STATES; i++) {
        if (!taken[i]) {
            taken[i] = 1;
            __builtin_memset(pool[i], 0, STATE_BYTES);
            return pool[i];
        }
    }
    return NULL;
}

void free(void *pointer) {
    for (int i = 0; i < STATES; i++) {
        if (pointer == pool[i]) taken[i] = 0;
    }
}

int posix_memalign(void **pointer, size_t alignment, size_t size) {
    (void)alignment; (void)size;
    *pointer = NULL;
    return -1;
}

/* The page writes each piece here, then calls update with its length. */
enum { INPUT_BYTES = 1 << 20 };
static _Alignas(16) uint8_t input[INPUT_BYTES];
static uint8_t digest[32];
static hash_state *state;

__attribute__((export_name("input"))) uint8_t *input_address(void) { return input; }
__attribute__((export_name("input_size"))) size_t input_size(void) { return INPUT_BYTES; }
__attribute__((export_name("digest"))) uint8_t *digest_address(void) { return digest; }

/* Starts a new hash, dropping one that was not finished. 0 on success. */
__attribute__((export_name("begin"))) int begin(void) {
    if (state) { SHA256_destroy(state); state = NULL; }
    return SHA256_init(&state);
}

/* Hashes the first `count` bytes of the input buffer. 0 on success. */
__attribute__((export_name("update"))) int update(size_t count) {
    if (!state || count > INPUT_BYTES) return -1;
    return SHA256_update(state, input, count);
}

/* Writes the digest to the digest buffer and ends the hash. 0 on success. */
__attribute__((export_name("finish"))) int finish(void) {
    if (!state) return -1;
    int result = SHA256_digest(state, digest, 32);
    SHA256_destroy(state);
    state = NULL;
    return result;
}
