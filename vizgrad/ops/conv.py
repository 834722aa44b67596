"""Convolution, pooling and embedding: conv1d/conv2d and conv_transpose2d (ConvolutionBackward0), max_pool2d
(MaxPool2DWithIndicesBackward0), avg_pool2d (AvgPool2DBackward0), embedding (EmbeddingBackward0).

Each is one node, as torch records it. Forward and plain backward run on numpy windows: the
padded input viewed (np.lib.stride_tricks.as_strided, no copy) as
    windows[n, c, i, j, p, q] = x_padded[n, c, i*sh + p*dh, j*sw + q*dw]      (N, C, Ho, Wo, kh, kw)
Pooling reduces the windows; a convolution lays them out as rows (im2col, kept for backward) and
multiplies them with the weight, per group: one matrix product each way, and the input gradient
adds each window's gradient back, one kernel offset (p, q) at a time.

With create_graph=True (the engine passes Tensors) a node differentiates its composite form
instead, the same function written with recorded ops (the windows as an advanced index of the
padded input, then einsum / max / mean), so double backward works like any other op's.

1-d convolution is the 2-d one with a height of 1.
"""
from __future__ import annotations

import numpy as np

from vizgrad.ops.base import Op, _arr
from vizgrad.ops.contract import einsum
from vizgrad.ops.index import IndexPut
from vizgrad.ops.reduce import mean as _mean
from vizgrad.ops.select import IndexAdd, ScatterAdd
from vizgrad.ops.shape import reshape
from vizgrad.tensor import Tensor


def _pair(v, n: int = 2) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _out_size(n: int, k: int, s: int, p: int, d: int, ceil: bool = False) -> int:
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:  # torch: the last window must start inside the input or left padding
        out -= 1
    return out


def _padded(x: np.ndarray, pad: tuple, value=0.0, extra=(0, 0)) -> np.ndarray:
    """x (N, C, H, W) padded by pad=(ph, pw) each side (+ extra on the bottom/right, for ceil_mode)."""
    (ph, pw), (eh, ew) = pad, extra
    if not (ph or pw or eh or ew):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph + eh), (pw, pw + ew)), constant_values=value)


def _windows(xp: np.ndarray, k: tuple, s: tuple, d: tuple, out: tuple) -> np.ndarray:
    """The (N, C, Ho, Wo, kh, kw) view of the padded input (see the module docstring)."""
    n, c = xp.shape[:2]
    sn, sc, sh, sw = xp.strides
    return np.lib.stride_tricks.as_strided(
        xp, (n, c, out[0], out[1], k[0], k[1]), (sn, sc, sh * s[0], sw * s[1], sh * d[0], sw * d[1]), writeable=False)


def _add_windows(gw: np.ndarray, padded_shape: tuple, k: tuple, s: tuple, d: tuple) -> np.ndarray:
    """The adjoint of _windows: gw (N, C, Ho, Wo, kh, kw) summed back into the padded input."""
    gx = np.zeros(padded_shape, dtype=gw.dtype)
    ho, wo = gw.shape[2:4]
    for p in range(k[0]):
        for q in range(k[1]):
            gx[:, :, p * d[0]: p * d[0] + s[0] * (ho - 1) + 1: s[0],
               q * d[1]: q * d[1] + s[1] * (wo - 1) + 1: s[1]] += gw[:, :, :, :, p, q]
    return gx


def _crop(gx: np.ndarray, pad: tuple, shape: tuple) -> np.ndarray:
    return gx[:, :, pad[0]: pad[0] + shape[2], pad[1]: pad[1] + shape[3]]


def _window_key(shape: tuple, k, s, d, out) -> tuple:
    """The advanced index that reads the windows out of a padded tensor (the composite form)."""
    rows = (np.arange(out[0]) * s[0])[:, None] + (np.arange(k[0]) * d[0])[None, :]   # (Ho, kh)
    cols = (np.arange(out[1]) * s[1])[:, None] + (np.arange(k[1]) * d[1])[None, :]   # (Wo, kw)
    return (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :])


