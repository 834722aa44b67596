"""torch.utils.data.sampler: the samplers (they live in vizgrad/utils/data/__init__.py)."""
from vizgrad.utils.data import (BatchSampler, RandomSampler, Sampler, SequentialSampler,  # noqa: F401
                                SubsetRandomSampler, WeightedRandomSampler)
