"""torch.utils.data.dataloader: DataLoader and the collate functions (in vizgrad/utils/data/__init__.py)."""
from vizgrad.utils.data import DataLoader, default_collate, default_convert, get_worker_info  # noqa: F401