def _pad_tensor(x: Tensor, pad: tuple, extra=(0, 0), value=0.0) -> Tensor:
    """x zero-padded, as a recorded op (IndexPut into zeros); a -inf pad adds a constant."""
    (ph, pw), (eh, ew) = pad, extra
    if not (ph or pw or eh or ew):
        return x
    n, c, h, w = x.shape
    shape = (n, c, h + 2 * ph + eh, w + 2 * pw + ew)
    key = (slice(None), slice(None), slice(ph, ph + h), slice(pw, pw + w))
    out = IndexPut.apply(x, shape=shape, key=key)
    if value != 0:
        fill = np.full(shape, value, dtype=x._data.dtype)
        fill[key] = 0
        out = out + Tensor._make(fill)
    return out


def _composite_grads(composite, inputs, g):
    """Gradients of `composite(*inputs)` for upstream g, recorded (for create_graph=True)."""
    from vizgrad.autograd import grad
    needs = [t for t in inputs if t._requires_grad]
    out = composite(*inputs)
    got = iter(grad(out, needs, g, create_graph=True, allow_unused=True))
    return tuple(next(got) if t._requires_grad else None for t in inputs)


# -- convolution ---------------------------------------------------------------------------------
class Convolution(Op):
    """x (N, C, [H,] W) * weight (O, C/groups, [kh,] kw) (+ bias (O,)); inputs (x, w[, b])."""
    torch_name, symbol, latex = "ConvolutionBackward0", "conv", (r"W \star", r"x \star", "1")
    saved_fields = {"bias_sym_sizes_opt": lambda n: tuple(n.inputs[2].shape) if len(n.inputs) > 2 else (0,),
                    "dilation": lambda n: n._spatial(n.d), "groups": "attr:groups", "input": "input:0",
                    "output_padding": lambda n: n._spatial((0, 0)), "padding": lambda n: n._spatial(n.p),
                    "stride": lambda n: n._spatial(n.s), "transposed": False, "weight": "input:1"}

    def forward(ctx, x, w, b=None, *, stride, padding, dilation, groups):
        ctx.one_d = x.ndim == 3
        if ctx.one_d:
            x, w = x[:, :, None], w[:, :, None]
        ctx.x_shape, ctx.k = x.shape, w.shape[2:]
        ctx.s, ctx.p, ctx.d, ctx.groups = stride, padding, dilation, groups
        xp = _padded(x, padding)
        ctx.padded_shape = xp.shape
        out_hw = tuple(_out_size(x.shape[2 + i], ctx.k[i], stride[i], padding[i], dilation[i]) for i in range(2))
        if min(out_hw) <= 0:
            raise RuntimeError(f"Calculated output size: ({out_hw[0]}x{out_hw[1]}). Output size is too small")
        # im2col: each output position's window as a row, (N*Ho*Wo, C, kh*kw); kept for backward
        cols = ctx.cols = np.ascontiguousarray(_windows(xp, ctx.k, stride, dilation, out_hw).transpose(0, 2, 3, 1, 4, 5)
                                               ).reshape(-1, x.shape[1], ctx.k[0] * ctx.k[1])
        ctx.out_hw = out_hw
        o, cg = w.shape[0], w.shape[1]
        og = o // groups
        out = np.empty((cols.shape[0], o), dtype=np.result_type(x, w))                # (N*Ho*Wo, O)
        for i in range(groups):
            out[:, i * og:(i + 1) * og] = _group_cols(cols, i, cg) @ w[i * og:(i + 1) * og].reshape(og, -1).T
        out = np.ascontiguousarray(out.reshape((x.shape[0],) + out_hw + (o,)).transpose(0, 3, 1, 2))  # (N, O, Ho, Wo)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out[:, :, 0] if ctx.one_d else out

    def backward(ctx, g, out, x, w, b=None):
        if isinstance(g, Tensor):
            return _composite_grads(lambda *ts: conv_composite(*ts, stride=ctx.s, padding=ctx.p, dilation=ctx.d,
                                                               groups=ctx.groups), ctx.inputs, g)
        if ctx.one_d:
            g, w = g[:, :, None], w[:, :, None]
        k, s, d, groups, cols = ctx.k, ctx.s, ctx.d, ctx.groups, ctx.cols
        o, cg = w.shape[0], w.shape[1]
        og, n, c = o // groups, ctx.x_shape[0], ctx.x_shape[1]
        g2 = np.ascontiguousarray(np.asarray(g).transpose(0, 2, 3, 1)).reshape(-1, o)    # (N*Ho*Wo, O)
        need = [t._requires_grad for t in ctx.inputs]
        gx = gw = None
        if need[0]:
            gcols = np.empty(cols.shape, dtype=g2.dtype)                                 # (N*Ho*Wo, C, kh*kw)
            for i in range(groups):
                gcols[:, i * cg:(i + 1) * cg] = (g2[:, i * og:(i + 1) * og] @ w[i * og:(i + 1) * og].reshape(og, -1)
                                                 ).reshape(-1, cg, k[0] * k[1])
            gwin = gcols.reshape((n,) + ctx.out_hw + (c,) + tuple(k)).transpose(0, 3, 1, 2, 4, 5)
            gx = _crop(_add_windows(gwin, ctx.padded_shape, k, s, d), ctx.p, ctx.x_shape)
            gx = gx[:, :, 0] if ctx.one_d else gx
        if need[1]:
            gw = np.concatenate([(g2[:, i * og:(i + 1) * og].T @ _group_cols(cols, i, cg)).reshape((og, cg) + tuple(k))
                                 for i in range(groups)], axis=0)
            gw = gw[:, :, 0] if ctx.one_d else gw
        if b is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if need[2] else None)

    def label(self):
        return f"conv{len(self.k) if not self.one_d else 1}d"

    def local_latex(self):
        return self.latex[:len(self.inputs)]  # (x, w) or (x, w, b)

    def _spatial(self, v: tuple) -> tuple:
        return v[1:] if self.one_d else v


