"""The native core: C and Cython modules, one idea each. Use the public API in ledgercore."""
