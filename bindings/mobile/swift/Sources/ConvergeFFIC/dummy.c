// Intentionally empty: the symbols are in libconverge_ffi.
