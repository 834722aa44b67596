"""float32 log and sin/cos as torch's vectorised normal kernel computes them on x86-64 CPUs with
AVX2 (which torch also picks on AVX-512 machines for this kernel): Cephes' single-precision
polynomials, in the order of Julien Pommier's avx_mathfun, with the multiply-adds the compiler
fuses into FMA instructions. Matching them is what makes randn(16 or more) equal to torch's bit for
bit; numpy's own float32 log/cos differ in the last bit for about one value in seven.

    log(x)        # x: float32 array of normal positive numbers
    sincos(x)     # (sin x, cos x), x: float32 array in [0, 2 pi)
    fma(a, b, c)  # a * b + c rounded once
"""
from __future__ import annotations

import numpy as np

_F = np.float32
_F64 = np.float64


def fma(a, b, c):
    """float32 a*b + c with one rounding: the float64 product of two float32 values is exact, and the
    float64 sum's rounding is undone by the final float32 rounding except in rare double-rounding ties."""
    t = np.multiply(a, b, dtype=_F64)
    t += c
    return t.astype(_F)


def _horner(x, coefs):
    """((c0 x + c1) x + c2) ..., each step one FMA."""
    y = np.full_like(x, _F(coefs[0]))
    for c in coefs[1:]:
        y = fma(y, x, _F(c))
    return y


_LOG_P = (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
          -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)
_LOG_Q1, _LOG_Q2 = _F(-2.12194440e-4), _F(0.693359375)  # ln 2 split in two parts


def log(x: np.ndarray) -> np.ndarray:
    """Natural log of normal positive floats: x = m 2^e with m in [sqrt(1/2), sqrt(2)), log m from a
    degree-9 polynomial. (Selections are bit masks and products by 0/1: np.where is slower.)"""
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F) + _F(1)
    m = ((bits & ~0x7F800000) | 0x3F000000).view(_F)  # mantissa in [0.5, 1)
    small = (m < _F(0.707106781186547524)).astype(_F)
    e -= small
    m = (m - _F(1)) + m * small                        # m - 1, or 2m - 1 below sqrt(1/2)
    z = m * m
    y = _horner(m, _LOG_P) * m
    y = fma(y, z, e * _LOG_Q1)
    y = fma(-z, _F(0.5), y)
    return fma(e, _LOG_Q2, m + y)


_FOPI = _F(1.27323954473516)  # 4 / pi
_DP = (_F(-0.78515625), _F(-2.4187564849853515625e-4), _F(-3.77489497744594108e-8))  # -pi/4 in three parts
_COS_P = (2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002)
_SIN_P = (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)
_SIGN = np.int32(-0x80000000)


def sincos(x: np.ndarray):
    """(sin x, cos x): reduce by multiples of pi/4 (octant j even), then one of two polynomials,
    selected and signed with integer bit operations as the SIMD code does."""
    sign = x.view(np.int32) & _SIGN
    x = np.abs(x)
    j = ((x * _FOPI).astype(np.int32) + 1) & ~1
    y = j.astype(_F)
    for dp in _DP:                                    # x - j pi/4 in extended precision
        x = fma(y, dp, x)
    sin_sign = sign ^ ((j & 4) << 29)
    cos_sign = (~(j - 2) & 4) << 29
    sin_poly = ((j & 2) >> 1) - 1                     # all ones where the sine takes the sine polynomial
    z = x * x
    yc = _horner(z, _COS_P) * z
    yc = (fma(yc, z, -(z * _F(0.5))) + _F(1)).view(np.int32)
    ys = fma(_horner(z, _SIN_P) * z, x, x).view(np.int32)
    s = (ys & sin_poly) | (yc & ~sin_poly)
    c = (yc & sin_poly) | (ys & ~sin_poly)
    return (s ^ sin_sign).view(_F), (c ^ cos_sign).view(_F)
