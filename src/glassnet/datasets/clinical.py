"""UCI cervical cancer (risk factors), as used by the IRLS-ADMM paper (Sec. IV.B.1)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from glassnet.datasets._base import check_draw, require_file

CERVICAL_FILE = "cervical_cancer/risk_factors_cervical_cancer.csv"
CERVICAL_SOURCE = (
    "the UCI Machine Learning Repository, 'Cervical cancer (Risk Factors)' "
    "(risk_factors_cervical_cancer.csv, missing values written '?')"
)
CERVICAL_TARGETS = ["Hinselmann", "Schiller", "Citology", "Biopsy"]
# Two columns are missing for 787 of 858 patients; keeping them would leave ~70 patients.
CERVICAL_SPARSE_COLUMNS = ["STDs: Time since first diagnosis", "STDs: Time since last diagnosis"]


@dataclass
class TabularData:
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    description: str


def load_cervical_cancer(data_dir=None, min_votes: int = 3, min_nonzero: int = 10) -> TabularData:
    """Consensus label and filtered features of the IRLS-ADMM paper.

    ``y = +1`` when at least ``min_votes`` of Hinselmann, Schiller, Citology, Biopsy are
    positive, else ``-1``. The two time-since-diagnosis columns (missing for 787/858 patients)
    are dropped, then patients with any missing value, then features with fewer than
    ``min_nonzero`` nonzero records. On the UCI file this gives 668 patients x 21 features (the
    paper reports 737 patients and 21 features; its exact missing-value rule is not stated).
    """
    check_draw(min_votes=min_votes, min_nonzero_or_0=min_nonzero)
    if min_votes > len(CERVICAL_TARGETS):
        raise ValueError(f"min_votes must be at most {len(CERVICAL_TARGETS)} (the number of tests), "
                         f"got {min_votes}")
    path = require_file(data_dir, CERVICAL_FILE, CERVICAL_SOURCE)
    try:
        df = pd.read_csv(path, na_values="?")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"{path} cannot be read as the cervical cancer CSV ({err})") from err
    missing = [c for c in CERVICAL_TARGETS if c not in df.columns]
    if missing:
        raise ValueError(f"{path} lacks the target columns {missing}")
    df = df.drop(columns=[c for c in CERVICAL_SPARSE_COLUMNS if c in df.columns]).dropna()
    try:
        votes = df[CERVICAL_TARGETS].astype(np.float64).sum(axis=1)
        feats = df.drop(columns=CERVICAL_TARGETS).astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{path} holds non-numeric values ({err})") from err
    keep = (feats != 0).sum(axis=0) >= min_nonzero
    feats = feats.loc[:, keep]
    if feats.shape[0] == 0 or feats.shape[1] == 0:
        raise ValueError(f"{path}: no {'patient' if feats.shape[0] == 0 else 'feature'} is left after "
                         f"dropping missing values and features with fewer than {min_nonzero} "
                         "nonzero records")
    y = np.where(votes >= min_votes, 1, -1)
    return TabularData(
        X=feats.to_numpy(dtype=np.float64),
        y=y,
        feature_names=list(feats.columns),
        description=f"cervical cancer risk factors: {len(y)} patients, {feats.shape[1]} features, "
        f"{int((y == 1).sum())} positive by >= {min_votes} of 4 tests",
    )
