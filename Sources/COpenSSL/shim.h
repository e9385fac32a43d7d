// Glue between Swift and OpenSSL's RFC 3161 time-stamping API (libcrypto). Only calls into
// OpenSSL; no cryptography is done here. Macros Swift cannot call are wrapped as functions.
#ifndef COFFER_COPENSSL_SHIM_H
#define COFFER_COPENSSL_SHIM_H

// The external signing key below is a legacy EC_KEY_METHOD, the one way OpenSSL's TS API signs with
// a key that lives elsewhere without an engine or a provider.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

static inline void coffer_free(void *p) { OPENSSL_free(p); }

static inline void coffer_last_error(char *buf, size_t len) {
    unsigned long e = ERR_get_error();
    if (e == 0) { snprintf(buf, len, "unknown OpenSSL error"); return; }
    ERR_error_string_n(e, buf, len);
    ERR_clear_error();
}

// A random 127-bit serial number: OpenSSL's default callback always returns 1.
static inline ASN1_INTEGER *coffer_ts_serial(TS_RESP_CTX *ctx, void *data) {
    (void)data;
    unsigned char buf[16];
    ASN1_INTEGER *serial = NULL;
    BIGNUM *bn = NULL;
    if (RAND_bytes(buf, sizeof buf) == 1) {
        buf[0] &= 0x7f;
        bn = BN_bin2bn(buf, sizeof buf, NULL);
        if (bn) serial = BN_to_ASN1_INTEGER(bn, NULL);
    }
    BN_free(bn);
    if (!serial) TS_RESP_CTX_set_status_info(ctx, TS_STATUS_REJECTION, "serial number generation failed");
    return serial;
}

// Makes a time-stamping context for the first certificate of `bio` (a PEM chain, signer first) and
// `key`, which must be that certificate's key. Takes neither.
static inline TS_RESP_CTX *coffer_tsa_make(X509 *signer, STACK_OF(X509) *extra, EVP_PKEY *key, const char *policy, char *err, size_t errlen) {
    TS_RESP_CTX *ctx = NULL;
    ASN1_OBJECT *policy_obj = NULL;
    if (X509_check_private_key(signer, key) != 1) { snprintf(err, errlen, "the TSA certificate is not for the signing key"); goto fail; }
    if (!(policy_obj = OBJ_txt2obj(policy, 1))) { snprintf(err, errlen, "bad policy OID"); goto fail; }
    if (!(ctx = TS_RESP_CTX_new())) goto openssl_fail;
    if (TS_RESP_CTX_set_signer_cert(ctx, signer) != 1 || TS_RESP_CTX_set_signer_key(ctx, key) != 1
        || TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256()) != 1 || TS_RESP_CTX_set_def_policy(ctx, policy_obj) != 1
        || TS_RESP_CTX_add_md(ctx, EVP_sha256()) != 1 || TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256()) != 1
        || TS_RESP_CTX_set_clock_precision_digits(ctx, 3) != 1 || TS_RESP_CTX_set_certs(ctx, extra) != 1)
        goto openssl_fail;
    TS_RESP_CTX_set_serial_cb(ctx, coffer_ts_serial, NULL);
    TS_RESP_CTX_add_flags(ctx, TS_ESS_CERT_ID_CHAIN);
    ASN1_OBJECT_free(policy_obj);
    return ctx;
openssl_fail:
    coffer_last_error(err, errlen);
fail:
    TS_RESP_CTX_free(ctx);
    ASN1_OBJECT_free(policy_obj);
    return NULL;
}