def _group_cols(cols: np.ndarray, i: int, cg: int) -> np.ndarray:
    """Group i's channels of the im2col rows, (N*Ho*Wo, cg*kh*kw)."""
    part = cols[:, i * cg:(i + 1) * cg]
    return part.reshape(part.shape[0], -1)


def conv_composite(x, w, b=None, *, stride, padding, dilation, groups):
    """The same convolution as recorded primitive ops (windows by indexing, then einsum)."""
    one_d = x.dim() == 3
    if one_d:
        x, w = x.unsqueeze(2), w.unsqueeze(2)
    k = tuple(w.shape[2:])
    out_hw = tuple(_out_size(x.shape[2 + i], k[i], stride[i], padding[i], dilation[i]) for i in range(2))
    xp = _pad_tensor(x, padding)
    win = xp[_window_key(tuple(xp.shape), k, stride, dilation, out_hw)]        # (N, C, Ho, Wo, kh, kw)
    n, c = x.shape[:2]
    o = w.shape[0]
    win = reshape(win, (n, groups, c // groups) + out_hw + k)
    wg = reshape(w, (groups, o // groups, c // groups) + k)
    out = reshape(einsum("ngchwij,gocij->ngohw", win, wg), (n, o) + out_hw)
    if b is not None:
        out = out + reshape(b, (1, o, 1, 1))
    return out.squeeze(2) if one_d else out


def _conv_args(x, weight, stride, padding, dilation, groups, n):
    """Validate and normalise (torch's messages); padding may be 'valid' or 'same'."""
    if x.dim() != n + 2:
        raise RuntimeError(f"Expected {n + 1}D (unbatched) or {n + 2}D (batched) input to conv{n}d, but got input "
                           f"of size: {list(x.shape)}")
    stride, dilation = _pair(stride, n), _pair(dilation, n)
    k = tuple(weight.shape[2:])
    if padding == "valid":
        padding = (0,) * n
    elif padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        total = [dilation[i] * (k[i] - 1) for i in range(n)]
        if any(t % 2 for t in total):
            raise NotImplementedError("padding='same' with an even kernel (asymmetric padding) is not supported")
        padding = tuple(t // 2 for t in total)
    padding = _pair(padding, n)
    c = x.shape[1]
    if c != weight.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
                           f"{list(x.shape)} to have {weight.shape[1] * groups} channels, but got {c} channels "
                           "instead")
    size = [x.shape[2 + i] + 2 * padding[i] for i in range(n)]
    span = [dilation[i] * (k[i] - 1) + 1 for i in range(n)]
    if any(size[i] < span[i] for i in range(n)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, size))}). Kernel size: "
                           f"({' x '.join(map(str, span))}). Kernel size can't be greater than actual input size")
    if n == 1:
        stride, padding, dilation = (1,) + stride, (0,) + padding, (1,) + dilation
    return stride, padding, dilation


