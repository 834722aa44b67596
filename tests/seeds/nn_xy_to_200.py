# Seed 000_7f431da255874b63 (Dracula, "The Code That Brought Dracula's Story to Life"): SGD drives x * y to 200.
import torch
x = torch.tensor([5.0], requires_grad=True)
y = torch.tensor([10.0], requires_grad=True)
z = x * y
z.backward()
optimizer = torch.optim.SGD([x, y], lr=0.01)
for i in range(1000):
    output = x * y
    loss = torch.abs(output - 200)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
print("x:", x)
print("y:", y)
print("output:", x * y)
