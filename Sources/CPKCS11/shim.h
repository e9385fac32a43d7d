// The PKCS#11 interface (Cryptoki 2.40) as p11-kit ships it. No library is linked: a token's
// module is loaded at run time with dlopen (CofferDevice).
#include <p11-kit/pkcs11.h>