def _conv(input, weight, bias, stride, padding, dilation, groups, n):
    unbatched = input.dim() == n + 1
    x = input.unsqueeze(0) if unbatched else input
    s, p, d = _conv_args(x, weight, stride, padding, dilation, groups, n)
    ts = (x, weight) if bias is None else (x, weight, bias)
    out = Convolution.apply(*ts, stride=s, padding=p, dilation=d, groups=groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


class ConvTranspose(Op):
    """The transposed convolution (the input gradient of a convolution, as a layer): every input
    pixel scatters weight-scaled copies of the kernel into the output. x (N, Cin, H, W), weight
    (Cin, Cout, kh, kw); groups = 1. torch records it as ConvolutionBackward0 (transposed=True)."""
    symbol, latex = "convᵀ", (r"W \star^{\top}", r"x \star^{\top}", "1")
    saved_fields = {"bias_sym_sizes_opt": lambda n: tuple(n.inputs[2].shape) if len(n.inputs) > 2 else (0,),
                    "dilation": "attr:d", "groups": 1, "input": "input:0", "output_padding": "attr:op",
                    "padding": "attr:p", "stride": "attr:s", "transposed": True, "weight": "input:1"}

    def forward(ctx, x, w, b=None, *, stride, padding, dilation, output_padding):
        n, cin, h, wd = x.shape
        cout, k = w.shape[1], w.shape[2:]
        ctx.s, ctx.p, ctx.d, ctx.op, ctx.k, ctx.x_shape = stride, padding, dilation, output_padding, k, x.shape
        # the full (uncropped) output: room for every scattered kernel, plus output_padding
        ctx.full = (n, cout) + tuple((x.shape[2 + i] - 1) * stride[i] + dilation[i] * (k[i] - 1) + 1 + output_padding[i]
                                     for i in range(2))
        ctx.out_hw = tuple(ctx.full[2 + i] - 2 * padding[i] for i in range(2))
        if min(ctx.out_hw) <= 0:
            raise RuntimeError(f"Given input size per channel: ({h} x {wd}). Calculated output size per channel: "
                               f"({ctx.out_hw[0]} x {ctx.out_hw[1]}). Output size is too small")
        x2 = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(-1, cin)         # (N*H*W, Cin)
        cols = (x2 @ w.reshape(cin, -1)).reshape(n, h, wd, cout, k[0], k[1])        # each pixel's kernel copy
        out = _crop(_add_windows(cols.transpose(0, 3, 1, 2, 4, 5), ctx.full, k, stride, dilation), padding,
                    (n, cout) + ctx.out_hw)
        out = np.ascontiguousarray(out)
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    def backward(ctx, g, out, x, w, b=None):
        if isinstance(g, Tensor):
            return _composite_grads(lambda *ts: conv_transpose_composite(ctx, *ts), ctx.inputs, g)
        n, cin, h, wd = ctx.x_shape
        gfull = np.zeros(ctx.full, dtype=np.result_type(g))                          # g placed in the full output
        gfull[:, :, ctx.p[0]:ctx.p[0] + ctx.out_hw[0], ctx.p[1]:ctx.p[1] + ctx.out_hw[1]] = g
        cols = np.ascontiguousarray(_windows(gfull, ctx.k, ctx.s, ctx.d, (h, wd)).transpose(0, 2, 3, 1, 4, 5)
                                    ).reshape(n * h * wd, -1)                        # (N*H*W, Cout*kh*kw)
        need = [t._requires_grad for t in ctx.inputs]
        gx = (cols @ w.reshape(cin, -1).T).reshape(n, h, wd, cin).transpose(0, 3, 1, 2) if need[0] else None
        gw = (np.ascontiguousarray(x.transpose(0, 2, 3, 1)).reshape(-1, cin).T @ cols).reshape(w.shape) \
            if need[1] else None
        if b is None:
            return gx, gw
        return gx, gw, (np.sum(g, axis=(0, 2, 3)) if need[2] else None)

    def local_latex(self):
        return self.latex[:len(self.inputs)]


ConvTranspose.torch_name = "ConvolutionBackward0"  # set after the class: OPS keeps Convolution for the name


def conv_transpose_composite(ctx, x, w, b=None):
    """The same as recorded ops: per-pixel kernel copies (einsum), scattered into the full output
    (IndexPut with the windows' index, which accumulates overlaps), cropped."""
    n, cin, h, wd = x.shape
    cout = w.shape[1]
    copies = einsum("nchw,cokl->nohwkl", x, w)                                        # (N, Cout, H, W, kh, kw)
    full = IndexPut.apply(copies, shape=ctx.full, key=_window_key(ctx.full, ctx.k, ctx.s, ctx.d, (h, wd)))
    out = full[:, :, ctx.p[0]:ctx.p[0] + ctx.out_hw[0], ctx.p[1]:ctx.p[1] + ctx.out_hw[1]]
    return out + reshape(b, (1, cout, 1, 1)) if b is not None else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    if groups != 1:
        raise NotImplementedError("conv_transpose2d with groups > 1 is not supported")
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    if x.dim() != 4:
        raise RuntimeError(f"Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of "
                           f"size: {list(input.shape)}")
    if x.shape[1] != weight.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected input{list(x.shape)} "
                           f"to have {weight.shape[0]} channels, but got {x.shape[1]} channels instead")
    s, p, op, d = _pair(stride), _pair(padding), _pair(output_padding), _pair(dilation)
    for i in range(2):
        if op[i] >= max(s[i], d[i]):
            raise RuntimeError("output padding must be smaller than either stride or dilation, but got "
                               f"output_padding_height: {op[0]} output_padding_width: {op[1]} stride_height: {s[0]} "
                               f"stride_width: {s[1]} dilation_height: {d[0]} dilation_width: {d[1]}")
    ts = (x, weight) if bias is None else (x, weight, bias)
    out = ConvTranspose.apply(*ts, stride=s, padding=p, dilation=d, output_padding=op)
    return out.squeeze(0) if unbatched else out


