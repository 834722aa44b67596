"""SGD, Adam, AdamW, RMSprop: torch's single-tensor CPU update order, on numpy arrays in place.

Each line names the torch statement it mirrors; float32 arrays times Python floats stay float32
(numpy's weak scalars), as torch's scalar arguments do.
"""
from __future__ import annotations

import numpy as np

from vizgrad.optim.optimizer import Optimizer, _arr, _step_tensor, _zeros_state
from vizgrad.tensor import Tensor


def _init_state(state: dict, p: Tensor, *buffers: str) -> dict:
    """A parameter's state on its first step, as torch sets it up: a step count of 0 and a zero
    tensor (p's shape and dtype) per named buffer, in that order (state_dict() keeps it)."""
    if not state:
        state["step"] = _step_tensor()
        for name in buffers:
            state[name] = _zeros_state(p)
    return state


def _lerp_(a: np.ndarray, b: np.ndarray, w: float) -> None:
    """a.lerp_(b, w) with torch's two-branch formula."""
    if abs(w) < 0.5:
        a += w * (b - a)
    else:
        np.subtract(b, (b - a) * (1 - w), out=a)


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False, foreach=None,
                 differentiable: bool = False, fused=None):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach, differentiable=differentiable,
                        fused=fused)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                param = _arr(p)
                grad = np.asarray(p._grad._data)
                if maximize:
                    grad = -grad
                if wd != 0:
                    grad = grad + wd * param                              # grad.add(param, alpha=wd)
                if momentum != 0:
                    state = self.state[p]
                    buf_t = state.get("momentum_buffer")
                    if buf_t is None:
                        buf_t = state["momentum_buffer"] = Tensor._make(np.array(grad))  # grad.clone()
                        buf = buf_t._data
                    else:
                        buf = _arr(buf_t)
                        buf *= momentum                                   # buf.mul_(momentum)
                        buf += (1 - dampening) * grad                     # .add_(grad, alpha=1-dampening)
                    grad = grad + momentum * buf if nesterov else buf
                param -= lr * grad                                        # param.add_(grad, alpha=-lr)
                p._version += 1
        return loss


class Adam(Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 0,
                 amsgrad: bool = False, *, foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            if not self._flat_step(group):
                self._param_step(group)
        return loss

    # -- fast path: one set of numpy ops over all of a group's parameters -------------------------
    # The update is elementwise, so running it on the concatenation of the group's gradients gives
    # bit-identical results with ~20 numpy calls instead of ~13 per parameter. exp_avg/exp_avg_sq
    # stay per-parameter Tensors in self.state (their arrays are views into one flat buffer); the
    # parameters keep their own arrays (torch's storage never moves), updated from views of `upd`.
    def _flat_layout(self, group):
        """The cached _FlatAdam for `group`: rebuilt when the group's parameters or their state
        were replaced (load_state_dict, a new param list); None when the fast path does not apply."""
        params = group["params"]
        cache = self.__dict__.setdefault("_flat_cache", {})
        c = cache.get(id(group))
        if c is not None and c.valid(params, self.state):
            return c
        dt = params[0]._data.dtype
        for p in params:
            if type(p._data) is not np.ndarray or p._data.dtype != dt:
                return None
        steps = {float(self.state[p]["step"]._data) if self.state.get(p) else 0.0 for p in params}
        if len(steps) != 1:  # parameters at different steps (added to the group later): per parameter
            return None
        c = cache[id(group)] = _FlatAdam(params, self.state, dt)
        return c

    def _flat_step(self, group) -> bool:
        params = group["params"]
        if group["amsgrad"] or len(params) < 2:
            return False
        grads = []
        for p in params:
            g = p._grad
            if g is None:
                return False
            grads.append(g._data)
        c = self._flat_layout(group)
        if c is None:
            return False
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq, grad, tmp = c.exp_avg, c.exp_avg_sq, c.grad, c.tmp
        np.concatenate(grads, axis=None, out=grad)
        if group["maximize"]:
            np.negative(grad, out=grad)
        step = c.next_step()                                               # step_t += 1
        if wd != 0:
            if group["decoupled_weight_decay"]:
                for p in params:
                    p._data *= 1 - lr * wd                                 # param.mul_(1 - lr * wd)
            else:
                np.concatenate([p._data for p in params], axis=None, out=tmp)
                tmp *= wd
                grad += tmp                                                # grad.add(param, alpha=wd)
        w = 1 - beta1                                                      # exp_avg.lerp_(grad, 1 - beta1)
        if abs(w) < 0.5:
            np.subtract(grad, exp_avg, out=tmp)
            tmp *= w
            exp_avg += tmp
        else:
            _lerp_(exp_avg, grad, w)
        exp_avg_sq *= beta2                                                # exp_avg_sq.mul_(beta2)
        np.multiply(grad, 1 - beta2, out=tmp)                              # .addcmul_(grad, grad, value=1-beta2)
        tmp *= grad
        exp_avg_sq += tmp
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        denom = np.sqrt(exp_avg_sq, out=tmp)
        denom /= bias_correction2 ** 0.5
        denom += eps
        upd = np.multiply(exp_avg, -step_size, out=grad)                   # addcdiv_(exp_avg, denom, -step_size)
        upd /= denom
        for p, u in zip(params, c.upd_views):
            p._data += u
            p._version += 1
        return True

    def _param_step(self, group):
        """The per-parameter update (amsgrad, single parameters, mixed dtypes or steps)."""
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        amsgrad, maximize, decoupled = group["amsgrad"], group["maximize"], group["decoupled_weight_decay"]
        w1, w2 = 1 - beta1, 1 - beta2
        for p in group["params"]:
            if p._grad is None:
                continue
            param = _arr(p)
            grad = np.asarray(p._grad._data)
            state = _init_state(self.state[p], p, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ()))
            if maximize:
                grad = -grad
            step_a = _arr(state["step"])
            step_a += 1                                                # step_t += 1
            if wd != 0:
                if decoupled:
                    param *= 1 - lr * wd                               # param.mul_(1 - lr * wd)
                else:
                    grad = grad + wd * param                           # grad.add(param, alpha=wd)
            exp_avg, exp_avg_sq = _arr(state["exp_avg"]), _arr(state["exp_avg_sq"])
            _lerp_(exp_avg, grad, w1)                                  # exp_avg.lerp_(grad, 1 - beta1)
            exp_avg_sq *= beta2                                        # exp_avg_sq.mul_(beta2)
            exp_avg_sq += (w2 * grad) * grad                           # .addcmul_(grad, grad, value=1-beta2)
            step = float(step_a)
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2 ** 0.5
            if amsgrad:
                mx = _arr(state["max_exp_avg_sq"])
                np.maximum(mx, exp_avg_sq, out=mx)
                denom = np.sqrt(mx)
            else:
                denom = np.sqrt(exp_avg_sq)
            denom /= bias_correction2_sqrt                             # (sqrt / bc2_sqrt)
            denom += eps                                               # .add_(eps)
            upd = (-step_size) * exp_avg                               # addcdiv_(exp_avg, denom, value=-step_size)
            upd /= denom
            param += upd
            p._version += 1


