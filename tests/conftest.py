import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

# ../shared/data beside the repository (CI layout), or $GLASSNET_DATA
_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir():
    d = os.environ.get("GLASSNET_DATA") or (str(_SHARED) if _SHARED.is_dir() else None)
    if d is None or not Path(d).is_dir():
        pytest.skip(f"real data not found: neither $GLASSNET_DATA nor {_SHARED} exists")
    return d