# -- pooling -------------------------------------------------------------------------------------
def _pool_geometry(x_shape, kernel_size, stride, padding, dilation, ceil_mode):
    k = _pair(kernel_size)
    s = _pair(stride) if stride not in (None, ()) and stride != [] else k
    p, d = _pair(padding), _pair(dilation)
    for i in range(2):
        if p[i] * 2 > k[i]:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                               f"kernel_size={k[i]} and dilation={d[i]}")
    out = tuple(_out_size(x_shape[2 + i], k[i], s[i], p[i], d[i], ceil_mode) for i in range(2))
    if min(out) <= 0:
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, x_shape[1:]))}). Calculated output size: "
                           f"({x_shape[1]}x{out[0]}x{out[1]}). Output size is too small")
    # ceil_mode can need windows that run past the right padding: pad that much more
    extra = tuple(max(0, (out[i] - 1) * s[i] + d[i] * (k[i] - 1) + 1 - (x_shape[2 + i] + 2 * p[i])) for i in range(2))
    return k, s, p, d, out, extra


class MaxPool(Op):
    """The max of each window; the gradient goes to the (first) maximal element of each window."""
    torch_name, symbol, latex = "MaxPool2DWithIndicesBackward0", "maxpool", (r"[a = \max]",)
    saved_fields = {"ceil_mode": "attr:ceil_mode", "dilation": lambda n: n.geometry[3],
                    "kernel_size": lambda n: n.geometry[0], "padding": lambda n: n.geometry[2],
                    "result1": "const:indices", "self": "input:0", "stride": "attr:stride"}

    def forward(ctx, x, geometry, ceil_mode=False, stride=()):
        ctx.ceil_mode, ctx.stride = ceil_mode, stride  # as given: torch saves () for "the kernel size"
        ctx.unbatched = x.ndim == 3  # (C, H, W): one node, as torch records it
        if ctx.unbatched:
            x = x[None]
        k, s, p, d, out, extra = geometry
        ctx.geometry, ctx.x_shape = geometry, x.shape
        xp = _padded(x, p, -np.inf, extra)
        win = _windows(xp, k, s, d, out).reshape(x.shape[:2] + out + (k[0] * k[1],))
        arg = win.argmax(axis=-1)                                       # (N, C, Ho, Wo)
        ctx.arg = arg
        # the flat index of each maximum in the unpadded (H, W) plane, which torch returns
        pi, qi = np.divmod(arg, k[1])
        rows = np.arange(out[0])[:, None] * s[0] + pi * d[0] - p[0]
        cols = np.arange(out[1])[None, :] * s[1] + qi * d[1] - p[1]
        ctx.indices = rows * x.shape[3] + cols
        out = np.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        if ctx.unbatched:
            ctx.indices = ctx.indices[0]
            return out[0]
        return out

    def backward(ctx, g, out, x):
        n, c, h, w = ctx.x_shape
        flat_idx = ctx.indices.reshape(n, c, -1)
        shape = ctx.x_shape[1:] if ctx.unbatched else ctx.x_shape
        if isinstance(g, Tensor):
            z = Tensor._make(np.zeros((n, c, h * w), dtype=g._data.dtype))
            return (reshape(ScatterAdd.apply(z, reshape(g, (n, c, -1)), dim=2, idx=flat_idx), shape),)
        gx = np.zeros((n, c, h * w), dtype=np.result_type(g))
        np.add.at(gx, (np.arange(n)[:, None, None], np.arange(c)[None, :, None], flat_idx), g.reshape(n, c, -1))
        return (gx.reshape(shape),)

    def saved(self, k):
        return False  # the indices are kept, not the input (as torch)


