"""vizgrad.utils: torch.utils's data loading (vizgrad.utils.data: Dataset, DataLoader ...)."""
from vizgrad.utils import data  # noqa: F401  (torch.utils.data is there after `import torch`)