class AdamW(Adam):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8, weight_decay: float = 1e-2,
                 amsgrad: bool = False, *, maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0,
                 momentum: float = 0, centered: bool = False, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False):
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def step(self, closure=None):
        loss = self._closure(closure)
        for group in self.param_groups:
            lr, alpha, eps, wd = group["lr"], group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p in group["params"]:
                if p._grad is None:
                    continue
                param = _arr(p)
                grad = np.asarray(p._grad._data)
                state = _init_state(self.state[p], p, "square_avg", *(("momentum_buffer",) if momentum > 0 else ()),
                                    *(("grad_avg",) if centered else ()))
                if maximize:
                    grad = -grad
                _arr(state["step"])[...] += 1
                if wd != 0:
                    grad = grad + wd * param                               # grad.add(param, alpha=wd)
                square_avg = _arr(state["square_avg"])
                square_avg *= alpha                                        # square_avg.mul_(alpha)
                square_avg += ((1 - alpha) * grad) * grad                  # .addcmul_(grad, grad, value=1-alpha)
                if centered:
                    grad_avg = _arr(state["grad_avg"])
                    _lerp_(grad_avg, grad, 1 - alpha)                      # grad_avg.lerp_(grad, 1 - alpha)
                    avg = np.sqrt(square_avg + (-1 * grad_avg) * grad_avg)  # addcmul(ga, ga, value=-1).sqrt_()
                else:
                    avg = np.sqrt(square_avg)
                avg += eps                                                 # avg.add_(eps)
                if momentum > 0:
                    buf = _arr(state["momentum_buffer"])
                    buf *= momentum                                        # buf.mul_(momentum)
                    buf += grad / avg                                      # .addcdiv_(grad, avg)
                    param -= lr * buf                                      # param.add_(buf, alpha=-lr)
                else:
                    param += ((-lr) * grad) / avg                          # param.addcdiv_(grad, avg, value=-lr)
                p._version += 1
        return loss


class _FlatAdam:
    """One Adam param group's flat buffers: exp_avg / exp_avg_sq (the state tensors' arrays are
    views into them), the step count shared by all parameters, and scratch space for the update."""

    def __init__(self, params, state, dt):
        self.params = list(params)
        self.arrays = [p._data for p in params]
        self.sizes = [p._data.size for p in params]
        n = sum(self.sizes)
        self.exp_avg, self.exp_avg_sq = np.zeros(n, dtype=dt), np.zeros(n, dtype=dt)
        self.grad, self.tmp = np.empty(n, dtype=dt), np.empty(n, dtype=dt)
        self.states, self.views, self.upd_views = [], [], []
        step = np.float32(0)
        a = 0
        for p, size in zip(params, self.sizes):
            st = _init_state(state[p], p, "exp_avg", "exp_avg_sq")
            step = np.float32(st["step"]._data)
            shape = p._data.shape
            mv = self.exp_avg[a:a + size].reshape(shape)
            vv = self.exp_avg_sq[a:a + size].reshape(shape)
            mv[...] = st["exp_avg"]._data
            vv[...] = st["exp_avg_sq"]._data
            st["exp_avg"]._data, st["exp_avg_sq"]._data = mv, vv
            self.states.append(st)
            self.views.append((mv, vv))
            self.upd_views.append(self.grad[a:a + size].reshape(shape))  # the update lands in `grad`
            a += size
        self.step = step
        for st in self.states:
            st["step"]._data = step   # one immutable numpy scalar shared by all: cheap to check

    def valid(self, params, state) -> bool:
        """Still this group's layout: same parameters (arrays, dtypes, shapes) and untouched state."""
        mine = self.params
        if len(params) != len(mine):
            return False
        step = self.step
        for p, q, d, st, (mv, vv) in zip(params, mine, self.arrays, self.states, self.views):
            # the same arrays (so the same shapes and dtypes) and the state this layout made
            if (p is not q or p._data is not d or state.get(p) is not st or st["exp_avg"]._data is not mv
                    or st["exp_avg_sq"]._data is not vv or st["step"]._data is not step):
                return False
        return True

    def next_step(self) -> float:
        self.step = step = np.float32(self.step + 1)
        for st in self.states:
            st["step"]._data = step
        return float(step)