class AvgPool(Op):
    torch_name, symbol, latex, saves = "AvgPool2DBackward0", "avgpool", (r"\tfrac{1}{k}",), False

    def forward(ctx, x, geometry, count_include_pad, divisor_override):
        k, s, p, d, out, extra = geometry
        ctx.geometry, ctx.x_shape = geometry, x.shape
        xp = _padded(x, p, 0.0, extra)
        ctx.padded_shape = xp.shape
        win = _windows(xp, k, s, d, out)
        ctx.div = _avg_divisor(x.shape, geometry, count_include_pad, divisor_override).astype(x.dtype)
        return (win.sum(axis=(4, 5)) / ctx.div).astype(x.dtype)

    def backward(ctx, g, out, x):
        k, s, p, d, out_hw, extra = ctx.geometry
        if isinstance(g, Tensor):
            return _composite_grads(lambda t: _avg_composite(t, ctx.geometry, ctx.div), ctx.inputs, g)
        gw = np.broadcast_to((g / ctx.div)[..., None, None], g.shape + k)
        return (_crop(_add_windows(gw, ctx.padded_shape, k, s, d), p, ctx.x_shape),)


def _avg_divisor(x_shape, geometry, count_include_pad, divisor_override) -> np.ndarray:
    """Per output position: the divisor torch uses (the window size, clipped to the padded input;
    without count_include_pad, the number of real input elements in the window)."""
    k, s, p, d, out, extra = geometry
    if divisor_override:
        return np.full(out, float(divisor_override))
    sizes = []
    for i in range(2):
        start = np.arange(out[i]) * s[i] - p[i]
        end = np.minimum(start + k[i], x_shape[2 + i] + p[i])
        if not count_include_pad:
            start, end = np.maximum(start, 0), np.minimum(end, x_shape[2 + i])
        sizes.append(end - start)
    return (sizes[0][:, None] * sizes[1][None, :]).astype(np.float64)