// Reads a PEM chain: the signer into *signer, the rest into *extra. Returns 1 on success.
static inline int coffer_read_chain(const char *chain, size_t chain_len, X509 **signer, STACK_OF(X509) **extra, char *err, size_t errlen) {
    BIO *bio = BIO_new_mem_buf(chain, (int)chain_len);
    *extra = NULL;
    if (!bio || !(*signer = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
        snprintf(err, errlen, "the TSA certificate is not PEM");
        BIO_free(bio);
        return 0;
    }
    *extra = sk_X509_new_null();
    for (X509 *more; (more = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL;) sk_X509_push(*extra, more);
    ERR_clear_error();
    BIO_free(bio);
    return 1;
}

// Makes a time-stamping context from a PEM certificate chain (signer first) and a PEM private key.
static inline TS_RESP_CTX *coffer_tsa_new(const char *chain, size_t chain_len, const char *key_pem, size_t key_len,
                                          const char *policy, char *err, size_t errlen) {
    X509 *signer = NULL;
    STACK_OF(X509) *extra = NULL;
    EVP_PKEY *key = NULL;
    TS_RESP_CTX *ctx = NULL;
    if (!coffer_read_chain(chain, chain_len, &signer, &extra, err, errlen)) return NULL;
    BIO *bio = BIO_new_mem_buf(key_pem, (int)key_len);
    if (!bio || !(key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL))) snprintf(err, errlen, "the TSA key is not PEM");
    else ctx = coffer_tsa_make(signer, extra, key, policy, err, errlen);
    BIO_free(bio);
    X509_free(signer);
    EVP_PKEY_free(key);
    sk_X509_pop_free(extra, X509_free);
    return ctx;
}

// Signs a SHA-256 digest elsewhere (a cryptographic device): writes r ‖ s (64 bytes) and returns 1,
// or returns 0.
typedef int (*coffer_digest_signer)(void *context, const unsigned char *digest, size_t digest_len, unsigned char *signature);

// The signer and its context of an external P-256 key, kept as the key's ex_data 0 (app data).
struct coffer_external_signer { coffer_digest_signer sign; void *context; EC_KEY_METHOD *method; };

static inline ECDSA_SIG *coffer_external_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv, const BIGNUM *r, EC_KEY *key) {
    (void)kinv; (void)r;
    struct coffer_external_signer *signer = EC_KEY_get_ex_data(key, 0);
    unsigned char rs[64];
    if (!signer || dlen < 0 || signer->sign(signer->context, dgst, (size_t)dlen, rs) != 1) return NULL;
    BIGNUM *br = BN_bin2bn(rs, 32, NULL), *bs = BN_bin2bn(rs + 32, 32, NULL);
    ECDSA_SIG *sig = ECDSA_SIG_new();
    if (!br || !bs || !sig || ECDSA_SIG_set0(sig, br, bs) != 1) { BN_free(br); BN_free(bs); ECDSA_SIG_free(sig); return NULL; }
    return sig;
}

static inline int coffer_external_sign(int type, const unsigned char *dgst, int dlen, unsigned char *sig, unsigned int *siglen,
                                       const BIGNUM *kinv, const BIGNUM *r, EC_KEY *key) {
    (void)type;
    ECDSA_SIG *s = coffer_external_sign_sig(dgst, dlen, kinv, r, key);
    if (!s) return 0;
    unsigned char *out = sig;
    int len = i2d_ECDSA_SIG(s, &out);
    ECDSA_SIG_free(s);
    if (len <= 0) return 0;
    *siglen = (unsigned int)len;
    return 1;
}

static inline int coffer_external_sign_setup(EC_KEY *key, BN_CTX *ctx, BIGNUM **kinv, BIGNUM **r) {
    (void)key; (void)ctx; (void)kinv; (void)r;
    return 1;
}

