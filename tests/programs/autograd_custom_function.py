# A custom autograd.Function: forward and backward written by hand.
import torch


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, grad_out):
        (x,) = ctx.saved_tensors
        return 2 * x * grad_out


class ClampGrad(torch.autograd.Function):
    """Identity forward; the gradient is clipped to [-1, 1] on the way back."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return g.clamp(-1.0, 1.0)


x = torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)
y = Square.apply(x)
print(y)
y.sum().backward()
print("grad of square:", x.grad)
x.grad = None
z = ClampGrad.apply(x) * 5
z.sum().backward()
print("clipped grad:", x.grad)