def _avg_composite(x, geometry, div):
    k, s, p, d, out, extra = geometry
    xp = _pad_tensor(x, p, extra)
    win = xp[_window_key(tuple(xp.shape), k, s, d, out)]
    return win.sum((4, 5)) / Tensor._make(div)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    if input.dim() not in (3, 4):
        raise RuntimeError(f"non-empty 3D or 4D (batch mode) tensor expected for input, but got {list(input.shape)}")
    batched = tuple(input.shape) if input.dim() == 4 else (1,) + tuple(input.shape)
    geometry = _pool_geometry(batched, kernel_size, stride, padding, dilation, ceil_mode)
    given = () if stride is None or (isinstance(stride, (tuple, list)) and not stride) else _pair(stride)
    out = MaxPool.apply(input, geometry=geometry, ceil_mode=bool(ceil_mode), stride=tuple(given))
    if not return_indices:
        return out
    idx = out.grad_fn.indices if out.grad_fn is not None else _max_indices(input, geometry)
    return out, Tensor._make(idx.astype(np.int64))


def _max_indices(x, geometry):
    probe = object.__new__(MaxPool)
    MaxPool.forward(probe, x._data, geometry)
    return probe.indices.astype(np.int64)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    geometry = _pool_geometry(tuple(x.shape), kernel_size, stride, padding, 1, ceil_mode)
    out = AvgPool.apply(x, geometry=geometry, count_include_pad=count_include_pad,
                          divisor_override=divisor_override)
    return out.squeeze(0) if unbatched else out