// Makes a time-stamping context whose signatures `sign` makes: the key is the signer certificate's
// P-256 public key, which must be `point` (X9.63), with a method that asks `sign`. `*external` must be freed with
// coffer_external_free after the context.
static inline TS_RESP_CTX *coffer_tsa_new_external(const char *chain, size_t chain_len, const unsigned char *point, size_t point_len,
                                                   coffer_digest_signer sign, void *context,
                                                   const char *policy, void **external, char *err, size_t errlen) {
    X509 *signer = NULL;
    STACK_OF(X509) *extra = NULL;
    EVP_PKEY *key = NULL;
    EC_KEY *ec = NULL;
    EC_KEY_METHOD *method = NULL;
    struct coffer_external_signer *state = NULL;
    TS_RESP_CTX *ctx = NULL;
    *external = NULL;
    if (!coffer_read_chain(chain, chain_len, &signer, &extra, err, errlen)) return NULL;
    const EC_KEY *public_key = EVP_PKEY_get0_EC_KEY(X509_get0_pubkey(signer));
    if (!public_key || EC_GROUP_get_curve_name(EC_KEY_get0_group(public_key)) != NID_X9_62_prime256v1) {
        snprintf(err, errlen, "the TSA certificate is not for a P-256 key");
        goto done;
    }
    unsigned char cert_point[65];
    if (EC_POINT_point2oct(EC_KEY_get0_group(public_key), EC_KEY_get0_public_key(public_key), POINT_CONVERSION_UNCOMPRESSED,
                           cert_point, sizeof cert_point, NULL) != sizeof cert_point
        || point_len != sizeof cert_point || memcmp(cert_point, point, sizeof cert_point) != 0) {
        snprintf(err, errlen, "the TSA certificate is not for the signing key");
        goto done;
    }
    state = OPENSSL_zalloc(sizeof *state);
    if (!state || !(method = EC_KEY_METHOD_new(EC_KEY_get_default_method())) || !(ec = EC_KEY_new())) goto openssl_fail;
    state->sign = sign;
    state->context = context;
    EC_KEY_METHOD_set_sign(method, coffer_external_sign, coffer_external_sign_setup, coffer_external_sign_sig);
    if (EC_KEY_set_method(ec, method) != 1 || EC_KEY_set_group(ec, EC_KEY_get0_group(public_key)) != 1
        || EC_KEY_set_public_key(ec, EC_KEY_get0_public_key(public_key)) != 1 || EC_KEY_set_ex_data(ec, 0, state) != 1)
        goto openssl_fail;
    if (!(key = EVP_PKEY_new()) || EVP_PKEY_assign_EC_KEY(key, ec) != 1) goto openssl_fail;
    ec = NULL;
    if ((ctx = coffer_tsa_make(signer, extra, key, policy, err, errlen)) != NULL) {
        // The method and its state outlive the key, which the context holds: freed by coffer_external_free.
        state->method = method;
        *external = state;
        method = NULL;
        state = NULL;
    }
    goto done;
openssl_fail:
    coffer_last_error(err, errlen);
done:
    EC_KEY_free(ec);
    EVP_PKEY_free(key);
    if (method) EC_KEY_METHOD_free(method);  // OpenSSL 3.0 does not accept NULL here
    OPENSSL_free(state);
    X509_free(signer);
    sk_X509_pop_free(extra, X509_free);
    return ctx;
}

static inline void coffer_tsa_free(TS_RESP_CTX *ctx) { TS_RESP_CTX_free(ctx); }

// Frees what coffer_tsa_new_external kept for its key, once its context is freed.
static inline void coffer_external_free(void *external) {
    struct coffer_external_signer *state = external;
    if (!state) return;
    if (state->method) EC_KEY_METHOD_free(state->method);
    OPENSSL_free(state);
}

// Time-stamps a SHA-256 digest. On success returns 1 and a DER TimeStampToken in *out
// (free with coffer_free). Not thread-safe for one ctx.
static inline int coffer_tsa_stamp(TS_RESP_CTX *ctx, const unsigned char *digest, size_t digest_len,
                                   unsigned char **out, size_t *out_len, char *err, size_t errlen) {
    int ok = 0;
    TS_REQ *req = TS_REQ_new();
    TS_MSG_IMPRINT *imprint = TS_MSG_IMPRINT_new();
    X509_ALGOR *algo = X509_ALGOR_new();
    unsigned char *req_der = NULL;
    BIO *req_bio = NULL;
    TS_RESP *resp = NULL;
    *out = NULL;
    if (!req || !imprint || !algo) goto openssl_fail;
    if (X509_ALGOR_set0(algo, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, NULL) != 1) goto openssl_fail;
    if (TS_MSG_IMPRINT_set_algo(imprint, algo) != 1 || TS_MSG_IMPRINT_set_msg(imprint, (unsigned char *)digest, (int)digest_len) != 1) goto openssl_fail;
    if (TS_REQ_set_version(req, 1) != 1 || TS_REQ_set_msg_imprint(req, imprint) != 1 || TS_REQ_set_cert_req(req, 1) != 1) goto openssl_fail;
    int req_len = i2d_TS_REQ(req, &req_der);
    if (req_len <= 0) goto openssl_fail;
    req_bio = BIO_new_mem_buf(req_der, req_len);
    if (!req_bio || !(resp = TS_RESP_create_response(ctx, req_bio))) goto openssl_fail;
    TS_STATUS_INFO *status = TS_RESP_get_status_info(resp);
    if (ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(status)) != TS_STATUS_GRANTED) {
        snprintf(err, errlen, "the time-stamp request was not granted");
        goto done;
    }
    PKCS7 *token = TS_RESP_get_token(resp);
    int token_len = i2d_PKCS7(token, out);
    if (token_len <= 0) goto openssl_fail;
    *out_len = (size_t)token_len;
    ok = 1;
    goto done;
