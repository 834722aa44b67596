# Saving and restoring the generator's state replays the same numbers.
import torch

torch.manual_seed(2024)
state = torch.get_rng_state()
first = torch.rand(4)
torch.set_rng_state(state)
second = torch.rand(4)
print(first)
print(torch.equal(first, second))
x = torch.empty(3).uniform_(-1, 1)
print(x)
print(torch.bernoulli(torch.full((6,), 0.5)))