def _adaptive_spans(n: int, out: int) -> list:
    """torch's adaptive pooling cells along one axis: [floor(i n / out), ceil((i + 1) n / out))."""
    return [((i * n) // out, -(-((i + 1) * n) // out)) for i in range(out)]


class AdaptiveAvgPool(Op):
    """Each output cell is the mean of its span of the input (spans may overlap)."""
    torch_name, symbol, latex, saves = "AdaptiveAvgPool2DBackward0", "adaptive avg", (r"\tfrac{1}{|cell|}",), False
    saved_fields = {"self": "input:0"}

    def forward(ctx, x, out_hw):
        h, w = x.shape[-2:]
        ctx.rows, ctx.cols, ctx.x_shape = _adaptive_spans(h, out_hw[0]), _adaptive_spans(w, out_hw[1]), x.shape
        out = np.empty(x.shape[:-2] + tuple(out_hw), dtype=x.dtype)
        for i, (r0, r1) in enumerate(ctx.rows):
            for j, (c0, c1) in enumerate(ctx.cols):
                out[..., i, j] = x[..., r0:r1, c0:c1].mean(axis=(-2, -1))
        return out

    def backward(ctx, g, out, x):
        if isinstance(g, Tensor):
            return _composite_grads(lambda t: _adaptive_composite(t, ctx.rows, ctx.cols), ctx.inputs, g)
        gx = np.zeros(ctx.x_shape, dtype=np.result_type(g))
        for i, (r0, r1) in enumerate(ctx.rows):
            for j, (c0, c1) in enumerate(ctx.cols):
                gx[..., r0:r1, c0:c1] += (g[..., i, j] / ((r1 - r0) * (c1 - c0)))[..., None, None]
        return (gx,)


def _adaptive_composite(x, rows, cols):
    from vizgrad.ops.index import stack
    return stack([stack([_mean(x[..., r0:r1, c0:c1], (-2, -1)) for c0, c1 in cols], -1) for r0, r1 in rows], -2)


def adaptive_avg_pool2d(input, output_size):
    h, w = input.shape[-2:]
    ho, wo = _pair(output_size)
    ho, wo = ho or h, wo or w
    if (ho, wo) == (1, 1):  # torch: a mean over the plane (MeanBackward1)
        return _mean(input, (-2, -1), keepdim=True)
    return AdaptiveAvgPool.apply(input, out_hw=(ho, wo))


def _one_d(fn, input, *args):
    """A 1-d pooling as the 2-d one over a height of 1 (torch records the squeeze last, as here)."""
    return fn(input.unsqueeze(-2), *args).squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    k, s = _pair(kernel_size, 1)[0], (_pair(stride, 1)[0] if stride is not None else None)
    out = max_pool2d(input.unsqueeze(-2), (1, k), (1, s if s is not None else k), (0, _pair(padding, 1)[0]),
                     (1, _pair(dilation, 1)[0]), ceil_mode, return_indices)
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    k = _pair(kernel_size, 1)[0]
    s = _pair(stride, 1)[0] if stride is not None else k
    return _one_d(avg_pool2d, input, (1, k), (1, s), (0, _pair(padding, 1)[0]), ceil_mode, count_include_pad)


def adaptive_avg_pool1d(input, output_size):
    return _one_d(adaptive_avg_pool2d, input, (1, _pair(output_size, 1)[0]))


# -- embedding -----------------------------------------------------------------------------------
class EmbeddingLookup(Op):
    """weight[indices]: rows looked up; the gradient of a row sums over its uses (padding_idx: 0)."""
    torch_name, symbol, latex, saves = "EmbeddingBackward0", "embed", ("1",), False
    saved_fields = {"indices": "const:idx", "padding_idx": lambda n: 2 ** 64 - 1 if n.padding_idx is None else n.padding_idx,
                    "scale_grad_by_freq": False, "sparse": False, "weight_sym_argsize_0": lambda n: n.w_shape[0]}

    def forward(ctx, w, idx, padding_idx):
        ctx.idx, ctx.padding_idx, ctx.w_shape = idx, padding_idx, w.shape
        return w[idx]

    def backward(ctx, g, out, w):
        idx = ctx.idx.reshape(-1)
        dim = ctx.w_shape[1]
        if ctx.padding_idx is not None:  # that row's uses send nothing back
            keep = idx != ctx.padding_idx
        else:
            keep = None
        if isinstance(g, Tensor):
            gf = reshape(g, (-1, dim))
            if keep is not None:
                gf = gf * Tensor._make(keep[:, None].astype(g._data.dtype))
            return (IndexAdd.apply(Tensor._make(np.zeros(ctx.w_shape, g._data.dtype)), gf, dim=0, idx=idx, alpha=1),)
        gw = np.zeros(ctx.w_shape, dtype=np.result_type(g))
        gf = np.reshape(g, (-1, dim))
        if keep is not None:
            idx, gf = idx[keep], gf[keep]
        np.add.at(gw, idx, gf)
        return (gw,)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    idx = np.asarray(_arr(input))
    if idx.dtype.kind not in "iu":
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{Tensor._make(idx).dtype.tensor_type} instead (while checking "
                           "arguments for embedding)")
    n = weight.shape[0]
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if padding_idx is not None and padding_idx < 0:
        padding_idx += n
    if max_norm is not None:
        raise NotImplementedError("embedding(max_norm=...) is not supported")
    return EmbeddingLookup.apply(weight, idx=idx.astype(np.int64), padding_idx=padding_idx)

