/* Nothing of stdio is used; the header only has to exist. */
#include <stddef.h>
