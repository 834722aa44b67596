"""torch.utils.data.dataset: the dataset classes (they live in vizgrad/utils/data/__init__.py)."""
from vizgrad.utils.data import ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split  # noqa: F401
