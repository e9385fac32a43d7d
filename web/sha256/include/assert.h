/* Assertions compile to nothing in the browser build; the wrapper checks its own inputs. */
#define assert(condition) ((void)0)
