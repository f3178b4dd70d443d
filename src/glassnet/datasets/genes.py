"""Gene-expression microarray matrices (scikit-feature ``.mat`` files and GEMS ``Brain_Tumor1``)."""

from __future__ import annotations

import numpy as np

from glassnet.datasets._base import read_mat, require_file
from glassnet.datasets.clinical import TabularData

GENE_EXPRESSION_SETS = {
    "ALLAML": "Golub et al. 1999, ALL vs AML (scikit-feature ALLAML.mat)",
    "leukemia": "Golub et al. 1999, scikit-feature's 7070-gene leukemia.mat",
    "colon": "Alon et al. 1999, colon tumour vs normal (scikit-feature colon.mat)",
    "Prostate_GE": "Singh et al. 2002, prostate tumour vs normal (scikit-feature Prostate_GE.mat)",
    "CNS": "Pomeroy et al. 2002 dataset C, medulloblastoma outcome (scikit-feature CNS.mat)",
    "GLIOMA": "Nutt et al. 2003, four glioma classes (scikit-feature GLIOMA.mat)",
}

BRAIN_TUMOR1_FILE = "gene_expression/Brain_Tumor1.csv"
BRAIN_TUMOR1_CLASSES = {
    0: "medulloblastoma",
    1: "malignant glioma",
    2: "AT/RT",
    3: "normal cerebellum",
    4: "PNET",
}


def load_gene_expression(name: str, data_dir=None) -> TabularData:
    """Load ``gene_expression/<name>.mat`` (variables ``X`` samples x genes, ``Y`` from 1)."""
    if name not in GENE_EXPRESSION_SETS:
        raise ValueError(f"unknown gene-expression set {name!r}; known: {sorted(GENE_EXPRESSION_SETS)}")
    path = require_file(
        data_dir, f"gene_expression/{name}.mat", f"the scikit-feature repository: {GENE_EXPRESSION_SETS[name]}"
    )
    mat = read_mat(path, "X", "Y")
    X = np.asarray(mat["X"], dtype=np.float64)
    y = np.asarray(mat["Y"]).ravel().astype(int)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{path}: X has {X.shape[0]} rows but Y has {y.shape[0]}")
    return TabularData(X, y, [f"gene_{j}" for j in range(X.shape[1])], GENE_EXPRESSION_SETS[name])


def load_brain_tumor1(data_dir=None) -> TabularData:
    """Pomeroy et al. 2002 multi-class CNS set (GEMS Brain_Tumor1): 90 samples x 5920 genes.

    Labels are 0..4 in the order of :data:`BRAIN_TUMOR1_CLASSES` (the 1-vs-2 naming follows the
    GEMS ordering and is assumed, as the data README says).
    """
    path = require_file(
        data_dir,
        BRAIN_TUMOR1_FILE,
        "the GEMS collection (Statnikov et al. 2005), Brain_Tumor1: Pomeroy et al., Nature 2002",
    )
    raw = np.loadtxt(path, delimiter=",")
    X, y = raw[:, :-1], raw[:, -1].astype(int)
    return TabularData(X, y, [f"gene_{j}" for j in range(X.shape[1])], "Brain_Tumor1 (Pomeroy 2002)")