openssl_fail:
    coffer_last_error(err, errlen);
done:
    TS_REQ_free(req);
    TS_MSG_IMPRINT_free(imprint);
    X509_ALGOR_free(algo);
    OPENSSL_free(req_der);
    BIO_free(req_bio);
    TS_RESP_free(resp);
    return ok;
}

// Verifies a DER TimeStampToken: signed by a certificate with the timeStamping purpose that chains
// to a CA in `ca_pem`, over exactly `digest` (SHA-256). On success returns 1 and the time stamp
// in Unix milliseconds.
static inline int coffer_ts_verify(const unsigned char *token_der, size_t token_len, const unsigned char *digest, size_t digest_len,
                                   const char *ca_pem, size_t ca_len, long long *gen_time_ms, char *err, size_t errlen) {
    int ok = 0;
    const unsigned char *p = token_der;
    PKCS7 *token = d2i_PKCS7(NULL, &p, (long)token_len);
    TS_VERIFY_CTX *vctx = NULL;
    X509_STORE *store = NULL;
    TS_TST_INFO *info = NULL;
    BIO *bio = NULL;
    if (!token || p != token_der + token_len) { snprintf(err, errlen, "the time-stamp token is not DER"); goto done; }
    if (!(store = X509_STORE_new()) || !(bio = BIO_new_mem_buf(ca_pem, (int)ca_len))) goto openssl_fail;
    int cas = 0;
    for (X509 *ca; (ca = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL; X509_free(ca)) {
        if (X509_STORE_add_cert(store, ca) == 1) cas++;
    }
    ERR_clear_error();
    if (cas == 0) { snprintf(err, errlen, "the CA file holds no PEM certificate"); goto done; }
    if (!(vctx = TS_VERIFY_CTX_new())) goto openssl_fail;
    unsigned char *copy = OPENSSL_memdup(digest, digest_len);
    if (!copy) goto openssl_fail;
    TS_VERIFY_CTX_set_imprint(vctx, copy, (long)digest_len);
    TS_VERIFY_CTX_set_store(vctx, store);
    store = NULL;
    TS_VERIFY_CTX_add_flags(vctx, TS_VFY_SIGNATURE | TS_VFY_VERSION | TS_VFY_IMPRINT);
    if (TS_RESP_verify_token(vctx, token) != 1) goto openssl_fail;
    if (!(info = PKCS7_to_TS_TST_INFO(token))) goto openssl_fail;
    struct tm tm;
    const ASN1_GENERALIZEDTIME *gen = TS_TST_INFO_get_time(info);
    if (!gen || ASN1_TIME_to_tm(gen, &tm) != 1) goto openssl_fail;
    long long ms = 0;
    const char *text = (const char *)ASN1_STRING_get0_data(gen);
    const char *dot = text ? strchr(text, '.') : NULL;
    if (dot) {
        int digits = 0;
        for (const char *d = dot + 1; *d >= '0' && *d <= '9' && digits < 3; d++, digits++) ms = ms * 10 + (*d - '0');
        for (; digits < 3; digits++) ms *= 10;
    }
    *gen_time_ms = (long long)timegm(&tm) * 1000 + ms;
    ok = 1;
    goto done;
openssl_fail:
    coffer_last_error(err, errlen);
done:
    PKCS7_free(token);
    TS_VERIFY_CTX_free(vctx);
    X509_STORE_free(store);
    TS_TST_INFO_free(info);
    BIO_free(bio);
    return ok;
}

#endif
