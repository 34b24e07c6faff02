"""Task ``lowp_matmul``: the product ``C = A B`` computed in low precision.

Every module of this folder is imported by discovery (matrixbench.discovery) and registers the
task and its methods: the float64 product (reference), the float32 product (baseline), bfloat16
and float16 operands with float32 accumulation, int8 with per-row and per-column scales and
with LLM.int8()'s outlier split, float8 (E4M3, E5M2) and MXFP4 emulated by rounding, each of
the last three with or without a random Hadamard rotation; ``torch._scaled_mm`` and
bitsandbytes on CUDA. Generators: Gaussian products with planted outlier columns and
MiniLM-L6's real activations times its weights.
"""
